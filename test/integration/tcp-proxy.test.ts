import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBalancer, type AlgorithmName } from '../../src/proxy/balancers/index.js';
import { listenTcpProxy, type TcpProxyObserver } from '../../src/proxy/tcp/tcp-proxy.js';
import { Upstream } from '../../src/proxy/upstream.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface TestBackend {
  url: string;
  port: number;
  /** Names of the backends that accepted each connection, in order (shared between backends). */
  accepted: string[];
  openSockets: Set<Socket>;
}

/**
 * A TCP backend on 127.0.0.1:0 that records `name` in `accepted` for every connection.
 * 'echo' copies bytes back; 'count-after-fin' answers `got <n> bytes` only after the client's FIN.
 */
async function startBackend(name: string, accepted: string[], behaviour: 'echo' | 'count-after-fin' = 'echo'): Promise<TestBackend> {
  const openSockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(name);
    openSockets.add(socket);
    socket.on('close', () => openSockets.delete(socket));
    socket.on('error', () => {});
    if (behaviour === 'echo') {
      socket.pipe(socket);
      return;
    }
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('end', () => socket.end(`got ${bytes} bytes`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of openSockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  // an http url: Backend builds an undici Pool, which rejects other schemes (the pool stays unused in TCP mode)
  return { url: `http://127.0.0.1:${port}`, port, accepted, openSockets };
}

/** A port with nothing listening on it (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ProxyOptions {
  algorithm?: AlgorithmName;
  hashClientIp?: boolean;
  idleTimeoutMs?: number;
  retries?: number;
  closeTimeoutMs?: number;
  observer?: TcpProxyObserver;
  /** Leave close() to the test (it is still called again, harmlessly, at cleanup). */
  manualClose?: boolean;
}

/** The TCP proxy on 127.0.0.1:0 in front of `urls` (ids b1, b2, ..., all ready and healthy). */
async function startTcpProxy(urls: string[], options: ProxyOptions = {}) {
  const upstream = new Upstream(createBalancer(options.algorithm ?? 'round-robin'), {
    connectTimeoutMs: 1000,
    firstByteTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    keepAliveConnections: 1,
  });
  urls.forEach((url, i) => upstream.add(`b${i + 1}`, url, 1, 'ready', true));
  const proxy = await listenTcpProxy({
    upstream,
    host: '127.0.0.1',
    port: 0,
    connectTimeoutMs: 1000,
    idleTimeoutMs: options.idleTimeoutMs ?? 5000,
    retries: options.retries ?? 1,
    hashClientIp: options.hashClientIp ?? false,
    closeTimeoutMs: options.closeTimeoutMs ?? 1000,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  cleanups.push(async () => {
    await proxy.close();
    await upstream.close();
  });
  return { ...proxy, upstream };
}

/** Connect, send `payload`, half-close, and collect everything until the proxy closes. */
function exchange(port: number, payload: Buffer | string): Promise<{ reply: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      ended = true;
      socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ reply: Buffer.concat(chunks), ended }));
    socket.end(payload);
  });
}

