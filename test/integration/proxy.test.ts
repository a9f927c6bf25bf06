import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Readable } from 'node:stream';
import express from 'express';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { trackedCleanups } from '../helpers/cleanups.js';
import { deadPort, startProxy, startServer } from '../helpers/servers.js';

const track = trackedCleanups();

/** Backend that answers with the headers it received as JSON. */
const echoHeaders = () => startServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ headers: req.headers, method: req.method, url: req.url }));
  });
});

/** Send raw bytes, return everything the proxy answers until it closes the connection. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let buf = '';
    socket.on('data', (d) => (buf += d.toString()));
    socket.on('close', () => resolve(buf));
    socket.on('error', () => resolve(buf));
    socket.write(bytes);
  });
}

describe('proxy: forwarding', () => {
  it('forwards method, path and body, and the response status, headers and body', async () => {
    const backend = await track(startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(201, { 'x-backend': 'one', 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      });
    }));
    const proxy = await track(startProxy([backend.url]));
    const res = await request(`${proxy.url}/a/b?c=1`, { method: 'POST', body: 'hello' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-backend']).toBe('one');
    expect(res.headers['via']).toBe('1.1 prescale');
    expect(await res.body.text()).toBe('POST /a/b?c=1 hello');
  });

  it('removes hop-by-hop headers both ways (RFC 9110 §7.6.1)', async () => {
    const backend = await track(startServer((req, res) => {
      req.resume();
      const body = JSON.stringify(req.headers);
      res.writeHead(200, [
        'content-length', String(Buffer.byteLength(body)),
        'connection', 'x-upstream-secret, keep-alive',
        'keep-alive', 'timeout=77',
        'x-upstream-secret', 'hidden',
        'x-kept', 'yes',
        'content-type', 'application/json',
      ]);
      res.end(body);
    }));
    const proxy = await track(startProxy([backend.url]));
    // a raw request: HTTP clients refuse to send these connection-specific fields themselves
    const raw = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Client-Secret\r\nX-Client-Secret: hidden\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\nConnection: close\r\n\r\n');
    const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
    expect(seen['x-client-secret']).toBeUndefined();
    expect(seen['proxy-connection']).toBeUndefined();
    expect(seen['te']).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen['x-kept']).toBe('yes');
    expect(seen['via']).toBe('1.1 prescale');
    const res = await request(proxy.url);
    await res.body.dump();
    expect(res.headers['x-upstream-secret']).toBeUndefined();
    expect(res.headers['keep-alive']).not.toBe('timeout=77'); // node sets its own for the client hop
    expect(res.headers['x-kept']).toBe('yes');
  });

  it('sets X-Forwarded-For to the client address, overwriting a spoofed one, and adds -Proto and -Host', async () => {
    const backend = await track(echoHeaders());
    const proxy = await track(startProxy([backend.url]));
    const res = await request(proxy.url, { headers: { 'x-forwarded-for': '6.6.6.6', host: 'shop.example' } });
    const { headers } = (await res.body.json()) as { headers: Record<string, string> };
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('shop.example');
    expect(headers['host']).toBe('shop.example');
  });

  it.each([
    [['127.0.0.0/8'], '6.6.6.6, 127.0.0.1'],
    [['10.0.0.0/8', '::1'], '127.0.0.1'],
  ])('with trusted proxies %j a client X-Forwarded-For of 6.6.6.6 reaches the backend as %j', async (trusted, expected) => {
    const backend = await track(echoHeaders());
    const proxy = await track(startProxy([backend.url], { trustedProxies: trusted }));
    const res = await request(proxy.url, { headers: { 'x-forwarded-for': '6.6.6.6' } });
    const { headers } = (await res.body.json()) as { headers: Record<string, string> };
    expect(headers['x-forwarded-for']).toBe(expected);
  });

  it('can be mounted as Express middleware', async () => {
    const backend = await track(echoHeaders());
    const proxy = await track(startProxy([backend.url]));
    const app = express();
    app.get('/local', (_req, res) => {
      res.send('local');
    });
    app.use(proxy.handler);
    const server = await track(new Promise<{ close(): Promise<void>; port: number }>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve({ port: (s.address() as { port: number }).port, close: () => new Promise((r) => s.close(() => r())) }));
    }));
    expect(await (await request(`http://127.0.0.1:${server.port}/local`)).body.text()).toBe('local');
    const proxied = (await (await request(`http://127.0.0.1:${server.port}/remote`)).body.json()) as { url: string };
    expect(proxied.url).toBe('/remote');
  });
});

describe('proxy: balancing through real sockets', () => {
  it.each(['ring-hash', 'maglev'] as const)('%s sends every request with the same header key to the same backend', async (algorithm) => {
    const backends = await Promise.all([0, 1, 2].map((i) => track(startServer((req, res) => {
      req.resume();
      res.end(String(i));
    }))));
    const proxy = await track(startProxy(backends.map((b) => b.url), { algorithm, hashKey: { source: 'header', name: 'x-user' } }));
    const servedBy = new Map<string, Set<string>>();
    for (let i = 0; i < 60; i++) {
      const user = `user-${i % 12}`;
      const res = await request(proxy.url, { headers: { 'x-user': user } });
      const b = await res.body.text();
      servedBy.set(user, (servedBy.get(user) ?? new Set()).add(b));
    }
    for (const set of servedBy.values()) expect(set.size).toBe(1);
    expect(new Set([...servedBy.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
  });

  it('p2c spreads load across backends', async () => {
    const backends = await Promise.all([0, 1].map((i) => track(startServer((req, res) => {
      req.resume();
      res.end(String(i));
    }))));
    const proxy = await track(startProxy(backends.map((b) => b.url), { algorithm: 'p2c' }));
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(await (await request(proxy.url)).body.text());
    expect(seen).toEqual(new Set(['0', '1']));
  });
});

describe('proxy: maxConns per backend with a bounded queue (HAProxy maxconn / timeout queue)', () => {
  const slow = () => startServer((req, res) => {
    req.resume();
    setTimeout(() => res.end('done'), 150);
  });

  it('queues requests beyond maxConns and serves them in turn', async () => {
    const backend = await track(slow());
    const proxy = await track(startProxy([backend.url], { maxConns: 1, queue: { limit: 10, timeoutMs: 5000 } }));
    const started = Date.now();
    const results = await Promise.all([0, 1, 2].map(async () => (await request(proxy.url)).statusCode));
    expect(results).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400); // served one at a time
  });

  it('answers 503 PRESCALE_ERR_QUEUE_TIMEOUT after the queue timeout and when the queue is full', async () => {
    const backend = await track(slow());
    const proxy = await track(startProxy([backend.url], { maxConns: 1, queue: { limit: 1, timeoutMs: 60 } }));
    const responses = await Promise.all([0, 1, 2].map(async () => {
      const r = await request(proxy.url);
      const body = await r.body.text();
      return [r.statusCode, r.statusCode === 503 ? (JSON.parse(body) as { error: { code: string } }).error.code : body] as const;
    }));
    expect(responses.filter(([s]) => s === 200)).toHaveLength(1);
    expect(responses.filter(([s, code]) => s === 503 && code === 'PRESCALE_ERR_QUEUE_TIMEOUT')).toHaveLength(2);
  });
});

describe('proxy: errors map to 502, 503 and 504 with a stable code', () => {
  it('502 PRESCALE_ERR_UPSTREAM_CONNECT when the backend refuses connections', async () => {
    const proxy = await track(startProxy([`http://127.0.0.1:${await deadPort()}`]));
    const res = await request(proxy.url);
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toBe('application/json');
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('PRESCALE_ERR_UPSTREAM_CONNECT');
  });

  it('503 PRESCALE_ERR_NO_HEALTHY_BACKEND when no backend is eligible', async () => {
    const backend = await track(echoHeaders());
    const proxy = await track(startProxy([backend.url]));
    proxy.upstream.get('b1')!.healthy = false;
    const res = await request(proxy.url);
    expect(res.statusCode).toBe(503);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('PRESCALE_ERR_NO_HEALTHY_BACKEND');
  });

  it('504 PRESCALE_ERR_UPSTREAM_TIMEOUT when the backend sends no headers in time', async () => {
    const backend = await track(startServer(() => {
      /* never answers */
    }));
    const proxy = await track(startProxy([backend.url], { firstByteTimeoutMs: 200 }));
    const started = Date.now();
    const res = await request(proxy.url, { method: 'POST', body: 'x' });
    expect(res.statusCode).toBe(504);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('PRESCALE_ERR_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('retries an idempotent GET on another backend when one refuses connections', async () => {
    const backend = await track(echoHeaders());
    const proxy = await track(startProxy([`http://127.0.0.1:${await deadPort()}`, backend.url]));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await request(proxy.url);
      await res.body.dump();
      statuses.push(res.statusCode);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('retries a GET answered with a configured status on another backend, but relays it for a POST', async () => {
    let failingHits = 0;
    const failing = await track(startServer((req, res) => {
      failingHits++;
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('busy');
    }));
    const healthy = await track(startServer((req, res) => {
      req.resume();
      res.end('ok');
    }));
    const proxy = await track(startProxy([failing.url, healthy.url], { retryOn: [503] }));
    for (let i = 0; i < 6; i++) {
      const res = await request(proxy.url);
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('ok');
    }
    expect(failingHits).toBeGreaterThan(0);
    const statuses = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const res = await request(proxy.url, { method: 'POST', body: 'once' });
      await res.body.dump();
      statuses.add(res.statusCode);
    }
    expect(statuses.has(503)).toBe(true); // a POST is never sent twice, so its 503 reaches the client
  });

  it('answers 504 when the whole exchange passes the total timeout', async () => {
    const backend = await track(startServer((req, res) => {
      req.resume();
      setTimeout(() => res.end('late'), 1000);
    }));
    const proxy = await track(startProxy([backend.url], { totalTimeoutMs: 150 }));
    const started = Date.now();
    const res = await request(proxy.url);
    expect(res.statusCode).toBe(504);
    expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('PRESCALE_ERR_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('does not retry a POST: it fails once with 502', async () => {
    let hits = 0;
    const backend = await track(startServer((req, res) => {
      hits++;
      req.resume();
      req.socket.destroy();
      void res;
    }));
    const proxy = await track(startProxy([backend.url, backend.url]));
    const res = await request(proxy.url, { method: 'POST', body: 'pay once' });
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    expect(hits).toBe(1);
  });
});

