import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Envoy's successful_active_health_check_uneject_host: a backend ejected by passive health (5xx
 * on live traffic) comes back at its next passed active check, not when a long ejection runs out,
 * even though its active checks never failed (so its health state never changed).
 */
describe('a passed active health check lifts a passive ejection', () => {
  const servers: Server[] = [];
  let app: App | undefined;
  afterAll(async () => {
    await app?.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  async function backend(answer: () => number): Promise<{ port: number; hits: () => number }> {
    let hits = 0;
    const server = createServer((req, res) => {
      req.resume();
      if (req.url === '/healthz') return res.end('healthy');
      hits++;
      res.statusCode = answer();
      res.end('x');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as { port: number }).port, hits: () => hits };
  }

  it('ejects a backend that answers 500, then routes to it again within a few checks once it recovers', async () => {
    let status = 500;
    const flaky = await backend(() => status);
    const steady = await backend(() => 200);
    app = await startConfiguredApp({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: {
        algorithm: 'round-robin',
        backends: [{ url: `http://127.0.0.1:${flaky.port}` }, { url: `http://127.0.0.1:${steady.port}` }],
        healthCheck: { intervalMs: 100, timeoutMs: 200, rise: 1, fall: 1 },
        passiveHealth: { maxFails: 0, consecutive5xx: 3, baseEjectionMs: '60s', maxEjectionPercent: 50 },
        retryOn: [],
      },
      series: { logDir: freshLogDir() },
      forecast: { historyFrom: 'none' },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '2s' },
    });
    const get = async () => (await request(`http://127.0.0.1:${app!.proxyPort}/`)).body.dump();
    // drive traffic until the flaky one is ejected: it stops receiving requests
    const ejected = await waitFor(async () => {
      for (let i = 0; i < 10; i++) await get();
      const before = flaky.hits();
      for (let i = 0; i < 10; i++) await get();
      return flaky.hits() === before;
    }, 5_000);
    expect(ejected).toBe(true);
    status = 200;
    const since = flaky.hits();
    const started = Date.now();
    // with the 60 s ejection it would idle for a minute; a passed check (every 100 ms) brings it back
    const back = await waitFor(async () => {
      for (let i = 0; i < 4; i++) await get();
      return flaky.hits() > since;
    }, 3_000);
    expect(back, `routed to again after ${Date.now() - started} ms`).toBe(true);
  });
});
