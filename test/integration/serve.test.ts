import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { waitFor } from '../helpers/wait-for.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { fastAppConfig, startConfiguredApp } from '../helpers/app.js';
import { startOkBackend, startServer } from '../helpers/servers.js';

const run = promisify(execFile);
const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;

describe('serve: static backends, admin API and traffic log', () => {
  let app: App;
  let logDir: string;
  let backend: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      req.resume();
      res.end(req.url === '/healthz' ? 'ok' : 'hello');
    });
    logDir = join(await mkdtemp(join(tmpdir(), 'prescale-serve-')), 'traffic');
    app = await startConfiguredApp({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { backends: [{ url: backend.url }], healthCheck: { intervalMs: 50, rise: 1 } },
      series: { intervalMs: 200, logDir },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '2s' },
    }, { readyBackends: 1 });
  });

  afterAll(async () => {
    await app?.stop();
    await backend?.close();
  });

  it('proxies on the proxy port and serves the admin API only on the admin port', async () => {
    const proxied = await request(`http://127.0.0.1:${app.proxyPort}/x`);
    expect(await proxied.body.text()).toBe('hello');
    expect(app.adminPort).not.toBe(app.proxyPort);
    const health = await request(`http://127.0.0.1:${app.adminPort}/healthz`);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    // /metrics on the proxy port is forwarded to the backend, never answered by prescale
    const notAdmin = await request(`http://127.0.0.1:${app.proxyPort}/metrics`);
    expect(await notAdmin.body.text()).toBe('hello');
  });

  it('exports Prometheus metrics named by convention', async () => {
    for (let i = 0; i < 5; i++) await (await request(`http://127.0.0.1:${app.proxyPort}/m`)).body.dump();
    const text = await (await request(`http://127.0.0.1:${app.adminPort}/metrics`)).body.text();
    expect(text).toMatch(/prescale_requests_total\{backend="static-1",code="2xx"\} \d+/);
    expect(text).toContain('prescale_request_duration_seconds_bucket');
    expect(text).toContain('prescale_requests_in_flight');
    expect(text).toMatch(/prescale_backend_up\{backend="static-1"\} 1/);
    expect(text).toMatch(/prescale_backend_weight\{backend="static-1"\} 1/);
    expect(text).toContain('prescale_capacity_desired_backends');
    expect(text).toContain('prescale_capacity_ready_backends 1');
  });

  it('appends closed buckets to the per-day traffic log', async () => {
    for (let i = 0; i < 10; i++) await (await request(`http://127.0.0.1:${app.proxyPort}/log`)).body.dump();
    const logged = async (): Promise<number> => {
      const files = (await readdir(logDir).catch(() => [] as string[])).filter((f) => /^\d{4}-\d{2}-\d{2}\.ndjson$/.test(f));
      const lines = (await Promise.all(files.map((f) => readFile(join(logDir, f), 'utf8')))).join('').trim().split('\n').filter((l) => l.length > 0);
      return lines.map((l) => JSON.parse(l) as { requests: number }).reduce((s, b) => s + b.requests, 0);
    };
    await waitFor(async () => (await logged()) >= 10, 10_000);
    expect(await logged()).toBeGreaterThanOrEqual(10);
  });

  it('status JSON shows backends and the latest decision with its reason', async () => {
    type Status = { backends: Array<{ id: string; healthy: boolean }>; lastTick: { decision: { reason: string } } | null };
    const read = async () => (await (await request(`http://127.0.0.1:${app.adminPort}/v1/status`)).body.json()) as Status;
    const status = (await waitFor(async () => {
      const s = await read();
      return s.lastTick ? s : undefined;
    })) ?? (await read());
    expect(status.backends[0]).toMatchObject({ id: 'static-1', healthy: true });
    expect(status.lastTick?.decision.reason).toMatch(/^[a-z-]+$/);
  });
});

describe('serve: recent decisions', () => {
  it('GET /v1/decisions returns the recent decisions with inputs, rule and reason', async () => {
    const backend = await startOkBackend();
    const app = await startConfiguredApp({
      ...fastAppConfig(backend.url),
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '1s', policy: 'forecast-only' },
    });
    try {
      type Body = { decisions: Array<{ observedRps: number; decision: { desired: number; reason: string; detail: string } }> };
      const read = async () => (await (await request(`http://127.0.0.1:${app.adminPort}/v1/decisions?limit=2`)).body.json()) as Body;
      await waitFor(async () => (await read()).decisions.length >= 2, 10_000);
      const body = await read();
      expect(body.decisions.length).toBe(2);
      for (const d of body.decisions) {
        expect(d.decision.reason).toMatch(/^[a-z-]+$/);
        expect(d.decision.detail.length).toBeGreaterThan(0);
        expect(typeof d.observedRps).toBe('number');
      }
    } finally {
      await app.stop();
      await backend.close();
    }
  });
});

describe('CLI: bad input exits 2 and says what to fix', () => {
  it('validate lists every problem with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prescale-cli-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'scaler:\n  leadTimeMs: fast\nupstream:\n  retries: 9\n');
    const err = (await run(process.execPath, [bin, 'validate', file]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('scaler.leadTimeMs');
    expect(err.stderr).toContain('upstream.retries');
    expect(err.stderr).toContain('scaler.capacityPerBackendRps');
  });

  it('demo with a missing trace names the file', async () => {
    const err = (await run(process.execPath, [bin, 'demo', '--trace', '/nonexistent/trace.csv']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('/nonexistent/trace.csv');
  });

  it('demo with a malformed trace names the file and line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prescale-cli-'));
    const file = join(dir, 'trace.csv');
    await writeFile(file, 'timestamp,requests\n2020-01-01T00:00:00Z,5\n2020-01-01T00:01:00Z,five\n');
    const err = (await run(process.execPath, [bin, 'demo', '--trace', file]).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain(`${file}:3`);
  });
});
