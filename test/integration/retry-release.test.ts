import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { createProxyHandler } from '../../src/proxy/forward.js';
import { closeServer, listenProxy } from '../../src/proxy/server.js';
import { Upstream } from '../../src/proxy/upstream.js';

/** A retry that finds no other backend must release the failed one once, not twice. */
describe('retry with no backend left', () => {
  let backend: Server;
  let proxy: Server;
  let proxyUrl = '';
  const upstream = new Upstream(createBalancer('round-robin'), { group: { panic: false }, connectTimeoutMs: 500, firstByteTimeoutMs: 2000, idleTimeoutMs: 5000, keepAliveConnections: 4 });

  beforeAll(async () => {
    // a port that refuses connections: a server bound once and closed again
    backend = createServer();
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as AddressInfo).port;
    await new Promise((resolve) => backend.close(resolve));
    upstream.add('only', `http://127.0.0.1:${port}`, 1, 'ready', true);
    const listener = await listenProxy(createProxyHandler({ upstream, retries: 2 }), { host: '127.0.0.1', port: 0 });
    proxy = listener.server;
    proxyUrl = `http://127.0.0.1:${listener.port}`;
  });
  afterAll(async () => {
    await closeServer(proxy);
    await upstream.close();
  });

  it('answers 502/503 and leaves the backend with 0 in flight and one failure counted per request', async () => {
    const only = upstream.get('only');
    for (let i = 0; i < 5; i++) {
      const res = await request(`${proxyUrl}/x`);
      await res.body.dump();
      expect([502, 503]).toContain(res.statusCode);
    }
    // each request's failed attempt is counted once, never a second release
    expect(only?.responses.reduce((a, b) => a + b, 0)).toBe(5);
    expect(only?.inFlight).toBe(0);
  });
});
