import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startSampleBackend, type SampleBackend, type SampleBackendOptions } from '../../src/backend/sample-backend.js';

const agent = new Agent();
let backends: SampleBackend[] = [];

async function start(overrides: Partial<SampleBackendOptions> = {}): Promise<SampleBackend> {
  const backend = await startSampleBackend({
    id: 'b-1', concurrency: 2, serviceTimeMs: 50, queueLimit: 10, queueTimeoutMs: 1_000, ...overrides,
  });
  backends.push(backend);
  return backend;
}

async function timed(url: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  const res = await request(url, { method, dispatcher: agent });
  const body = await res.body.text();
  return { status: res.statusCode, ms: performance.now() - t0, body };
}

afterAll(() => agent.close());

afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
});

describe('sample backend', () => {
  it('serves `concurrency` requests at once and queues the next one for a full service time', async () => {
    const b = await start();
    // watch the backend's own counters while the three requests run
    let maxInFlight = 0;
    let maxQueued = 0;
    const watch = setInterval(() => {
      const st = b.stats();
      maxInFlight = Math.max(maxInFlight, st.inFlight);
      maxQueued = Math.max(maxQueued, st.queued);
    }, 2);
    const results = await Promise.all([timed(`${b.url}/a`), timed(`${b.url}/b`), timed(`${b.url}/c`)]);
    clearInterval(watch);
    const ms = results.map((r) => r.ms).sort((x, y) => x - y);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(maxInFlight).toBe(2);
    expect(maxQueued).toBe(1);
    // The third waited for a slot (one service time), then was served (another one): ≈ 100 ms.
    // A lower bound only: on a loaded machine Node timers were seen firing up to ~13 ms early.
    expect(ms[2]).toBeGreaterThanOrEqual(80);
    expect(ms[2]).toBeLessThan(400); // generous: the machine may be busy
    expect(b.stats()).toMatchObject({ served: 3, rejected: 0, inFlight: 0, queued: 0 });
  });

  it('answers JSON naming the backend and the path', async () => {
    const b = await start({ id: 'local-7', serviceTimeMs: 0 });
    const r = await timed(`${b.url}/hello?x=1`);
    expect(JSON.parse(r.body)).toEqual({ backend: 'local-7', path: '/hello?x=1' });
  });

  it('rejects with 503 at once when the queue is full', async () => {
    const b = await start({ concurrency: 1, queueLimit: 1, serviceTimeMs: 100 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => timed(`${b.url}/${i}`)));
    const rejected = results.filter((r) => r.status === 503);
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    expect(rejected).toHaveLength(2);
    const fastestServedMs = Math.min(...results.filter((r) => r.status === 200).map((r) => r.ms));
    expect(fastestServedMs).toBeGreaterThanOrEqual(80);
    for (const r of rejected) {
      expect(r.ms).toBeLessThan(fastestServedMs); // answered without waiting for a slot
      expect(JSON.parse(r.body)).toMatchObject({ error: 'queue-full' });
    }
    expect(b.stats()).toMatchObject({ served: 2, rejected: 2 });
  });

  it('answers 503 when a request waited longer than queueTimeoutMs', async () => {
    const b = await start({ concurrency: 1, serviceTimeMs: 200, queueTimeoutMs: 40 });
    const [first, second] = await Promise.all([timed(`${b.url}/slow`), timed(`${b.url}/late`)]);
    expect(first?.status).toBe(200);
    expect(second?.status).toBe(503);
    expect(second?.ms).toBeGreaterThanOrEqual(25);
    expect(second?.ms).toBeLessThan(350); // queued to the end it would take ≥ 400 ms
    expect(JSON.parse(second?.body ?? '{}')).toMatchObject({ error: 'queue-timeout' });
  });

  it('answers /healthz at once while every slot and the queue are busy', async () => {
    const b = await start({ concurrency: 1, queueLimit: 1, serviceTimeMs: 200 });
    const busy = [timed(`${b.url}/x`), timed(`${b.url}/y`)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(b.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    const health = await timed(`${b.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.ms).toBeLessThan(150); // queued it would take ≥ 400 ms
    await Promise.all(busy);
  });

  it('streams /bytes/N', async () => {
    const b = await start({ serviceTimeMs: 0 });
    const res = await request(`${b.url}/bytes/300000`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect((await res.body.arrayBuffer()).byteLength).toBe(300_000);
  });

  it('echoes a POST /echo body back while it is still being sent', async () => {
    const b = await start({ serviceTimeMs: 10 });
    const received = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${b.url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          // The first half came back before the second half was written: not buffered whole.
          if (text === 'first-half;') req.end('second-half');
        });
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.write('first-half;');
    });
    expect(received).toBe('first-half;second-half');
  });

  it('finishes in-flight and queued requests on close, then refuses connections', async () => {
    const b = await start({ concurrency: 1, serviceTimeMs: 60 });
    const pending = [timed(`${b.url}/1`), timed(`${b.url}/2`)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    await b.close();
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200]);
    const fresh = new Agent();
    await expect(request(`${b.url}/3`, { dispatcher: fresh })).rejects.toThrow();
    await fresh.close();
  });
});
