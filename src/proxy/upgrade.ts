import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ErrorCode } from '../errors.js';
import type { Backend } from './backend.js';
import { STATUS_BY_CODE } from './error-response.js';
import { connectionTokens, isHopByHop } from './hop-by-hop.js';
import { bodyEnd, consumeBody, responseHead, takeResponseHead, type BodyEnd, type ResponseHead } from './upgrade-response.js';
import type { Upstream } from './upstream.js';

export interface UpgradeHandlerOptions {
  upstream: Upstream;
  /** Time allowed for the TCP (and, for an https backend, TLS) connection to the backend. */
  connectTimeoutMs: number;
  /** Time allowed from sending the request to the backend's response head; omit for no limit. */
  firstByteTimeoutMs?: number;
  /** Scheme the client used, for X-Forwarded-Proto. */
  proto?: 'http' | 'https';
  /** Balancing key of a request, for ip-hash, ring-hash and maglev (see hash-key.ts). */
  hashKey?: (req: IncomingMessage) => string | undefined;
}

/** A listener for node:http's `'upgrade'` event. */
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** How long a closing side may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Build the handler of HTTP/1.1 Upgrade requests (WebSocket, RFC 6455 §4; any protocol switch,
 * RFC 9110 §7.8). Per request: pick a backend (`upstream.pick(key)`), open a raw TCP connection
 * (TLS for an https backend) within `connectTimeoutMs`, send the request line and headers (hop-by-
 * hop fields removed as forward.ts does, except `Connection: Upgrade` and `Upgrade`, which RFC
 * 9110 §7.8 requires on every hop; X-Forwarded-For/-Proto/-Host and Via added) and `head`, then
 * waits up to `firstByteTimeoutMs` (when given) for the response head. On
 * `101 Switching Protocols` the two sockets become a byte tunnel (frames are not inspected); any
 * other response is relayed with `Connection: close` and both sockets close after its body.
 * The tunnel counts in `backend.inFlight` until its backend socket closes, so a drain waits for
 * open WebSockets (or its timeout).
 *
 * Errors, answered as JSON `{"error":{"code","message"}}`: no eligible backend → 503
 * PRESCALE_ERR_NO_HEALTHY_BACKEND; connection failure, a connection closed before answering or
 * an invalid response head → 502 PRESCALE_ERR_UPSTREAM_CONNECT; connect or first-byte timeout →
 * 504 PRESCALE_ERR_UPSTREAM_TIMEOUT. Either side closing or failing closes the other.
 */
export function createUpgradeHandler(options: UpgradeHandlerOptions): UpgradeListener {
  const ctx: UpgradeContext = { ...options, proto: options.proto ?? 'http' };
  return function prescaleUpgrade(req, socket, head) {
    new Tunnel(ctx, req, socket, head).start();
  };
}

interface UpgradeContext extends UpgradeHandlerOptions {
  proto: 'http' | 'https';
}

/** One upgrade request: connecting → awaiting the response head → tunnel (101) or relaying (other). */
class Tunnel {
  private phase: 'connecting' | 'awaiting' | 'relaying' | 'tunnel' | 'done' = 'connecting';
  private backend: Backend | undefined;
  private upstream: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private body: BodyEnd = { kind: 'close' };
  private released = false;

  constructor(
    private readonly ctx: UpgradeContext,
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
  ) {}

  start(): void {
    this.client.on('error', () => this.client.destroy());
    this.client.on('close', this.onClientClose);
    const backend = this.ctx.upstream.pick(this.ctx.hashKey?.(this.req));
    if (backend === undefined) return this.reject('PRESCALE_ERR_NO_HEALTHY_BACKEND', 'no healthy backend is available');
    this.backend = backend;
    backend.inFlight++;
    let connected: { socket: Socket; readyEvent: string };
    try {
      connected = connectTo(backend.url);
    } catch {
      this.release();
      return this.reject('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend address is invalid');
    }
    const upstream = (this.upstream = connected.socket);
    upstream.once(connected.readyEvent, this.onConnected);
    upstream.on('error', this.onUpstreamError);
    upstream.on('close', this.onUpstreamClose);
    this.timer = setTimeout(this.onTimeout, this.ctx.connectTimeoutMs);
  }

  private readonly onConnected = (): void => {
    clearTimeout(this.timer);
    if (this.phase !== 'connecting') return;
    this.phase = 'awaiting';
    const upstream = this.upstream as Socket;
    upstream.setNoDelay(true);
    upstream.write(Buffer.from(requestHead(this.req, this.ctx.proto), 'latin1'));
    if (this.head.length > 0) upstream.write(this.head);
    upstream.on('data', this.onResponseData);
    this.client.pipe(upstream);
    if (this.ctx.firstByteTimeoutMs !== undefined) this.timer = setTimeout(this.onTimeout, this.ctx.firstByteTimeoutMs);
  };

  private readonly onTimeout = (): void => {
    if (this.phase === 'connecting') this.reject('PRESCALE_ERR_UPSTREAM_TIMEOUT', 'the backend did not accept the connection in time');
    else if (this.phase === 'awaiting') this.reject('PRESCALE_ERR_UPSTREAM_TIMEOUT', 'the backend did not answer the upgrade request in time');
  };

