import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { backendAddress } from '../../src/proxy/tcp/backend-address.js';
import { probeTcp } from '../../src/proxy/tcp/tcp-check.js';

/** Listen on 127.0.0.1:0; returns the port, the accepted sockets and a close function. */
async function listen() {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('probeTcp', () => {
  it('is true for a listening port and closes its connection', async () => {
    const server = await listen();
    try {
      expect(await probeTcp(`tcp://127.0.0.1:${server.port}`, 1000)).toBe(true);
      expect(await probeTcp(`http://127.0.0.1:${server.port}/healthz`, 1000)).toBe(true);
      expect(server.sockets).toHaveLength(2);
      await Promise.all(server.sockets.map((s) => (s.closed ? undefined : once(s, 'close'))));
    } finally {
      await server.close();
    }
  });

  it('is false for a closed port', async () => {
    const server = await listen();
    const port = server.port;
    await server.close();
    expect(await probeTcp(`tcp://127.0.0.1:${port}`, 1000)).toBe(false);
  });

  it('is false for a url without a usable port, and when aborted', async () => {
    expect(await probeTcp('tcp://127.0.0.1', 1000)).toBe(false);
    expect(await probeTcp('not a url', 1000)).toBe(false);
    const server = await listen();
    try {
      expect(await probeTcp(`tcp://127.0.0.1:${server.port}`, 1000, AbortSignal.abort())).toBe(false);
    } finally {
      await server.close();
    }
  });
});

describe('backendAddress', () => {
  it.each([
    ['tcp://db.internal:5432', { host: 'db.internal', port: 5432 }],
    ['http://10.0.0.7:8080/ignored?x=1', { host: '10.0.0.7', port: 8080 }],
    ['http://example.com', { host: 'example.com', port: 80 }],
    ['https://example.com', { host: 'example.com', port: 443 }],
    ['tcp://[::1]:9000', { host: '::1', port: 9000 }],
    ['tcp://db.internal', undefined],
    ['::1:9000', undefined],
  ])('%s → %j', (url, expected) => {
    expect(backendAddress(url)).toEqual(expected);
  });
});
