/**
 * No secret in logs or metrics: `prescale serve` (child process) logs at debug level to a captured
 * stdout while it proxies, takes admin API calls (missing, wrong and right bearer token), and its
 * provider fails; then /metrics, /v1/status and /v1/decisions are scraped. Neither the output nor
 * those answers may contain the admin token, the webhook HMAC secret, a token in the webhook URL,
 * or the AWS credentials (from the environment). The same holds with `workers: 2`, where the
 * cluster workers log and serve /metrics through the primary; every logger in src/ is built by
 * the one redacting factory (src/runtime/logger.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startAwsEndpoint } from '../helpers/aws-endpoint.js';
import { recordScenario } from '../helpers/reliability.js';
import { startServer } from '../helpers/servers.js';

const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;
const ADMIN_TOKEN = 'adm1n-T0ken-9f8e7d6c5b4a39281706';
const WEBHOOK_SECRET = 'whsec-5e5e5e5e-hmac-key-0a1b2c3d';
const URL_TOKEN = 'urlTokenQ7Z1x9w8v7u6';
const AWS_KEY_ID = 'AKIAPRESCALETEST7777';
const AWS_SECRET = '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';
const AWS_SESSION = 'IQoJb3JpZ2luX2VjEPrescaleSessionToken00';
const SECRETS = [ADMIN_TOKEN, WEBHOOK_SECRET, URL_TOKEN, AWS_KEY_ID, AWS_SECRET, AWS_SESSION];
const { PRESCALE_ADMIN_TOKEN: _t, PRESCALE_WEBHOOK_SECRET: _s, AWS_PROFILE: _p, ...baseEnv } = process.env;

let dir: string;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-secrets-'));
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await rm(dir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  output: () => string;
  proxy: string;
  admin: string;
  stop(): Promise<number | null>;
}

/** `prescale serve` with `yaml` and extra env; resolves once it logged "prescale listening". */
async function serve(name: string, yaml: string[], env: Record<string, string>): Promise<Served> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, [...yaml, `series: { intervalMs: 250, logDir: "${join(dir, name, 'traffic')}" }`, 'log: { level: debug }', ''].join('\n'));
  const child = spawn(process.execPath, [bin, 'serve', '--config', file], { env: { ...baseEnv, ...env, AWS_EC2_METADATA_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  closers.push(async () => void child.kill('SIGKILL'));
  const deadline = Date.now() + 40_000; // a busy machine can take this long to load the app
  let ports: { proxyPort: number; adminPort: number } | undefined;
  while (ports === undefined) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`prescale serve did not start:\n${out}`);
    const line = out.split('\n').find((l) => l.includes('"prescale listening"'));
    ports = line ? (JSON.parse(line) as { proxyPort: number; adminPort: number }) : undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    proxy: `http://127.0.0.1:${ports.proxyPort}`,
    admin: `http://127.0.0.1:${ports.adminPort}`,
    stop: () => (child.kill('SIGTERM'), exited),
  };
}

async function call(url: string, init: { method?: 'GET' | 'POST' | 'DELETE'; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) };
  const res = await request(url, { method: init.method ?? 'GET', headers, ...(init.body ? { body: JSON.stringify(init.body) } : {}) });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Proxied requests carrying credentials, admin calls with no, a wrong and the right token, and the read-only endpoints. */
async function exercise(app: Served, extraBackend: string): Promise<{ sent: number; answers: string }> {
  let sent = 0;
  for (let i = 0; i < 10; i++, sent++) await call(`${app.proxy}/x?i=${i}`, { token: ADMIN_TOKEN, headers: { cookie: `session=${ADMIN_TOKEN}` } });
  const body = { id: 'extra-1', url: extraBackend };
  expect((await call(`${app.admin}/v1/backends`, { method: 'POST', body })).status).toBe(401);
  expect((await call(`${app.admin}/v1/backends`, { method: 'POST', body, token: `${ADMIN_TOKEN}x` })).status).toBe(403);
  expect((await call(`${app.admin}/v1/backends`, { method: 'POST', body, token: ADMIN_TOKEN })).status).toBe(201);
  expect((await call(`${app.admin}/v1/backends/extra-1`, { method: 'DELETE', token: ADMIN_TOKEN })).status).toBeLessThan(300);
  sent += 4;
  const answers = await Promise.all(['/metrics', '/v1/status', '/v1/decisions', '/v1/backends'].map(async (path) => (await call(`${app.admin}${path}`)).text));
  return { sent: sent + answers.length, answers: answers.join('\n') };
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `found ${secret.slice(0, 6)}…`).toBe(false);
}