  private readonly onResponseData = (chunk: Buffer): void => {
    if (this.phase === 'relaying') return this.relayBody(chunk);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const found = takeResponseHead(this.pending);
      if (found.kind === 'incomplete') return;
      if (found.kind === 'too-large') return this.reject('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend response head is too large');
      const { rest } = found;
      this.pending = rest;
      if (found.kind === 'invalid') return this.reject('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend sent an invalid response head');
      const { head } = found;
      if (head.status === 101) return this.switchProtocols(head, rest);
      if (head.status >= 200) return this.relayResponse(head, rest);
      // an interim 1xx (e.g. 103 Early Hints) is dropped, as forward.ts does
    }
  };

  private switchProtocols(head: ResponseHead, rest: Buffer): void {
    const upstream = this.upstream as Socket;
    clearTimeout(this.timer);
    this.phase = 'tunnel';
    this.countResponse(101);
    upstream.off('data', this.onResponseData);
    this.client.write(responseHead(head, true));
    if (rest.length > 0) this.client.write(rest);
    upstream.pipe(this.client);
  }

  private relayResponse(head: ResponseHead, rest: Buffer): void {
    const body = bodyEnd(this.req.method ?? 'GET', head);
    if (body === null) return this.reject('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend sent an invalid response head');
    clearTimeout(this.timer);
    this.phase = 'relaying';
    this.body = body;
    this.countResponse(head.status);
    this.client.unpipe(this.upstream);
    this.client.write(responseHead(head, false));
    this.relayBody(rest);
  }

  /** Relay the bytes of a non-101 response body as they come (framing untouched), then close. */
  private relayBody(chunk: Buffer): void {
    const framed = consumeBody(this.body, chunk);
    if (framed === 'malformed') return this.closeBoth();
    const { take, complete } = framed;
    const upstream = this.upstream as Socket;
    if (take > 0 && !this.client.write(take === chunk.length ? chunk : chunk.subarray(0, take)) && !complete) {
      upstream.pause();
      this.client.once('drain', () => upstream.resume());
    }
    if (complete) {
      this.phase = 'done';
      upstream.destroy();
      endThenDestroy(this.client);
    }
  }

  private readonly onUpstreamError = (): void => {
    if (this.phase === 'connecting' || this.phase === 'awaiting') this.reject('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend connection failed');
    else if (this.phase !== 'done') this.closeBoth();
  };

  private readonly onUpstreamClose = (): void => {
    this.release();
    const phase = this.phase;
    if (phase === 'connecting' || phase === 'awaiting') {
      this.reject('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend closed the connection before answering');
    } else if (phase === 'tunnel' || (phase === 'relaying' && this.body.kind === 'close')) {
      this.phase = 'done';
      endThenDestroy(this.client);
    } else if (phase === 'relaying') {
      this.closeBoth(); // the body was cut short: a reset is the only honest signal left
    }
  };

  private readonly onClientClose = (): void => {
    clearTimeout(this.timer);
    const phase = this.phase;
    this.phase = 'done';
    if (this.upstream === undefined) return;
    if (phase === 'tunnel') endThenDestroy(this.upstream);
    else this.upstream.destroy();
  };

  /** Answer the client with a proxy error and close both sides. */
  private reject(code: ErrorCode, message: string): void {
    clearTimeout(this.timer);
    this.phase = 'done';
    this.upstream?.destroy();
    const status = STATUS_BY_CODE[code] ?? 500;
    this.countResponse(status);
    const body = JSON.stringify({ error: { code, message } });
    if (this.upstream !== undefined) this.client.unpipe(this.upstream);
    if (!this.client.writable) {
      this.client.destroy();
      return;
    }
    this.client.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `cache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
    endThenDestroy(this.client);
  }

  private closeBoth(): void {
    this.phase = 'done';
    this.upstream?.destroy();
    this.client.destroy();
  }

  private countResponse(status: number): void {
    if (this.backend !== undefined) this.backend.responses[(status / 100) | 0]!++;
  }

  private release(): void {
    if (this.released || this.backend === undefined) return;
    this.released = true;
    this.backend.release();
  }
}

/** Open a connection to a backend URL: TCP, or TLS (verified, SNI from the host name) for https. */
function connectTo(url: string): { socket: Socket; readyEvent: string } {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  if (!secure) return { socket: netConnect({ host, port }), readyEvent: 'connect' };
  const socket = tlsConnect({ host, port, ALPNProtocols: ['http/1.1'], ...(isIP(host) === 0 ? { servername: host } : {}) });
  return { socket, readyEvent: 'secureConnect' };
}

/**
 * The request head sent to the backend. Hop-by-hop fields and those named in Connection are
 * removed (RFC 9110 §7.6.1) except Upgrade, which is re-sent with `Connection: Upgrade` (§7.8).
 * Transfer-Encoding and Content-Length stay: a request body is relayed byte for byte, not re-framed.
 */
function requestHead(req: IncomingMessage, proto: string): string {
  const raw = req.rawHeaders;
  const listed = connectionTokens(req.headers.connection);
  let out = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
  let via = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower !== 'upgrade' && lower !== 'transfer-encoding') {
      if (isHopByHop(lower) || (listed !== null && listed.includes(lower))) continue;
      if (lower === 'x-forwarded-for' || lower === 'x-forwarded-proto' || lower === 'x-forwarded-host') continue;
      if (lower === 'via') {
        via = via === '' ? value : `${via}, ${value}`;
        continue;
      }
    }
    out += `${name}: ${value}\r\n`;
  }
  out += `Connection: Upgrade\r\nX-Forwarded-For: ${req.socket.remoteAddress ?? ''}\r\nX-Forwarded-Proto: ${proto}\r\n`;
  out += `Via: ${via === '' ? '' : `${via}, `}${req.httpVersion} prescale\r\n`;
  if (req.headers.host !== undefined) out += `X-Forwarded-Host: ${req.headers.host}\r\n`;
  return `${out}\r\n`;
}

/** End a socket's writable side, then destroy it once flushed (or after CLOSE_GRACE_MS). */
function endThenDestroy(socket: Duplex): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.end(() => {
    clearTimeout(timer);
    socket.destroy();
  });
}