/** An open client connection that sends a message and waits for as many bytes back. */
async function openClient(port: number) {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  cleanups.push(async () => void socket.destroy());
  await once(socket, 'connect');
  return {
    socket,
    async roundTrip(message: string): Promise<string> {
      let got = '';
      const done = new Promise<string>((resolve, reject) => {
        const onData = (c: Buffer): void => {
          got += c.toString();
          if (got.length >= message.length) {
            socket.off('data', onData);
            resolve(got);
          }
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
      });
      socket.write(message);
      return done;
    },
  };
}

/** Poll `condition` every 10 ms until true or `timeoutMs` passes. */
async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('TCP proxy: forwarding', () => {
  it('echoes 1 MB back intact and reports the connection to the observer', async () => {
    const accepted: string[] = [];
    const backend = await startBackend('a', accepted);
    const events: Array<{ kind: string; backendId: string; bytesIn?: number; bytesOut?: number; ok?: boolean }> = [];
    const proxy = await startTcpProxy([backend.url], {
      observer: {
        connectionOpened: (backendId) => events.push({ kind: 'opened', backendId }),
        connectionClosed: (backendId, bytesIn, bytesOut, durationMs, ok) => {
          expect(durationMs).toBeGreaterThan(0);
          events.push({ kind: 'closed', backendId, bytesIn, bytesOut, ok });
        },
      },
    });
    const payload = randomBytes(1024 * 1024);
    const { reply, ended } = await exchange(proxy.port, payload);
    expect(ended).toBe(true);
    expect(reply.length).toBe(payload.length);
    expect(reply.equals(payload)).toBe(true);
    await eventually(() => events.length === 2);
    expect(events).toEqual([
      { kind: 'opened', backendId: 'b1' },
      { kind: 'closed', backendId: 'b1', bytesIn: payload.length, bytesOut: payload.length, ok: true },
    ]);
    expect(proxy.upstream.get('b1')?.inFlight).toBe(0);
  });

  it('forwards a client half-close as FIN and still delivers the reply sent after it', async () => {
    const backend = await startBackend('a', [], 'count-after-fin');
    const proxy = await startTcpProxy([backend.url]);
    const { reply, ended } = await exchange(proxy.port, 'hello');
    expect(reply.toString()).toBe('got 5 bytes');
    expect(ended).toBe(true);
  });

  it('forwards a backend FIN to the client while the client keeps sending', async () => {
    const received: string[] = [];
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.end('bye'); // FIN first, keep reading
      socket.on('data', (c: Buffer) => received.push(c.toString()));
      socket.on('end', () => received.push('<FIN>'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const proxy = await startTcpProxy([`http://127.0.0.1:${(server.address() as AddressInfo).port}`]);
    const client = connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    let reply = '';
    client.on('data', (c: Buffer) => (reply += c.toString()));
    await once(client, 'end');
    expect(reply).toBe('bye');
    client.end('after your FIN');
    await once(client, 'close');
    await eventually(() => received.at(-1) === '<FIN>');
    expect(received.join('')).toBe('after your FIN<FIN>');
  });

  it('closes a client connection at once when no backend is eligible', async () => {
    const backend = await startBackend('a', []);
    const proxy = await startTcpProxy([backend.url]);
    (proxy.upstream.get('b1') ?? expect.fail('b1 missing')).state = 'maint';
    const started = Date.now();
    const { reply } = await exchange(proxy.port, 'hello');
    expect(reply.length).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(backend.accepted).toEqual([]);
  });

  it('closes both sides after idleTimeoutMs without traffic', async () => {
    const accepted: string[] = [];
    const backend = await startBackend('a', accepted);
    const proxy = await startTcpProxy([backend.url], { idleTimeoutMs: 150 });
    const client = await openClient(proxy.port);
    expect(await client.roundTrip('ping')).toBe('ping');
    const started = Date.now();
    await once(client.socket, 'close');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await eventually(() => backend.openSockets.size === 0);
    await eventually(() => proxy.upstream.get('b1')?.inFlight === 0);
  });
});

describe('TCP proxy: balancing', () => {
  it('alternates connections between two backends with round robin', async () => {
    const accepted: string[] = [];
    const a = await startBackend('a', accepted);
    const b = await startBackend('b', accepted);
    const proxy = await startTcpProxy([a.url, b.url]);
    for (let i = 0; i < 4; i++) expect((await exchange(proxy.port, `m${i}`)).reply.toString()).toBe(`m${i}`);
    expect(accepted).toEqual(['a', 'b', 'a', 'b']);
  });

  it('retries a refused connect on the other backend, so every connection succeeds', async () => {
    const accepted: string[] = [];
    const live = await startBackend('live', accepted);
    const proxy = await startTcpProxy([`http://127.0.0.1:${await deadPort()}`, live.url], { retries: 1 });
    for (let i = 0; i < 6; i++) expect((await exchange(proxy.port, `m${i}`)).reply.toString()).toBe(`m${i}`);
    expect(accepted).toEqual(Array(6).fill('live'));
    expect(proxy.upstream.get('b1')?.inFlight).toBe(0);
  });

  it('closes the client when the connect fails and no retries are left', async () => {
    const proxy = await startTcpProxy([`http://127.0.0.1:${await deadPort()}`], { retries: 0 });
    const { reply } = await exchange(proxy.port, 'hello');
    expect(reply.length).toBe(0);
    expect(proxy.upstream.get('b1')?.inFlight).toBe(0);
  });

  it('sends new connections away from a draining backend while its open connection keeps working', async () => {
    const accepted: string[] = [];
    const a = await startBackend('a', accepted);
    const b = await startBackend('b', accepted);
    const proxy = await startTcpProxy([a.url, b.url]);
    const held = await openClient(proxy.port);
    expect(await held.roundTrip('first')).toBe('first');
    expect(accepted).toEqual(['a']);
    const draining = proxy.upstream.get('b1') ?? expect.fail('b1 missing');
    draining.state = 'drain';
    expect(draining.inFlight).toBe(1);
    for (let i = 0; i < 3; i++) expect((await exchange(proxy.port, `m${i}`)).reply.toString()).toBe(`m${i}`);
    expect(accepted).toEqual(['a', 'b', 'b', 'b']);
    expect(await held.roundTrip('still here')).toBe('still here');
    held.socket.end();
    expect(await draining.waitIdle(2000)).toBe(true);
  });

  it('sends every connection from 127.0.0.1 to one backend with ip-hash on the client address', async () => {
    const accepted: string[] = [];
    const backends = [await startBackend('a', accepted), await startBackend('b', accepted), await startBackend('c', accepted)];
    const proxy = await startTcpProxy(backends.map((b) => b.url), { algorithm: 'ip-hash', hashClientIp: true });
    for (let i = 0; i < 6; i++) await exchange(proxy.port, `m${i}`);
    expect(accepted).toHaveLength(6);
    expect(new Set(accepted).size).toBe(1);
  });
});

describe('TCP proxy: shutdown', () => {
  it('close() cuts an idle open connection after closeTimeoutMs and finishes', async () => {
    const backend = await startBackend('a', []);
    const closed: boolean[] = [];
    const proxy = await startTcpProxy([backend.url], {
      closeTimeoutMs: 200,
      idleTimeoutMs: 60_000,
      observer: { connectionOpened() {}, connectionClosed: (_id, _in, _out, _ms, ok) => closed.push(ok) },
    });
    const client = await openClient(proxy.port);
    expect(await client.roundTrip('ping')).toBe('ping');
    const clientClosed = once(client.socket, 'close');
    const started = Date.now();
    await proxy.close();
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeGreaterThanOrEqual(150);
    expect(elapsedMs).toBeLessThan(2000);
    await clientClosed;
    expect(closed).toEqual([false]);
    await eventually(() => backend.openSockets.size === 0);
    expect(proxy.upstream.get('b1')?.inFlight).toBe(0);
  });

  it('close() returns at once when no connection is open', async () => {
    const backend = await startBackend('a', []);
    const proxy = await startTcpProxy([backend.url], { closeTimeoutMs: 5000 });
    await exchange(proxy.port, 'x');
    const started = Date.now();
    await proxy.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
