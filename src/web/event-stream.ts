import type { IncomingMessage, ServerResponse } from 'node:http';

/** One server-sent event: `event` names it, `data` is sent as JSON. */
export interface SseMessage {
  event: string;
  data: unknown;
}

export interface EventStreamOptions {
  /** Open streams at most; one more is answered 503 `too_many_clients` with Retry-After. Default 16. */
  maxClients?: number;
  /** Interval of the `: heartbeat` comment that keeps idle streams and proxies alive, ms. Default 15 000. */
  heartbeatMs?: number;
  /** A client with more unsent output than this (bytes) is disconnected: a slow reader must not grow memory. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Reconnection delay suggested to EventSource (`retry:` field), ms. Default 2 000. */
  retryMs?: number;
  /** Called when the first client connects and when the last one leaves (start and stop producers). */
  onActive?: (active: boolean) => void;
}

/**
 * One SSE message in the text/event-stream format (WHATWG HTML §9.2 "Server-sent events"):
 * `event: <name>` then the JSON of `data` on `data:` lines, then a blank line. JSON.stringify
 * escapes newlines inside strings, but every line is prefixed anyway so no input can end the
 * event early. Throws what JSON.stringify throws (a BigInt, a cycle).
 */
export function formatEvent(event: string, data: unknown): string {
  const name = event.replace(/[\r\n]/g, '');
  const json = JSON.stringify(data) ?? 'null';
  return `event: ${name}\n${json.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('')}\n`;
}

/**
 * A bounded set of server-sent-event streams over node:http responses (Express's too).
 * `accept` answers 200 text/event-stream, sends the `retry:` hint and the initial messages, and
 * keeps the response open; `broadcast` writes one event to every client (serialised once).
 * A client leaves when its connection closes (its listener is removed at once), when its unsent
 * output passes `maxBufferedBytes`, or on `close()`. Heartbeat comments run only while a client
 * is connected, on an unref'd timer. Responses carry `Connection: close` so an ended stream
 * frees its socket and a server can close promptly.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly maxClients: number;
  private readonly heartbeatMs: number;
  private readonly maxBufferedBytes: number;
  private readonly retryMs: number;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: EventStreamOptions = {}) {
    this.maxClients = options.maxClients ?? 16;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1 << 20;
    this.retryMs = options.retryMs ?? 2_000;
  }

  /** Clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Take `res` as a new stream and send `initial()` to it (called only once the client is
   * accepted). Returns false after answering 503 (at `maxClients`, or after `close()`).
   */
  accept(req: IncomingMessage, res: ServerResponse, initial: () => readonly SseMessage[]): boolean {
    if (this.closed || this.clients.size >= this.maxClients) {
      const body = JSON.stringify({ error: { code: 'too_many_clients', message: `at most ${this.maxClients} dashboard streams at once; close another tab or raise the limit` } });
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Retry-After': '10', Connection: 'close' });
      res.end(body);
      return false;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'close',
      'X-Accel-Buffering': 'no',
    });
    req.socket.setNoDelay(true);
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    res.write(`retry: ${this.retryMs}\n\n`);
    for (const m of initial()) this.write(res, formatEvent(m.event, m.data));
    if (this.clients.size === 1 && this.clients.has(res)) {
      this.startHeartbeat();
      this.options.onActive?.(true);
    }
    return true;
  }

  /** Send one event to every client. O(clients); the payload is serialised once. */
  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = formatEvent(event, data);
    for (const res of this.clients) this.write(res, text);
  }

  /** End every stream and refuse new ones. */
  close(): void {
    this.closed = true;
    for (const res of [...this.clients]) {
      res.end();
      this.remove(res);
    }
  }

  private write(res: ServerResponse, text: string): void {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > this.maxBufferedBytes) {
      res.destroy();
      this.remove(res);
      return;
    }
    res.write(text);
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (this.clients.size === 0) {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      this.options.onActive?.(false);
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) this.write(res, ': heartbeat\n\n');
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }
}
