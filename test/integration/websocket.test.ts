import { once } from 'node:events';
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { createProxyHandler } from '../../src/proxy/forward.js';
import { closeServer, listenProxy } from '../../src/proxy/server.js';
import { createUpgradeHandler } from '../../src/proxy/upgrade.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { deadPort, startServer } from '../helpers/servers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});
function track<T extends { close(): Promise<void> }>(v: T): T {
  cleanups.push(() => v.close());
  return v;
}

/** A `ws` echo server on 127.0.0.1:0 that records the handshake headers it saw. */
async function startEchoBackend() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const seen: IncomingHttpHeaders[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    seen.push(req.headers);
    sockets.push(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return track({
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    seen,
    sockets,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  });
}

/** prescale's listener with the upgrade handler in front of `urls`. */
async function startUpgradeProxy(urls: string[], options: { connectTimeoutMs?: number; firstByteTimeoutMs?: number; healthy?: boolean } = {}) {
  const upstream = new Upstream(createBalancer('round-robin'), { connectTimeoutMs: 1000, firstByteTimeoutMs: 5000, idleTimeoutMs: 5000, keepAliveConnections: 4 });
  urls.forEach((url, i) => upstream.add(`b${i + 1}`, url, 1, 'ready', options.healthy ?? true));
  const upgrade = createUpgradeHandler({
    upstream,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    ...(options.firstByteTimeoutMs === undefined ? {} : { firstByteTimeoutMs: options.firstByteTimeoutMs }),
  });
  const { server, port } = await listenProxy(createProxyHandler({ upstream, retries: 0 }), { host: '127.0.0.1', port: 0, upgrade });
  return track({
    upstream,
    server,
    port,
    url: `ws://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
      await upstream.close();
    },
  });
}

async function openClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  cleanups.push(async () => ws.terminate());
  await once(ws, 'open');
  return ws;
}

async function roundTrip(ws: WebSocket, data: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  const reply = once(ws, 'message') as Promise<[Buffer, boolean]>;
  ws.send(data);
  const [got, isBinary] = await reply;
  return { data: got, isBinary };
}

/** Try a WebSocket handshake that the other side refuses: the status, headers and body the client got. */
function refusedHandshake(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', reject);
    ws.on('unexpected-response', (req, res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
  });
}

/** Send a raw upgrade request (plus `extra` bytes in the same write); resolve the response head and `afterBytes` bytes after it. */
function rawUpgrade(port: number, request: string, extra: Buffer = Buffer.alloc(0), afterBytes = 0): Promise<{ head: string; after: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    cleanups.push(async () => void socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && buf.length >= end + 4 + afterBytes) resolve({ head: buf.toString('latin1', 0, end), after: buf.subarray(end + 4) });
    });
    socket.write(Buffer.concat([Buffer.from(request, 'latin1'), extra]));
  });
}

/** A masked client-to-server WebSocket text frame (RFC 6455 §5.2), payload under 126 bytes. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

const WS_HANDSHAKE = ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n');

/** A TCP server whose connections get `onConnection`; for backends that misbehave below HTTP. */
async function startTcp(onConnection: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return track({
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

describe('websocket: upgrade pass-through (RFC 6455 §4, RFC 9110 §7.8)', () => {
  it('relays text and binary messages both ways and adds X-Forwarded-For, -Proto, -Host and Via', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const ws = await openClient(`${proxy.url}/chat?room=1`);
    expect((await roundTrip(ws, 'hello')).data.toString()).toBe('hello');
    expect((await roundTrip(ws, 'world')).data.toString()).toBe('world');
    const binary = await roundTrip(ws, Buffer.from([0, 1, 2, 255]));
    expect(binary.isBinary).toBe(true);
    expect([...binary.data]).toEqual([0, 1, 2, 255]);
    const seen = backend.seen[0]!;
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(`127.0.0.1:${proxy.port}`);
    expect(seen['via']).toBe('1.1 prescale');
    expect(proxy.upstream.get('b1')!.inFlight).toBe(1);
  });

  it('closing the client closes the backend socket and returns backend.inFlight to 0', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const ws = await openClient(proxy.url);
    await roundTrip(ws, 'ping');
    const backendClosed = once(backend.sockets[0]!, 'close');
    ws.close(1000, 'bye');
    const [code] = (await backendClosed) as [number];
    expect(code).toBe(1000);
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
  });

  it('closing the backend socket closes the client and returns backend.inFlight to 0', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const ws = await openClient(proxy.url);
    await roundTrip(ws, 'ping');
    const clientClosed = once(ws, 'close');
    backend.sockets[0]!.close(1001, 'going away');
    const [code] = (await clientClosed) as [number];
    expect(code).toBe(1001);
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
  });

  it('a drain waits for an open WebSocket to close', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const ws = await openClient(proxy.url);
    let settled = false;
    const drain = proxy.upstream.drainAndRemove('b1', 10_000).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    ws.close();
    expect(await drain).toEqual({ drained: true });
  });

  it('closeServer closes open tunnels instead of waiting for them', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const ws = await openClient(proxy.url);
    const clientClosed = once(ws, 'close');
    await closeServer(proxy.server);
    await clientClosed;
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
  });

  it('re-sends Connection: Upgrade and Upgrade but removes other hop-by-hop headers', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const { head } = await rawUpgrade(proxy.port, [
      'GET /raw HTTP/1.1', 'Host: example.test', 'Connection: keep-alive, Upgrade, X-Client-Secret', 'Upgrade: websocket',
      'Keep-Alive: timeout=5', 'X-Client-Secret: hidden', 'X-Forwarded-For: 6.6.6.6', 'Via: 1.0 edge', 'X-Kept: yes', WS_HANDSHAKE,
    ].join('\r\n'));
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head).toMatch(/\r\nUpgrade: websocket/i);
    expect(head).toMatch(/\r\nConnection: Upgrade/i);
    expect(head).toMatch(/\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    expect(head).toMatch(/\r\nVia: 1.1 prescale/i);
    const seen = backend.seen[0]!;
    expect(seen['connection']).toBe('Upgrade');
    expect(seen['upgrade']).toBe('websocket');
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen['x-client-secret']).toBeUndefined();
    expect(seen['x-kept']).toBe('yes');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-host']).toBe('example.test');
    expect(seen['via']).toBe('1.0 edge, 1.1 prescale');
  });
});

describe('websocket: bytes next to the handshake', () => {
  it('relays bytes the client sent right after the upgrade request (`head`) to the backend', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url]);
    const request = ['GET / HTTP/1.1', 'Host: x', 'Connection: Upgrade', 'Upgrade: websocket', WS_HANDSHAKE].join('\r\n');
    const { head, after } = await rawUpgrade(proxy.port, request, maskedTextFrame('early'), 7);
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect([...after.subarray(0, 2)]).toEqual([0x81, 5]); // the echo: an unmasked server text frame
    expect(after.subarray(2, 7).toString()).toBe('early');
  });

  it('delivers bytes the backend sends in the same packet as its 101 answer', async () => {
    const frame = Buffer.concat([Buffer.from([0x81, 7]), Buffer.from('welcome')]);
    const tcp = await startTcp((s) => s.once('data', () => {
      s.write(Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'), frame]));
    }));
    const proxy = await startUpgradeProxy([`http://127.0.0.1:${tcp.port}`]);
    const request = ['GET / HTTP/1.1', 'Host: x', 'Connection: Upgrade', 'Upgrade: websocket', WS_HANDSHAKE].join('\r\n');
    const { head, after } = await rawUpgrade(proxy.port, request, Buffer.alloc(0), frame.length);
    expect(head).toBe('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nVia: 1.1 prescale\r\nConnection: Upgrade');
    expect(after.equals(frame)).toBe(true);
  });
});

