import { connect, createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';

describe('serve in TCP mode: a TCP echo service behind prescale, TCP connect health checks', () => {
  let app: App;
  let echo: Server;

  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as AddressInfo).port;
    app = await startConfiguredApp({
      listen: { host: '127.0.0.1', port: 0, mode: 'tcp' },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { algorithm: 'ip-hash', backends: [{ url: `tcp://127.0.0.1:${port}` }], healthCheck: { kind: 'tcp', intervalMs: 30, rise: 1 } },
      series: { intervalMs: 200, logDir: freshLogDir() },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '2s' },
    }, { readyBackends: 1 });
  });
  afterAll(async () => {
    await app?.stop();
    echo?.close();
  });

  it('echoes bytes through the TCP listener and records each connection in the traffic series', async () => {
    expect(app.upstream.readyCount()).toBe(1);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(app.proxyPort, '127.0.0.1', () => s.end('ping over tcp'));
      let buf = '';
      s.on('data', (d) => (buf += d.toString()));
      s.on('end', () => resolve(buf));
      s.on('error', reject);
    });
    expect(reply).toBe('ping over tcp');
    await new Promise((r) => setTimeout(r, 450));
    const total = app.series.buckets().reduce((sum, b) => sum + b.requests, 0);
    expect(total).toBeGreaterThanOrEqual(1);
  });

  it('rejects header hashing in TCP mode with a clear problem', () => {
    const r = validateConfig({ listen: { mode: 'tcp' }, scaler: { capacityPerBackendRps: 1 }, upstream: { backends: [{ url: 'tcp://127.0.0.1:1' }], hashKey: { source: 'header', name: 'x' } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain('upstream.hashKey.source');
  });
});
