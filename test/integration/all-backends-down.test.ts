import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { recordScenario } from '../helpers/reliability.js';

/**
 * The whole service (startApp) with two static backends and fast active health checks: every
 * backend goes down, clients get 503 PRESCALE_ERR_NO_HEALTHY_BACKEND (502 with the code before
 * the checks notice), and traffic recovers as soon as one backend is back on its port.
 */
const CHECK_INTERVAL_MS = 100;

/** A backend named `name` on 127.0.0.1:`port` (0 = any): /healthz 200, anything else `ok <name>`. */
async function backendOn(port: number, name: string): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    res.end(req.url === '/healthz' ? 'healthy' : `ok ${name}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    server,
    port: bound,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Answer {
  /** When the request was sent and answered, epoch ms. */
  sentAtMs: number;
  atMs: number;
  status: number;
  code: string;
}

/** `clients` closed-loop GET clients until `stop()`; every answer with its time (status 0: no response). */
function loadUntilStopped(url: string, clients: number) {
  const answers: Answer[] = [];
  let running = true;
  const workers = Array.from({ length: clients }, async () => {
    while (running) {
      const sentAtMs = Date.now();
      const answer = await request(`${url}/`, { headersTimeout: 5000, bodyTimeout: 5000 })
        .then(async (r) => {
          const text = await r.body.text();
          const code = r.statusCode >= 500 ? ((JSON.parse(text) as { error: { code: string } }).error.code) : '';
          return { sentAtMs, atMs: Date.now(), status: r.statusCode, code };
        })
        .catch(() => ({ sentAtMs, atMs: Date.now(), status: 0, code: '' }));
      answers.push(answer);
      if (answer.status !== 200) await new Promise((r) => setTimeout(r, 5)); // do not spin on instant errors
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

describe('all backends down', () => {
  let app: App;
  let a: Awaited<ReturnType<typeof backendOn>>;
  let b: Awaited<ReturnType<typeof backendOn>>;

  beforeAll(async () => {
    a = await backendOn(0, 'a');
    b = await backendOn(0, 'b');
    app = await startConfiguredApp(
      {
        listen: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        upstream: {
          backends: [{ url: `http://127.0.0.1:${a.port}` }, { url: `http://127.0.0.1:${b.port}` }],
          connectTimeoutMs: 200,
          healthCheck: { intervalMs: CHECK_INTERVAL_MS, timeoutMs: 200, rise: 1, fall: 1 },
        },
        series: { logDir: freshLogDir() },
        forecast: { historyFrom: 'none' },
        scaler: { capacityPerBackendRps: 100, leadTimeMs: '2s' },
      },
      { readyBackends: 2 },
    );
  });
  afterAll(async () => {
    await app?.stop();
    await a?.close();
    await b?.close();
  });

  it('answers 503 PRESCALE_ERR_NO_HEALTHY_BACKEND while all are down and recovers as soon as one returns', async () => {
    expect(app.upstream.readyCount()).toBe(2);
    for (let i = 0; i < 10; i++) await request(`http://127.0.0.1:${app.proxyPort}/`).then((r) => r.body.dump()); // warm up
    const load = loadUntilStopped(`http://127.0.0.1:${app.proxyPort}`, 4);
    await new Promise((r) => setTimeout(r, 300));
    const downAtMs = Date.now();
    await Promise.all([a.close(), b.close()]);
    await new Promise((r) => setTimeout(r, 1200));
    // bring back the one passive health ejected, if any: its return must not wait out the ejection
    const ejected = app.upstream.backends.filter((x) => x.ejectedUntilMs > Date.now()).map((x) => x.id);
    const returning = ejected.includes('static-2') ? 'b' : 'a';
    const upAtMs = Date.now();
    if (returning === 'a') a = await backendOn(a.port, 'a-again');
    else b = await backendOn(b.port, 'b-again');
    const deadline = Date.now() + 5000;
    while (!load.answers.some((x) => x.atMs > upAtMs && x.status === 200) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();

    const before = load.answers.filter((x) => x.atMs < downAtMs);
    const outage = load.answers.filter((x) => x.sentAtMs >= downAtMs && x.sentAtMs < upAtMs);
    const firstOkMs = load.answers.find((x) => x.sentAtMs > upAtMs && x.status === 200)?.atMs;
    const recoveryMs = firstOkMs === undefined ? Infinity : firstOkMs - upAtMs;
    const afterRecovery = load.answers.filter((x) => firstOkMs !== undefined && x.sentAtMs > firstOkMs + 50);
    const settledOutage = outage.filter((x) => x.sentAtMs > downAtMs + 3 * CHECK_INTERVAL_MS + 300);
    recordScenario({
      id: 'backend-all-down',
      group: 'faults',
      scenario: 'Both backends stop; after 1.2 s one comes back on its port (whole service, active health checks every 100 ms, rise 1, fall 1)',
      load: '4 closed-loop clients, GET',
      faults: `all backends down for 1.2 s (passive health had ejected ${ejected.join(', ') || 'none'}); ${returning} returned; recovery ${recoveryMs} ms`,
      sent: load.answers.length,
      failed: load.answers.filter((x) => x.status !== 200).length,
      lost: load.answers.filter((x) => x.status === 0).length,
      expectation: 'during the outage every answer is a 502/503 with its code (503 PRESCALE_ERR_NO_HEALTHY_BACKEND once the checks notice); none lost; 200s again within 1 s of a backend returning',
    });

    expect(before.length).toBeGreaterThan(0);
    expect(before.every((x) => x.status === 200)).toBe(true);
    expect(outage.every((x) => (x.status === 503 && x.code === 'PRESCALE_ERR_NO_HEALTHY_BACKEND') || (x.status === 502 && x.code === 'PRESCALE_ERR_UPSTREAM_CONNECT'))).toBe(true);
    expect(settledOutage.length).toBeGreaterThan(0);
    expect(settledOutage.every((x) => x.status === 503 && x.code === 'PRESCALE_ERR_NO_HEALTHY_BACKEND')).toBe(true);
    expect(recoveryMs).toBeLessThan(1000);
    expect(afterRecovery.length).toBeGreaterThan(0);
    expect(afterRecovery.every((x) => x.status === 200)).toBe(true);
    expect(load.answers.filter((x) => x.status === 0)).toEqual([]);
  });
});
