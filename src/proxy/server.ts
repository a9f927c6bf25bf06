import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyHandler } from './forward.js';
import { createCertificateReloader, readTlsFiles, type TlsFiles } from './tls.js';
import type { UpgradeListener } from './upgrade.js';
import { isNamed } from './hop-by-hop.js';
import { watchClose, type CloseWatcher } from './response-close.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Terminate TLS with these PEM files (node:https); omit for plain HTTP. */
  tls?: TlsFiles | undefined;
  /**
   * Handler of HTTP/1.1 Upgrade requests (WebSocket), e.g. `createUpgradeHandler(...)`. Without
   * it, upgrade requests reach `handler` as ordinary requests and lose their Upgrade header.
   */
  upgrade?: UpgradeListener | undefined;
  /** A client must send the whole request head within this, ms (also bounds a TLS handshake); default 20 000. */
  headersTimeoutMs?: number | undefined;
  /** A client must send the whole request, head and body, within this, ms; default 300 000; 0 = no limit. Must be ≥ headersTimeoutMs. */
  requestTimeoutMs?: number | undefined;
  /** An idle keep-alive connection is closed after this, ms; default 75 000 (nginx's keepalive_timeout). */
  keepAliveTimeoutMs?: number | undefined;
  /** Most header lines a request may carry, else 431; default 100 (HAProxy's tune.http.maxhdr is 101). */
  maxHeaders?: number | undefined;
}

export interface ProxyListener {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  /**
   * Re-read the TLS files and serve them to new connections; established connections keep their
   * certificate. Rejects with PrescaleError('PRESCALE_ERR_CONFIG') naming a bad file, and the
   * previous certificate stays in use. Resolves at once on a plain HTTP listener.
   */
  reload(): Promise<void>;
}

/** Defaults of the ListenOptions timeouts, ms, and of the header-line limit. */
export const LISTEN_DEFAULTS = { headersTimeoutMs: 20_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 75_000, maxHeaders: 100 } as const;
/** The request head (request line and header lines) is at most 16 KiB, else 431 (node's and nginx's usual bound). */
const MAX_HEADER_BYTES = 16_384;

/** Client sockets of open upgrade tunnels per listener, which `closeServer` must end itself. */
const tunnels = new WeakMap<Server, Set<Duplex>>();

/**
 * Serve a proxy handler on a plain node:http server, or node:https with `options.tls` (the hot
 * path: no Express per-request work). Defences against hostile framing, each answered with
 * `Connection: close` and never forwarded (tests: test/integration/hostile-*.test.ts):
 * - node's strict llhttp parser (`insecureHTTPParser` off) rejects Content-Length with
 *   Transfer-Encoding, duplicate or non-digit Content-Length, a Transfer-Encoding not ending in
 *   chunked, bad chunk sizes, obs-fold, bare CR or LF, control characters in fields, whitespace
 *   before the colon, invalid methods and targets (RFC 9112 §2.2, §3, §5.1, §5.2, §6.1, §6.3,
 *   §7.1, §11.2; RFC 9110 §5.5): 400, or 431 for a head over 16 KiB, 413 for oversized chunk
 *   extensions. The answer waits for the responses to earlier pipelined requests (RFC 9112
 *   §9.3.2), so a client never takes it for one of them; a request already being forwarded whose
 *   body breaks is cut off instead, which aborts its upstream exchange.
 * - then: no Host in HTTP/1.1, more than one Host line or an invalid Host (400, RFC 9112 §3.2);
 *   any Transfer-Encoding in HTTP/1.0 (400, §6.1); a transfer coding other than chunked (501,
 *   §6.1: it would be forwarded undecoded and mislabelled); a version other than 1.0 and 1.1
 *   (505, RFC 9110 §15.6.6; 400 for 0.9); more than `maxHeaders` header lines (431, RFC 6585
 *   §5); a target neither origin-form nor absolute-form (400, RFC 9112 §3.2); absolute-form is
 *   rewritten to origin-form, and refused (400) when its authority differs from Host or carries
 *   userinfo (§3.2.2, RFC 9110 §4.2.4). Requests pipelined behind a refused one are not served.
 * - slow clients (slowloris): the head must arrive within `headersTimeoutMs`, the whole request
 *   within `requestTimeoutMs` (408, then close), checked every min(1 s, headersTimeoutMs / 4); a
 *   body reaches a backend only once complete or 16 KiB of it has arrived (whenBodyBuffered).
 *   Upgraded connections (WebSocket tunnels) are not subject to them.
 * What is forwarded is framed anew by undici: Content-Length when the client sent one or the
 * body is complete, else chunked; never both (RFC 9112 §6.1, §6.3).
 * Throws PrescaleError('PRESCALE_ERR_CONFIG') naming the file when the TLS certificate or key is
 * missing or invalid; rejects with the listen error (e.g. EADDRINUSE).
 * @returns the listening server, its bound port and `reload()` for the TLS certificate.
 */