/**
 * `prescale serve` with `workers` worker processes, the webhook provider (HMAC secret from the
 * environment, a token in its URL) and the admin token in the file: exercise() it, make the
 * provider fail for 1.2 s, scrape /metrics, SIGTERM. Asserts exit 0, debug lines written, the
 * provider failure logged and no secret anywhere; returns the requests sent and the output.
 */
async function webhookCase(name: string, workers: number): Promise<{ sent: number; output: string }> {
  const backend = await startServer((req, res) => void req.resume().on('end', () => res.end('ok')));
  closers.push(() => backend.close());
  let failing = false;
  const hook = await startServer((req, res) => {
    req.resume().on('end', () => {
      if (failing) return void res.writeHead(req.headers['x-prescale-signature'] ? 500 : 401).end(`upstream error; you sent ${JSON.stringify(req.headers)}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ instances: [{ id: 'w-1', url: backend.url, state: 'running' }], ok: true }));
    });
  });
  closers.push(() => hook.close());
  const app = await serve(name, [
    `workers: ${workers}`,
    'listen: { host: 127.0.0.1, port: 0 }',
    `admin: { host: 127.0.0.1, port: 0, token: "${ADMIN_TOKEN}" }`,
    'upstream: { healthCheck: { intervalMs: 50, rise: 1 } }',
    'scaler: { policy: reactive, capacityPerBackendRps: 100, minBackends: 1, maxBackends: 3, leadTimeMs: 1s }',
    `provider: { kind: webhook, url: "${hook.url}/hook?apiKey=${URL_TOKEN}", secret: "placeholder-secret-in-file-000", timeoutMs: 200, retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 } }`,
  ], { PRESCALE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  const { sent, answers } = await exercise(app, backend.url);
  failing = true; // the provider fails: errors are logged with their causes
  await new Promise((r) => setTimeout(r, 1200));
  const metrics = (await call(`${app.admin}/metrics`)).text;
  expect(await app.stop()).toBe(0);
  const output = app.output();
  expect(output).toContain('"level":20'); // debug lines were written
  expect(output).toContain('provider call failed; retrying');
  expectNoSecret(output);
  expectNoSecret(answers);
  expectNoSecret(metrics);
  return { sent, output };
}

describe('secrets stay out of logs and metrics', () => {
  it('censors credentials in anything logged by mistake: a config, its slices, headers', () => {
    const parsed = validateConfig({ admin: { token: ADMIN_TOKEN }, scaler: { capacityPerBackendRps: 1 }, provider: { kind: 'webhook', url: 'http://127.0.0.1:9/', secret: WEBHOOK_SECRET } });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) }, { worker: 0 }); // as a cluster worker builds its logger
    logger.debug({ config: parsed.config }, 'config');
    logger.debug({ admin: parsed.config.admin, provider: parsed.config.provider }, 'slices');
    logger.debug({ req: { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: `s=${AWS_SECRET}` } }, credentials: { accessKeyId: 'x', secretAccessKey: AWS_SECRET, sessionToken: AWS_SESSION } }, 'request');
    expect(lines).toHaveLength(3);
    expectNoSecret(lines.join(''));
    expect(lines.join('')).toContain('[redacted]');
  });

  it('webhook provider: admin token in the file, HMAC secret in the env, a token in the webhook URL', { timeout: 60_000 }, async () => {
    const { sent } = await webhookCase('webhook', 1);
    recordScenario({ id: 'secrets-webhook', group: 'security', scenario: 'serve with admin token, webhook HMAC secret and a URL token; debug logs captured; /metrics and /v1 scraped', load: `${sent} proxied, admin and scrape requests`, faults: 'admin calls with no and a wrong token; provider answers 500 and 401', sent, failed: 0, lost: 0, expectation: 'no secret in logs, metrics or admin answers' });
  });

  it('workers: 2: both cluster workers log at debug level and serve /metrics through the primary, with no secret', { timeout: 90_000 }, async () => {
    const { sent, output } = await webhookCase('webhook-workers', 2);
    // each worker logged through its own logger (stopping on SIGTERM), into the captured output checked above
    const stopping = output.split('\n').filter((l) => l.includes('"msg":"worker stopping')).map((l) => (JSON.parse(l) as { worker: number }).worker);
    expect(new Set(stopping).size).toBe(2);
    recordScenario({ id: 'secrets-webhook-workers', group: 'security', scenario: 'the same with `workers: 2`: both cluster workers log at debug level, /metrics aggregates their registries', load: `${sent} proxied, admin and scrape requests`, faults: 'admin calls with no and a wrong token; provider answers 500 and 401', sent, failed: 0, lost: 0, expectation: 'no secret in the primary\'s or the workers\' logs, metrics or admin answers' });
  });

  it('every logger in src/ is built by the redacting factory (src/runtime/logger.ts)', async () => {
    const srcDir = new URL('../../src', import.meta.url).pathname;
    const files = (await readdir(srcDir, { recursive: true })).filter((f) => f.endsWith('.ts') && f !== join('runtime', 'logger.ts'));
    const direct: string[] = [];
    for (const file of files) {
      const text = await readFile(join(srcDir, file), 'utf8');
      // a value import of pino (not `import type`) or a dynamic import is how a logger without redaction gets built
      if (/^import\s+(?!type\b)[^;]*from\s+['"]pino['"]/m.test(text) || /import\(\s*['"]pino['"]\s*\)/.test(text)) direct.push(relative(srcDir, join(srcDir, file)));
    }
    expect(files.length).toBeGreaterThan(50);
    expect(direct).toEqual([]);
  });

  it('aws provider: credentials in the environment, admin token in PRESCALE_ADMIN_TOKEN', { timeout: 60_000 }, async () => {
    const backend = await startServer((req, res) => void req.resume().on('end', () => res.end('ok')));
    closers.push(() => backend.close());
    const aws = await startAwsEndpoint({ groupName: 'web', minSize: 1, maxSize: 1, instances: [{ id: 'i-00000000000000001', privateIp: '127.0.0.1' }] });
    closers.push(() => aws.close());
    const app = await serve('aws', [
      'listen: { host: 127.0.0.1, port: 0 }',
      'admin: { host: 127.0.0.1, port: 0 }',
      'upstream: { healthCheck: { intervalMs: 50, rise: 1 } }',
      'scaler: { policy: reactive, capacityPerBackendRps: 100, minBackends: 1, maxBackends: 1, leadTimeMs: 1s }',
      `provider: { kind: aws, groupName: web, region: us-east-1, port: ${new URL(backend.url).port}, endpoint: "${aws.url}", retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 } }`,
    ], { PRESCALE_ADMIN_TOKEN: ADMIN_TOKEN, AWS_ACCESS_KEY_ID: AWS_KEY_ID, AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_SESSION_TOKEN: AWS_SESSION });
    // failures after the start (a provider failing at start makes serve exit 2)
    aws.failNext('DescribeAutoScalingGroups', { code: 'Throttling', message: 'Rate exceeded' }, 2);
    aws.failNext('DescribeInstances', { code: 'AuthFailure', message: 'AWS was not able to validate the provided access credentials', status: 401 }, 2);
    const { sent, answers } = await exercise(app, backend.url);
    aws.failNext('DescribeAutoScalingGroups', { code: 'InternalFailure', message: 'We encountered an internal error', status: 500 }, 4);
    await new Promise((r) => setTimeout(r, 1200));
    const metrics = (await call(`${app.admin}/metrics`)).text;
    expect(await app.stop()).toBe(0);
    const output = app.output();
    expect(aws.requests.some((r) => r.authorization?.includes(AWS_KEY_ID))).toBe(true); // the keys were really used
    expect(output).toContain('"level":20');
    expect(output).toMatch(/Throttling|InternalFailure|AuthFailure/);
    expectNoSecret(output);
    expectNoSecret(answers);
    expectNoSecret(metrics);
    recordScenario({ id: 'secrets-aws', group: 'security', scenario: 'serve with AWS keys and session token in the environment and the admin token in PRESCALE_ADMIN_TOKEN; debug logs captured', load: `${sent} proxied, admin and scrape requests`, faults: 'AWS answers Throttling, AuthFailure and InternalFailure; admin calls with no and a wrong token', sent, failed: 0, lost: 0, expectation: 'no credential in logs, metrics or admin answers' });
  });
});
