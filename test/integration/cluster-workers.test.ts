import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../helpers/servers.js';

const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;
const TOKEN = 'cluster-test-token-0123456789';
const N = 200;

interface WorkerView { index: number; pid: number | null; state: string; requests: number; inFlight: number; restarts: number }
interface Status { workers: WorkerView[]; backends: { id: string; inFlight: number; weight: number }[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Sum of every sample of `name` (all label sets) in a Prometheus text exposition. */
function sumOf(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('prescale serve with workers: 2 (node:cluster)', () => {
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let proxy = '';
  let admin = '';
  let logDir = '';
  const backends: Awaited<ReturnType<typeof startServer>>[] = [];
  const getJson = async <T>(path: string): Promise<T> => (await (await request(`${admin}${path}`)).body.json()) as T;
  const metrics = async (): Promise<string> => (await request(`${admin}/metrics`)).body.text();
  const status = () => getJson<Status>('/v1/status');

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      backends.push(await startServer((req, res) => {
        req.resume();
        if (req.url === '/slow') setTimeout(() => res.end('slow'), 1_200);
        else res.end(`ok ${i + 1}`);
      }));
    }
    const dir = await mkdtemp(join(tmpdir(), 'prescale-cluster-'));
    logDir = join(dir, 'traffic');
    const config = join(dir, 'prescale.yaml');
    await writeFile(config, [
      'workers: 2',
      'listen: { host: 127.0.0.1, port: 0 }',
      `admin: { host: 127.0.0.1, port: 0, token: "${TOKEN}" }`,
      `upstream: { backends: [ { url: "${backends[0]?.url}" }, { url: "${backends[1]?.url}" } ], healthCheck: { intervalMs: 50, rise: 1 } }`,
      `series: { intervalMs: 1s, logDir: "${logDir}" }`,
      'forecast: { historyFrom: none }',
      'scaler: { capacityPerBackendRps: 1000, leadTimeMs: 2s, drainTimeoutMs: 10s }',
      'log: { level: info }',
    ].join('\n'));
    child = spawn(process.execPath, [bin, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const ports = await new Promise<{ proxyPort: number; adminPort: number }>((resolve, reject) => {
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.includes('"prescale listening"')) resolve(JSON.parse(line) as { proxyPort: number; adminPort: number });
      });
      child.once('exit', (code) => reject(new Error(`prescale serve exited with ${code} before listening`)));
    });
    proxy = `http://127.0.0.1:${ports.proxyPort}`;
    admin = `http://127.0.0.1:${ports.adminPort}`;
    // every worker's own health checks passed: the aggregated backend_up is the minimum over workers
    await until('both backends up in both workers', 15_000, async () => (sumOf(await metrics(), 'prescale_backend_up') === 2 ? true : undefined));
  }, 45_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await Promise.all(backends.map((b) => b.close()));
  });

  it('answers every request through both workers and counts each once in /metrics, /v1/status and the traffic log', async () => {
    const clients = new Pool(proxy, { connections: 8 });
    const statuses = await Promise.all(Array.from({ length: N }, async () => {
      const res = await clients.request({ path: '/', method: 'GET' });
      await res.body.text();
      return res.statusCode;
    }));
    await clients.close();
    expect(statuses.filter((s) => s === 200)).toHaveLength(N);

    const workers = await until('every request reported', 5_000, async () => {
      const s = await status();
      return s.workers.reduce((n, w) => n + w.requests, 0) === N ? s.workers : undefined;
    });
    expect(workers).toHaveLength(2);
    expect(new Set(workers.map((w) => w.pid)).size).toBe(2);
    for (const w of workers) expect(w.requests, `worker ${w.index}`).toBeGreaterThan(0);

    const text = await metrics();
    expect(sumOf(text, 'prescale_requests_total')).toBe(N);
    expect(sumOf(text, 'prescale_request_duration_seconds_count')).toBe(N);
    expect(sumOf(text, 'prescale_cluster_workers')).toBe(2);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(promtool.status, promtool.stderr + promtool.stdout).toBe(0);

    // the control plane closes the 1 s intervals with every worker's traffic merged
    const logged = await until('the traffic log to hold every request', 6_000, async () => {
      const files = await readdir(logDir).catch(() => []);
      let total = 0;
      for (const f of files) for (const line of (await readFile(join(logDir, f), 'utf8')).split('\n')) if (line.trim() !== '') total += (JSON.parse(line) as { requests: number }).requests;
      return total === N ? total : undefined;
    });
    expect(logged).toBe(N);
  });

  it('applies a weight change on every worker and removes a backend only after every worker drained it', async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const put = await request(`${admin}/v1/backends/static-2/weight`, { method: 'PUT', headers: auth, body: JSON.stringify({ weight: 0 }) });
    expect(put.statusCode).toBe(200);
    await put.body.text();
    // eight slow requests on eight connections: round robin puts four on each worker, all on static-1
    const slow = Array.from({ length: 8 }, () => request(`${proxy}/slow`, { reset: true }).then(async (r) => [r.statusCode, await r.body.text()] as const));
    const s = await until('slow requests in flight on both workers', 1_000, async () => {
      const v = await status();
      return v.workers.every((w) => w.inFlight > 0) && v.backends.find((b) => b.id === 'static-1')?.inFlight === 8 ? v : undefined;
    });
    expect(s.backends.find((b) => b.id === 'static-2')?.weight).toBe(0);
    const started = Date.now();
    const del = await request(`${admin}/v1/backends/static-1?wait=true&drainTimeoutMs=10000`, { method: 'DELETE', headers: auth });
    expect(await del.body.json()).toEqual({ id: 'static-1', removed: true, drained: true });
    expect(Date.now() - started).toBeGreaterThan(300); // it waited for the requests in flight
    expect(await Promise.all(slow)).toEqual(Array.from({ length: 8 }, () => [200, 'slow']));
    const restore = await request(`${admin}/v1/backends/static-2/weight`, { method: 'PUT', headers: auth, body: JSON.stringify({ weight: 1 }) });
    await restore.body.text();
    // static-1 is gone from every worker: new requests all go to static-2
    const after = await Promise.all(Array.from({ length: 6 }, () => request(`${proxy}/`, { reset: true }).then((r) => r.body.text())));
    expect(after).toEqual(Array.from({ length: 6 }, () => 'ok 2'));
    expect((await status()).backends.map((b) => b.id)).toEqual(['static-2']);
  });

  it('replaces a SIGKILLed worker while the other keeps serving, and its counted requests stay counted', async () => {
    const before = await status();
    const victim = before.workers[0] as WorkerView;
    const counted = sumOf(await metrics(), 'prescale_requests_total');
    process.kill(victim.pid as number, 'SIGKILL');
    let ok = 0;
    let failed = 0;
    const replaced = Date.now() + 20_000;
    // new connections, one at a time, until the worker is back and at least 20 were sent
    for (;;) {
      // node:cluster loses a connection it handed to the worker in the instant it died (the
      // client waits in vain): bound each request
      const code = await request(`${proxy}/`, { reset: true, headersTimeout: 2_000, bodyTimeout: 2_000 }).then(async (r) => (await r.body.text(), r.statusCode), () => 0);
      if (code === 200) ok++;
      else failed++;
      const w = (await status()).workers[0] as WorkerView;
      if (w.state === 'ready' && w.pid !== victim.pid && ok + failed >= 20) break;
      if (Date.now() > replaced) throw new Error('the worker was not replaced');
    }
    expect(failed).toBeLessThanOrEqual(2);
    expect(ok).toBeGreaterThanOrEqual(18);
    const after = Array.from({ length: 20 }, () => request(`${proxy}/`, { reset: true }).then((r) => (r.body.text(), r.statusCode)));
    expect(await Promise.all(after)).toEqual(Array.from({ length: 20 }, () => 200));
    const s = await status();
    expect(s.workers[0]?.restarts).toBe(1);
    expect(s.workers[1]?.pid).toBe(before.workers[1]?.pid);
    const text = await metrics();
    expect(sumOf(text, 'prescale_requests_total')).toBeGreaterThanOrEqual(counted + 20);
    expect(sumOf(text, 'prescale_cluster_worker_restarts_total')).toBe(1);
  });

  it('on SIGTERM finishes the request in flight, stops the workers and exits 0', async () => {
    const pids = (await status()).workers.map((w) => w.pid as number);
    const inFlight = request(`${proxy}/slow`).then(async (r) => [r.statusCode, await r.body.text()] as const);
    await until('the slow request in flight', 1_000, async () => ((await status()).workers.some((w) => w.inFlight > 0) ? true : undefined));
    child.kill('SIGTERM');
    expect(await inFlight).toEqual([200, 'slow']);
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    await expect(request(`${proxy}/`)).rejects.toThrow();
  });
});