describe('websocket: refused and failed upgrades', () => {
  it.each([
    ['Content-Length', (res: ServerResponse) => res.end('websockets are not served here')],
    ['chunked', (res: ServerResponse) => {
      res.write('websockets are ');
      setTimeout(() => res.end('not served here'), 20);
    }],
  ])('relays a 400 answer with a %s body to the client and closes', async (_framing, answer) => {
    const backend = track(await startServer((req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain', 'x-reason': 'no-ws' });
      answer(res);
    }));
    const proxy = await startUpgradeProxy([backend.url]);
    const got = await refusedHandshake(proxy.url);
    expect(got.status).toBe(400);
    expect(got.body).toBe('websockets are not served here');
    expect(got.headers['x-reason']).toBe('no-ws');
    expect(got.headers['connection']).toBe('close');
    expect(got.headers['via']).toBe('1.1 prescale');
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
    expect(proxy.upstream.get('b1')!.responses[4]).toBe(1);
  });

  it('503 PRESCALE_ERR_NO_HEALTHY_BACKEND when no backend is eligible', async () => {
    const backend = await startEchoBackend();
    const proxy = await startUpgradeProxy([backend.url], { healthy: false });
    const got = await refusedHandshake(proxy.url);
    expect(got.status).toBe(503);
    expect(JSON.parse(got.body)).toMatchObject({ error: { code: 'PRESCALE_ERR_NO_HEALTHY_BACKEND' } });
    expect(backend.seen).toHaveLength(0);
  });

  it('502 PRESCALE_ERR_UPSTREAM_CONNECT when the backend refuses connections', async () => {
    const proxy = await startUpgradeProxy([`http://127.0.0.1:${await deadPort()}`]);
    const got = await refusedHandshake(proxy.url);
    expect(got.status).toBe(502);
    expect(JSON.parse(got.body)).toMatchObject({ error: { code: 'PRESCALE_ERR_UPSTREAM_CONNECT' } });
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
  });

  it('502 PRESCALE_ERR_UPSTREAM_CONNECT when the backend closes without answering', async () => {
    const tcp = await startTcp((s) => s.once('data', () => s.destroy()));
    const proxy = await startUpgradeProxy([`http://127.0.0.1:${tcp.port}`]);
    const got = await refusedHandshake(proxy.url);
    expect(got.status).toBe(502);
    expect(JSON.parse(got.body)).toMatchObject({ error: { code: 'PRESCALE_ERR_UPSTREAM_CONNECT' } });
  });

  it('504 PRESCALE_ERR_UPSTREAM_TIMEOUT when the backend connection is not ready in time', async () => {
    // an https backend that accepts TCP but never answers the TLS handshake
    const tcp = await startTcp(() => {});
    const proxy = await startUpgradeProxy([`https://127.0.0.1:${tcp.port}`], { connectTimeoutMs: 200 });
    const started = Date.now();
    const got = await refusedHandshake(proxy.url);
    expect(got.status).toBe(504);
    expect(JSON.parse(got.body)).toMatchObject({ error: { code: 'PRESCALE_ERR_UPSTREAM_TIMEOUT' } });
    expect(Date.now() - started).toBeLessThan(2000);
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
  });

  it('504 PRESCALE_ERR_UPSTREAM_TIMEOUT when the backend does not answer the upgrade in time', async () => {
    const tcp = await startTcp((s) => s.resume()); // reads the request, never answers
    const proxy = await startUpgradeProxy([`http://127.0.0.1:${tcp.port}`], { firstByteTimeoutMs: 200 });
    const got = await refusedHandshake(proxy.url);
    expect(got.status).toBe(504);
    expect(JSON.parse(got.body)).toMatchObject({ error: { code: 'PRESCALE_ERR_UPSTREAM_TIMEOUT', message: 'the backend did not answer the upgrade request in time' } });
    await vi.waitFor(() => expect(proxy.upstream.get('b1')!.inFlight).toBe(0), { timeout: 2000 });
  });
});

describe('websocket: plain requests on the same listener', () => {
  it('still forwards ordinary HTTP requests', async () => {
    const backend = track(await startServer((_req, res) => res.end('plain')));
    const proxy = await startUpgradeProxy([backend.url]);
    const res = await fetch(`http://127.0.0.1:${proxy.port}/`);
    expect(await res.text()).toBe('plain');
  });
});