export async function listenProxy(handler: ProxyHandler, options: ListenOptions): Promise<ProxyListener> {
  const headersTimeout = options.headersTimeoutMs ?? LISTEN_DEFAULTS.headersTimeoutMs;
  const requestTimeout = options.requestTimeoutMs ?? LISTEN_DEFAULTS.requestTimeoutMs;
  const maxHeaders = options.maxHeaders ?? LISTEN_DEFAULTS.maxHeaders;
  const serverOptions: ServerOptions = {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? LISTEN_DEFAULTS.keepAliveTimeoutMs,
    headersTimeout,
    requestTimeout: requestTimeout === 0 ? 0 : Math.max(requestTimeout, headersTimeout),
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(headersTimeout / 4))),
    maxHeaderSize: MAX_HEADER_BYTES,
    insecureHTTPParser: false,
    // checked in refusal(), so that requests pipelined behind the refused one are not served
    requireHostHeader: false,
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => serveChecked(handler, maxHeaders, req, res);
  let server: Server;
  let reload = (): Promise<void> => Promise.resolve();
  if (options.tls !== undefined) {
    const material = await readTlsFiles(options.tls);
    const httpsServer = createHttpsServer({ ...serverOptions, handshakeTimeout: headersTimeout, ...material }, onRequest);
    reload = createCertificateReloader(httpsServer, options.tls);
    server = httpsServer;
  } else {
    server = createServer(serverOptions, onRequest);
  }
  // node keeps only this many header lines; one more than allowed lets serveChecked see the excess
  server.maxHeadersCount = maxHeaders + 1;
  server.on('clientError', onClientError);
  if (options.upgrade !== undefined) trackUpgrades(server, options.upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port, reload };
}

/** How often a closing server closes the keep-alive connections that went idle since, ms. */
const CLOSE_SWEEP_MS = 50;

/**
 * Stop accepting, let in-flight requests finish, close idle keep-alive sockets (now, and every
 * 50 ms those whose request has finished since, so a shutdown does not wait out
 * keepAliveTimeoutMs), and close open upgrade tunnels (a WebSocket has no natural end a shutdown
 * could wait for; its client reconnects). Resolves when every connection is closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), CLOSE_SWEEP_MS);
    sweep.unref();
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
    for (const socket of tunnels.get(server) ?? []) socket.destroy();
  });
}

/**
 * What the framing defences remember about one client connection: responses begun and not yet
 * closed (`open`, pipelined ones included), the latest request and response (cleared once the
 * response closes with the request complete, so an idle keep-alive connection holds neither),
 * whether the connection is condemned (no later request on it is served), the status of an
 * error answer waiting for `open` to reach 0 (`deferred`, 0 for none), and the last Host value
 * that passed validation (`validHost`).
 */
class Connection implements CloseWatcher {
  open = 0;
  req: IncomingMessage | undefined = undefined;
  res: ServerResponse | undefined = undefined;
  closing = false;
  deferred = 0;
  validHost: string | undefined = undefined;

  constructor(readonly socket: Duplex) {}

  responseClosed(res: ServerResponse): void {
    this.open--;
    // a request whose body is still arriving stays known to onClientError
    if (this.res === res && this.req?.complete !== false) {
      this.req = undefined;
      this.res = undefined;
    }
    if (this.open === 0 && this.deferred !== 0) answerAndClose(this.socket, this.deferred);
  }
}

/** The Connection of a client socket, kept on the socket itself (no WeakMap lookup per request). */
const CONNECTION = Symbol('prescale.connection');
type TrackedSocket = Duplex & { [CONNECTION]?: Connection };

function connectionOf(socket: Duplex): Connection {
  const s = socket as TrackedSocket;
  let conn = s[CONNECTION];
  if (conn === undefined) {
    conn = new Connection(socket);
    s[CONNECTION] = conn;
  }
  return conn;
}