describe('proxy: streaming and aborts', () => {
  it('streams a 50 MB upload and a 50 MB download with flat memory', async () => {
    const size = 50 * 1024 * 1024;
    const backend = await track(startServer((req, res) => {
      if (req.method === 'POST') {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(String(n)));
        return;
      }
      res.writeHead(200, { 'content-length': size });
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    }));
    const proxy = await track(startProxy([backend.url]));
    // live memory, not garbage awaiting collection: collect before each sample
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers - base.arrayBuffers);
    }, 25);
    try {
      let produced = 0;
      const chunk = Buffer.alloc(64 * 1024, 1);
      const upload = new Readable({
        read() {
          if (produced >= size) return void this.push(null);
          produced += chunk.length;
          this.push(chunk);
        },
      });
      const up = await request(proxy.url, { method: 'POST', body: upload, headers: { 'content-length': String(size) } });
      expect(await up.body.text()).toBe(String(size));
      const down = await request(proxy.url);
      let received = 0;
      for await (const c of down.body) {
        received += (c as Buffer).length;
        await new Promise((r) => setImmediate(r)); // a slow reader exercises backpressure
      }
      expect(received).toBe(size);
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeLessThan(32 * 1024 * 1024); // well under one 50 MB body: nothing was buffered whole
  });

  it('aborts the upstream request when the client disconnects', async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const backend = await track(startServer((req, res) => {
      res.writeHead(200);
      res.write('partial');
      res.on('close', () => upstreamClosed());
    }));
    const proxy = await track(startProxy([backend.url]));
    const socket = connect(proxy.port, '127.0.0.1');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.destroy();
    const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), 3000));
    expect(await Promise.race([closed.then(() => 'closed'), timeout])).toBe('closed');
    await new Promise((r) => setTimeout(r, 50));
    expect(proxy.upstream.get('b1')!.inFlight).toBe(0);
  });

  it('answers a malformed request with 400 and never forwards it', async () => {
    let hits = 0;
    const backend = await track(startServer((_req, res) => {
      hits++;
      res.end();
    }));
    const proxy = await track(startProxy([backend.url]));
    const reply = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(hits).toBe(0);
  });
});
