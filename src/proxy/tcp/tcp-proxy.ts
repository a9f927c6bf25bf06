import { createServer, type AddressInfo, type Server } from 'node:net';
import { PrescaleError } from '../../errors.js';
import type { Upstream } from '../upstream.js';
import { TcpSession, type TcpProxyObserver } from './tcp-session.js';

export type { TcpProxyObserver } from './tcp-session.js';

export interface TcpProxyOptions {
  /** The backends and balancer; the same Upstream (and balancer) the HTTP proxy uses. */
  upstream: Upstream;
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  /** Deadline for one backend connect attempt (ms), nginx `proxy_connect_timeout`, HAProxy `timeout connect`. */
  connectTimeoutMs: number;
  /** A connection with no traffic on the client or backend socket for this long is closed (ms); 0 = never. nginx `proxy_timeout`. */
  idleTimeoutMs: number;
  /** Extra connect attempts on another backend after a failed connect, nginx `proxy_next_upstream_tries` − 1. */
  retries: number;
  /** Pass the client IP address as the balancing key (for ip-hash, ring-hash, maglev), nginx `hash $remote_addr`. */
  hashClientIp: boolean;
  observer?: TcpProxyObserver;
  /** How long `close()` waits for open connections before cutting them (ms); default 10 000. */
  closeTimeoutMs?: number;
}

export interface TcpProxy {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  /**
   * Stop accepting, wait up to `closeTimeoutMs` for open connections to end, then destroy the
   * rest; resolves when every connection has ended and been reported. Idempotent.
   */
  close(): Promise<void>;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Node timers fire after 1 ms when asked for more than this (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After destroying the connections left at the end of the grace period, how long close() waits for them to end. */
const DESTROY_WAIT_MS = 1_000;

/**
 * Listen in layer 4 mode: HAProxy `mode tcp` (https://docs.haproxy.org/3.0/configuration.html#4.2-mode)
 * or an nginx `stream { server { proxy_pass <upstream>; } }` block
 * (https://nginx.org/en/docs/stream/ngx_stream_proxy_module.html). Each accepted connection is
 * balanced on its own, to the host:port of a backend's url, and its bytes are copied both ways
 * unchanged (TLS passes through); see TcpSession for connect retries, half-close forwarding and
 * the idle timeout. `backend.inFlight` counts open connections, so least-connections, p2c and
 * bounded-load balance connections here, and `Upstream.drainAndRemove` works as for HTTP: a
 * backend in state 'drain' gets no new connections while its open ones run until they close
 * (or the drain timeout passes and the backend is removed from the list; its connections are
 * not cut by that, only by `close()` or the idle timeout).
 *
 * @returns once listening
 * @throws PrescaleError PRESCALE_ERR_CONFIG for negative or non-integer retries, a connect
 *   timeout ≤ 0, or a timeout that is negative, NaN or above 2^31 − 1 ms (Node's timer limit);
 *   the listen error (EADDRINUSE, ...) otherwise
 */
export async function listenTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  validate(options);
  const settings = {
    upstream: options.upstream,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    retries: options.retries,
    hashClientIp: options.hashClientIp,
    observer: options.observer,
  };
  const sessions = new OpenSessions();
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const session = new TcpSession(settings, client, (ended) => sessions.delete(ended));
    sessions.add(session);
    session.start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // accept errors (EMFILE, ...) after listening: report them, keep serving
  server.on('error', (error) => process.emitWarning(`TCP proxy listener error: ${String(error)}`, 'PrescaleTcpProxyWarning'));
  const port = (server.address() as AddressInfo).port;
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    close() {
      closing ??= closeGracefully(server, sessions, closeTimeoutMs);
      return closing;
    },
  };
}

/**
 * Stop accepting, wait up to `timeoutMs` for open connections to end, destroy the rest, and
 * resolve once every session has ended (observer told, backends released) and the listener is
 * closed. Ending after a destroy takes one or two event-loop turns; that wait is capped too.
 */
async function closeGracefully(server: Server, sessions: OpenSessions, timeoutMs: number): Promise<void> {
  const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (!(await sessions.waitEmpty(timeoutMs))) {
    for (const session of sessions.list()) session.destroy();
    await sessions.waitEmpty(DESTROY_WAIT_MS);
  }
  await listenerClosed;
}

/** The sessions of one listener that have not ended yet, with a wait for none left. */
class OpenSessions {
  readonly #sessions = new Set<TcpSession>();
  #emptyWaiters: Array<() => void> = [];

  add(session: TcpSession): void {
    this.#sessions.add(session);
  }

  delete(session: TcpSession): void {
    this.#sessions.delete(session);
    if (this.#sessions.size > 0) return;
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const w of waiters) w();
  }

  list(): TcpSession[] {
    return [...this.#sessions];
  }

  /** Resolve true once no session is open, or false after `timeoutMs`. */
  waitEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#sessions.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#emptyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

function validate(options: TcpProxyOptions): void {
  if (!(Number.isInteger(options.retries) && options.retries >= 0)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `TCP proxy retries must be an integer ≥ 0, got ${options.retries}`);
  }
  if (!(options.connectTimeoutMs > 0 && options.connectTimeoutMs <= MAX_TIMER_MS)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `TCP proxy connectTimeoutMs must be in (0, ${MAX_TIMER_MS}], got ${options.connectTimeoutMs}`);
  }
  if (!(options.idleTimeoutMs >= 0 && options.idleTimeoutMs <= MAX_TIMER_MS)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `TCP proxy idleTimeoutMs must be in [0, ${MAX_TIMER_MS}] (0 = off), got ${options.idleTimeoutMs}`);
  }
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  if (!(closeTimeoutMs >= 0 && closeTimeoutMs <= MAX_TIMER_MS)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `TCP proxy closeTimeoutMs must be in [0, ${MAX_TIMER_MS}], got ${closeTimeoutMs}`);
  }
}
