import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStream, formatEvent, type EventStreamOptions } from '../../src/web/event-stream.js';

/** A parsed server-sent event, or a comment line (event ':'). */
interface Received {
  event: string;
  data: string;
}

/** A real SSE client over node:http: parses the stream as it arrives (WHATWG event-stream rules we use). */
class SseClient {
  readonly received: Received[] = [];
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.parse(block);
      }
    });
    res.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.received.push({ event: ':', data: line.slice(1).trim() });
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('retry: ')) this.received.push({ event: 'retry', data: line.slice(7) });
    }
    if (data.length > 0) this.received.push({ event, data: data.join('\n') });
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolve once `predicate` holds (checked on every event), reject after `timeoutMs`. */
  async until(predicate: (received: Received[]) => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(this.received).slice(0, 500)}`);
      if (this.closed) throw new Error('stream closed before the condition held');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(options: EventStreamOptions, initial = () => [{ event: 'snapshot', data: { hello: 'world' } }]) {
  const active: boolean[] = [];
  const stream = new EventStream({ ...options, onActive: (a) => active.push(a) });
  const server = createServer((req, res) => stream.accept(req, res, initial));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const connect = () => new Promise<IncomingMessage>((resolve, reject) => get(url, resolve).on('error', reject));
  return { stream, active, connect };
}

describe('formatEvent', () => {
  it('writes the event name and the JSON on data lines, ending with a blank line', () => {
    expect(formatEvent('tick', { a: 1 })).toBe('event: tick\ndata: {"a":1}\n\n');
  });
  it('cannot be ended early by newlines in the data or the name', () => {
    const text = formatEvent('ti\nck', { s: 'line1\nline2\r\n\ndata: forged' });
    expect(text.split('\n\n')).toHaveLength(2);
    expect(text.startsWith('event: tick\n')).toBe(true);
  });
});

describe('EventStream over real HTTP', () => {
  it('sends the retry hint and the initial snapshot, then broadcasts to every client', async () => {
    const { stream, connect } = await serve({});
    const a = new SseClient(await connect());
    const b = new SseClient(await connect());
    expect(a.res.statusCode).toBe(200);
    expect(a.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(a.res.headers['cache-control']).toBe('no-store');
    await a.until((r) => r.some((e) => e.event === 'snapshot'));
    expect(a.received[0]).toEqual({ event: 'retry', data: '2000' });
    expect(JSON.parse(a.received[1]!.data)).toEqual({ hello: 'world' });
    await b.until((r) => r.some((e) => e.event === 'snapshot'));
    expect(stream.size).toBe(2);
    stream.broadcast('tick', { n: 1 });
    stream.broadcast('tick', { n: 2 });
    for (const c of [a, b]) {
      await c.until((r) => r.filter((e) => e.event === 'tick').length === 2);
      expect(c.received.filter((e) => e.event === 'tick').map((e) => JSON.parse(e.data).n)).toEqual([1, 2]);
    }
  });

  it('sends heartbeat comments while a client is connected', async () => {
    const { connect } = await serve({ heartbeatMs: 40 });
    const c = new SseClient(await connect());
    await c.until((r) => r.filter((e) => e.event === ':').length >= 2);
    expect(c.received.find((e) => e.event === ':')?.data).toBe('heartbeat');
  });

  it('forgets a client as soon as it disconnects and reports when the last one leaves', async () => {
    const { stream, active, connect } = await serve({ heartbeatMs: 1000 });
    const a = new SseClient(await connect());
    const b = new SseClient(await connect());
    await a.until((r) => r.length >= 2);
    await b.until((r) => r.length >= 2);
    expect(active).toEqual([true]);
    a.res.destroy();
    await until(() => stream.size === 1);
    expect(active).toEqual([true]);
    b.res.destroy();
    await until(() => stream.size === 0);
    expect(active).toEqual([true, false]);
    stream.broadcast('tick', {}); // nobody to write to: must not throw
  });

  it('answers 503 too_many_clients with Retry-After beyond maxClients, and accepts again once one leaves', async () => {
    const { stream, connect } = await serve({ maxClients: 2 });
    const a = new SseClient(await connect());
    new SseClient(await connect());
    const third = await connect();
    expect(third.statusCode).toBe(503);
    expect(third.headers['retry-after']).toBe('10');
    const body = await text(third);
    expect(JSON.parse(body).error.code).toBe('too_many_clients');
    expect(stream.size).toBe(2);
    a.res.destroy();
    await until(() => stream.size === 1);
    const again = await connect();
    expect(again.statusCode).toBe(200);
    again.destroy();
  });

  it('drops a client that does not read once its unsent output passes maxBufferedBytes', async () => {
    const { stream, connect } = await serve({ maxBufferedBytes: 64 * 1024 });
    const res = await connect();
    res.pause(); // never reads: the kernel buffers fill, then Node's
    await until(() => stream.size === 1);
    const big = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 800 && stream.size > 0; i++) {
      stream.broadcast('tick', { big });
      await new Promise((r) => setImmediate(r));
    }
    expect(stream.size).toBe(0);
    res.destroy();
  });

  it('close() ends every stream and refuses new ones', async () => {
    const { stream, connect } = await serve({});
    const c = new SseClient(await connect());
    await c.until((r) => r.length >= 2);
    stream.close();
    await until(() => c.closed);
    expect(stream.size).toBe(0);
    const late = await connect();
    expect(late.statusCode).toBe(503);
    late.destroy();
  });
});

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function text(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (s += c));
    res.on('end', () => resolve(s));
  });
}
