import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream';
import type { Backend } from '../backend.js';
import type { Upstream } from '../upstream.js';
import { backendAddress } from './backend-address.js';

/** What the TCP proxy reports about each client connection; metrics implement it. */
export interface TcpProxyObserver {
  /** The backend connection of a client connection is established (the connection counts as open from here). */
  connectionOpened(backendId: string): void;
  /**
   * A client connection ended, called once per accepted connection. `backendId` is '' when no
   * backend was reached (none eligible, or every connect attempt failed); only then was
   * `connectionOpened` not called. `bytesIn` were received from the client, `bytesOut` sent to
   * it; `durationMs` runs from accept to the last close (HAProxy's `Tt`). `ok` is true only for
   * an orderly close (a FIN each way, no error, no timeout, no forced close).
   */
  connectionClosed(backendId: string, bytesIn: number, bytesOut: number, durationMs: number, ok: boolean): void;
}

/** The listener settings every session of one TCP proxy shares. */
export interface TcpSessionSettings {
  upstream: Upstream;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  retries: number;
  hashClientIp: boolean;
  observer: TcpProxyObserver | undefined;
}

type Phase = 'connecting' | 'open' | 'closed';

/**
 * One accepted client connection and its backend connection: HAProxy's stream in `mode tcp`,
 * nginx's `stream` session with `proxy_pass`.
 *
 * Connecting: the backend is picked with the client address as key when `hashClientIp` (nginx
 * `hash $remote_addr` / HAProxy `balance source`) and counted in `backend.inFlight` from the
 * pick until the connection ends. A refused, failed or timed-out connect (`connectTimeoutMs`,
 * nginx `proxy_connect_timeout`, HAProxy `timeout connect`) is retried on another backend up to
 * `retries` times (nginx `proxy_next_upstream` + `proxy_next_upstream_tries`, HAProxy `retries`
 * + `option redispatch`); that is always safe because no client byte is read before a backend
 * connection exists. No backend, or every try failed: the client connection is closed.
 *
 * Open: bytes are copied both ways with `stream.pipeline` (backpressure: a slow reader pauses
 * the other side's reads). Both sockets allow half-open connections, so a FIN from one side is
 * forwarded as a FIN to the other and the opposite direction keeps flowing until it ends too
 * (HAProxy forwards shutdowns the same way). A reset or error on either side destroys both. No
 * traffic in either direction on a socket for `idleTimeoutMs` (0 = off; nginx `proxy_timeout`,
 * HAProxy `timeout client`/`timeout server`) destroys both.
 */
export class TcpSession {
  readonly #settings: TcpSessionSettings;
  readonly #client: Socket;
  readonly #onEnded: (session: TcpSession) => void;
  readonly #key: string | undefined;
  readonly #startMs = performance.now();
  #phase: Phase = 'connecting';
  /** The backend counted in `inFlight` (picked, connecting or connected); released exactly once. */
  #backend: Backend | undefined;
  #server: Socket | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #tries = 0;
  #connectedId = '';
  /** False after any socket error, idle timeout or forced close. */
  #clean = true;
  #socketsOpen = 0;

  /** @param onEnded called once, after both connections closed and the observer was told */
  constructor(settings: TcpSessionSettings, client: Socket, onEnded: (session: TcpSession) => void) {
    this.#settings = settings;
    this.#client = client;
    this.#onEnded = onEnded;
    this.#key = settings.hashClientIp ? client.remoteAddress : undefined;
  }

  start(): void {
    this.#client.on('error', this.#onSocketError);
    this.#client.once('close', this.#onClientClose);
    this.#attempt(this.#settings.upstream.pick(this.#key));
  }

  /** Cut both connections now (proxy shutdown after its grace period); reported with ok = false. */
  destroy(): void {
    this.#clean = false;
    this.#client.destroy();
    if (this.#phase === 'open') this.#server?.destroy();
  }

  #attempt(backend: Backend | undefined): void {
    if (backend === undefined) {
      this.#clean = false;
      this.#client.destroy(); // its 'close' ends the session
      return;
    }
    this.#tries++;
    this.#backend = backend;
    backend.inFlight++;
    const address = backendAddress(backend.url);
    if (address === undefined) {
      this.#connectFailed();
      return;
    }
    const server = connect({ host: address.host, port: address.port, allowHalfOpen: true, noDelay: true });
    this.#server = server;
    const onConnectError = (): void => {
      if (this.#server === server) this.#connectFailed();
    };
    this.#connectTimer = setTimeout(() => server.destroy(new Error(`connect timeout after ${this.#settings.connectTimeoutMs} ms`)), this.#settings.connectTimeoutMs);
    server.once('error', onConnectError);
    server.once('connect', () => {
      server.off('error', onConnectError);
      this.#open(server, backend);
    });
  }

  #connectFailed(): void {
    clearTimeout(this.#connectTimer);
    this.#server = undefined;
    const failed = this.#backend as Backend;
    this.#release();
    if (this.#tries > this.#settings.retries) {
      this.#clean = false;
      this.#client.destroy();
      return;
    }
    this.#attempt(this.#settings.upstream.pickExcept(failed, this.#key));
  }

  #open(server: Socket, backend: Backend): void {
    clearTimeout(this.#connectTimer);
    const client = this.#client;
    this.#phase = 'open';
    this.#connectedId = backend.id;
    this.#socketsOpen = 2;
    server.on('error', this.#onSocketError);
    server.once('close', this.#onSocketClose);
    const idleMs = this.#settings.idleTimeoutMs;
    if (idleMs > 0) {
      client.setTimeout(idleMs, this.#onIdle);
      server.setTimeout(idleMs, this.#onIdle);
    }
    notify(() => this.#settings.observer?.connectionOpened(backend.id));
    pipeline(client, server, this.#onPipelineDone);
    pipeline(server, client, this.#onPipelineDone);
  }

  readonly #onSocketError = (): void => {
    this.#clean = false;
  };

  readonly #onPipelineDone = (err: Error | null | undefined): void => {
    if (err) this.#clean = false;
  };

  readonly #onIdle = (): void => {
    this.#clean = false;
    this.#client.destroy();
    this.#server?.destroy();
  };

  readonly #onClientClose = (): void => {
    if (this.#phase !== 'connecting') {
      this.#onSocketClose();
      return;
    }
    // the client went away (reset, no backend, or forced close) before a backend connection existed
    clearTimeout(this.#connectTimer);
    const pending = this.#server;
    this.#server = undefined;
    pending?.destroy();
    this.#finish();
  };

  readonly #onSocketClose = (): void => {
    this.#socketsOpen--;
    if (this.#socketsOpen === 0) this.#finish();
  };

  #finish(): void {
    this.#phase = 'closed';
    this.#release();
    const client = this.#client;
    const server = this.#server;
    const orderly =
      server !== undefined && client.readableEnded && client.writableFinished && server.readableEnded && server.writableFinished;
    const ok = this.#clean && this.#connectedId !== '' && orderly;
    const durationMs = performance.now() - this.#startMs;
    notify(() => this.#settings.observer?.connectionClosed(this.#connectedId, client.bytesRead, client.bytesWritten, durationMs, ok));
    this.#onEnded(this);
  }

  #release(): void {
    const backend = this.#backend;
    this.#backend = undefined;
    backend?.release();
  }
}

/** Run an observer callback; a throwing observer is reported as a process warning, never breaks a connection. */
function notify(call: () => void): void {
  try {
    call();
  } catch (error) {
    process.emitWarning(`TCP proxy observer threw: ${String(error)}`, 'PrescaleTcpProxyWarning');
  }
}