function serveChecked(handler: ProxyHandler, maxHeaders: number, req: IncomingMessage, res: ServerResponse): void {
  const conn = connectionOf(req.socket);
  // parsed behind a refused request: never served; the socket closes after the refusal
  if (conn.closing) return;
  conn.open++;
  conn.req = req;
  conn.res = res;
  watchClose(res, 'listener', conn);
  const status = refusal(req, maxHeaders, conn);
  if (status === 0) {
    if (bodyless(req)) handler(req, res);
    else whenBodyBuffered(req, () => handler(req, res));
    return;
  }
  conn.closing = true;
  res.writeHead(status, { connection: 'close', 'content-length': 0 });
  res.end();
}

/** No request body: neither Transfer-Encoding nor a Content-Length other than 0. */
function bodyless(req: IncomingMessage): boolean {
  const h = req.headers;
  return h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0');
}

/**
 * Call `go` once the request body is complete or a full read buffer of it (the request's
 * highWaterMark, 16 KiB) has arrived (a request without a body is served at once, `bodyless`): HAProxy's
 * `option http-buffer-request`. A client trickling its body holds no upstream connection while
 * it does; requestTimeoutMs cuts it off. The body stays in the request stream, unread.
 */
function whenBodyBuffered(req: IncomingMessage, go: () => void): void {
  const check = (): void => {
    if (!req.complete && req.readableLength < req.readableHighWaterMark) return;
    req.off('readable', check);
    req.off('close', drop);
    go();
  };
  const drop = (): void => void req.off('readable', check);
  req.on('readable', check);
  req.once('close', drop);
}

/** uri-host [ ":" port ] (RFC 3986 §3.2.2, RFC 9110 §7.2), or empty. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
/** absolute-form target: scheme, authority, path-and-query (RFC 9112 §3.2.2). */
const ABSOLUTE = /^https?:\/\/([^/?#]*)([^#]*)/i;

/**
 * The status to refuse `req` with, or 0 to serve it; rewrites an absolute-form `req.url` to
 * origin-form. O(header lines); compares only names of the right length, without allocating, so
 * a plain request pays a few integer compares per header; the Host pattern runs once per new Host value of a
 * connection.
 */
function refusal(req: IncomingMessage, maxHeaders: number, conn: Connection): number {
  if (req.httpVersionMajor !== 1) return req.httpVersionMajor === 0 ? 400 : 505;
  const raw = req.rawHeaders;
  if (raw.length > maxHeaders * 2) return 431;
  let hosts = 0;
  let codings: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (isNamed(name, 'host')) hosts++;
    else if (isNamed(name, 'transfer-encoding')) codings = codings === undefined ? (raw[i + 1] as string) : `${codings},${raw[i + 1] as string}`;
  }
  const host = req.headers.host;
  if (hosts > 1) return 400;
  if (host === undefined) {
    if (req.httpVersionMinor === 1) return 400;
  } else if (host !== conn.validHost) {
    // a keep-alive client repeats its Host: test the pattern once per value and connection
    if (!HOST.test(host)) return 400;
    conn.validHost = host;
  }
  if (codings !== undefined) {
    if (req.httpVersionMinor === 0) return 400;
    if (codings.trim().toLowerCase() !== 'chunked') return 501;
  }
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 47) return 0; // origin-form: "/"
  const absolute = ABSOLUTE.exec(url);
  if (absolute === null) return 400;
  const authority = absolute[1] as string;
  if (authority.includes('@') || authority.toLowerCase() !== (host ?? '').toLowerCase()) return 400;
  const rest = absolute[2] as string;
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  return 0;
}

/** Status for a parse error or request timeout; 0 for a socket error (nothing to answer). */
function clientErrorStatus(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  return code?.startsWith('HPE_') === true ? 400 : 0;
}

/**
 * node's parser failed or a request timed out on `socket`. Answer once, after the responses to
 * earlier pipelined requests; cut off a request that is already being forwarded.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const conn = connectionOf(socket);
  if (conn.closing) return; // already answered, or a refusal is on its way
  conn.closing = true;
  const status = clientErrorStatus(err.code);
  if (status === 0 || !socket.writable) return void socket.destroy();
  if (conn.req !== undefined && !conn.req.complete) {
    // the request being forwarded broke mid-body (bad chunk, timeout): its framing is lost
    if (conn.open === 1 && conn.res?.headersSent === false) socket.write(rawResponse(status));
    socket.destroy();
    return;
  }
  if (conn.open === 0) answerAndClose(socket, status);
  else conn.deferred = status;
}

function rawResponse(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

function answerAndClose(socket: Duplex, status: number): void {
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(rawResponse(status));
}

function trackUpgrades(server: Server, upgrade: UpgradeListener): void {
  const open = new Set<Duplex>();
  tunnels.set(server, open);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    upgrade(req, socket, head);
  });
}
