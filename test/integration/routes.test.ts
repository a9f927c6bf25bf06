import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { startServer } from '../helpers/servers.js';

describe('route rules pick a pool by method, path, host or header', () => {
  let app: App;
  const servers: Array<Awaited<ReturnType<typeof startServer>>> = [];

  beforeAll(async () => {
    for (const name of ['replica', 'primary', 'admin-api']) {
      servers.push(await startServer((req, res) => {
        req.resume();
        res.end(name);
      }));
    }
    const [replica, primary, adminApi] = servers;
    app = await startConfiguredApp({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { backends: [{ url: replica!.url }], healthCheck: { intervalMs: 30, rise: 1 } },
      pools: {
        primary: { backends: [{ url: primary!.url }], healthCheck: { intervalMs: 30, rise: 1 } },
        internal: { backends: [{ url: adminApi!.url }], healthCheck: { intervalMs: 30, rise: 1 } },
      },
      routes: [
        { match: { header: { name: 'x-internal', value: 'yes' } }, pool: 'internal' },
        { match: { host: 'ops.example', pathPrefix: '/tools/' }, pool: 'internal' },
        { match: { methods: ['POST', 'PUT', 'PATCH', 'DELETE'] }, pool: 'primary' },
      ],
      series: { logDir: freshLogDir() },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '2s' },
    });
    await new Promise((r) => setTimeout(r, 300));
  });
  afterAll(async () => {
    await app?.stop();
    for (const s of servers) await s.close();
  });

  it.each([
    ['GET', '/items', {}, 'replica'],
    ['POST', '/items', {}, 'primary'],
    ['DELETE', '/items/1', {}, 'primary'],
    ['GET', '/items', { 'x-internal': 'yes' }, 'admin-api'],
    ['POST', '/items', { 'x-internal': 'yes' }, 'admin-api'],
    ['GET', '/tools/x', { host: 'ops.example:8080' }, 'admin-api'],
    ['GET', '/tools/x', { host: 'www.example' }, 'replica'],
  ])('%s %s %j goes to %s', async (method, path, headers, expected) => {
    const res = await request(`http://127.0.0.1:${app.proxyPort}${path}`, { method: method as 'GET', headers, body: method === 'GET' ? null : 'x' });
    expect(await res.body.text()).toBe(expected);
  });

  it('rejects a route to an unknown pool with the path and a hint', () => {
    const r = validateConfig({ scaler: { capacityPerBackendRps: 1 }, upstream: { backends: [{ url: 'http://127.0.0.1:1' }] }, routes: [{ match: { methods: ['POST'] }, pool: 'nope' }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain('routes.0.pool');
  });
});
