import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Backend } from './backend.js';
import { isLostConnection, sendError, upstreamErrorCode } from './error-response.js';
import { requestHeaders, responseHeaders } from './forwarded-headers.js';
import type { OutlierDetector } from './outlier-detection.js';
import { watchClose, type CloseWatcher } from './response-close.js';
import type { Upstream } from './upstream.js';

/** What the proxy reports about each request; the traffic recorder and metrics implement it. */
export interface ProxyObserver {
  /** A request was admitted; `inFlight` counts it. */
  requestStarted(inFlight: number, nowMs: number): void;
  /**
   * A request finished. `status` is what the client got (499 when the client went away first,
   * nginx's convention); `backendId` is '' when no backend was reached.
   */
  requestFinished(startMs: number, latencyMs: number, status: number, bytes: number, backendId: string): void;
}

export interface ProxyHandlerOptions {
  upstream: Upstream;
  observer?: ProxyObserver;
  /** Extra tries on another backend after a connect error or timeout; only for idempotent requests without a body (RFC 9110 §9.2.2). */
  retries: number;
  /** Scheme the client used, for X-Forwarded-Proto. */
  proto?: 'http' | 'https';
  /** Balancing key of a request, for ip-hash, ring-hash and maglev (see hash-key.ts); omit for the others. */
  hashKey?: (req: IncomingMessage) => string | undefined;
  /** Passive health: request outcomes eject failing backends (outlier-detection.ts). */
  outlier?: OutlierDetector;
  /**
   * When every backend is at its maxConns, requests wait in one FIFO queue of at most
   * `limit` entries for `timeoutMs` (HAProxy's backend queue and `timeout queue`), then 503.
   */
  queue?: { limit: number; timeoutMs: number };
  /** Response statuses that are retried on another backend (idempotent requests without a body), e.g. [502, 503]. */
  retryOn?: readonly number[];
  /** Deadline for the whole exchange including retries, ms; 0 = none (then per-phase timeouts apply). */
  totalTimeoutMs?: number;
  /** Clients whose X-Forwarded-For is kept and appended to (trusted-proxies.ts); others' is replaced. */
  trustedProxy?: (address: string | undefined) => boolean;
}

/** Express-compatible `(req, res, next)`; errors are answered here, never passed to `next`. */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Envoy's default retry budget: 20% of active requests, at least 3 concurrent retries. */
const RETRY_BUDGET_SHARE = 0.2;
const RETRY_BUDGET_MIN = 3;
const NOOP_OBSERVER: ProxyObserver = { requestStarted() {}, requestFinished() {} };
const timeOrigin = performance.timeOrigin;
/** The 1xx-5xx slot of a status in Backend.responses (0: no response / not a status). */
function statusClass(status: number): number {
  return status >= 100 && status < 600 ? (status / 100) | 0 : 0;
}

/**
 * Build the forwarding handler: picks a backend from `upstream`, forwards the request through
 * the backend's keep-alive undici Pool with the low-level `dispatch` API (bodies stream both
 * ways with backpressure, never buffered whole), rewrites headers per RFC 9110 §7.6 (hop-by-hop
 * removed, Via added) and adds X-Forwarded-For/-Proto/-Host (de facto, as nginx and HAProxy).
 *
 * Errors: no eligible backend → 503 PRESCALE_ERR_NO_HEALTHY_BACKEND; connection failure → 502
 * PRESCALE_ERR_UPSTREAM_CONNECT; connect/first-byte/idle timeout → 504
 * PRESCALE_ERR_UPSTREAM_TIMEOUT. An error after the response started resets the client
 * connection. A client that disconnects aborts the upstream request.
 */
export function createProxyHandler(options: ProxyHandlerOptions): ProxyHandler {
  const ctx: ProxyContext = {
    upstream: options.upstream,
    observer: options.observer ?? NOOP_OBSERVER,
    retries: options.retries,
    proto: options.proto ?? 'http',
    hashKey: options.hashKey,
    outlier: options.outlier,
    inFlight: 0,
    retriesInFlight: 0,
    queue: [],
    trustedProxy: options.trustedProxy,
    retryOn: options.retryOn !== undefined && options.retryOn.length > 0 ? new Set(options.retryOn) : null,
    totalTimeoutMs: options.totalTimeoutMs ?? 0,
    queueLimit: options.queue?.limit ?? 0,
    queueTimeoutMs: options.queue?.timeoutMs ?? 0,
  };
  return function prescaleProxy(req, res) {
    const exchange = new Exchange(ctx, req, res);
    exchange.start();
  };
}

interface ProxyContext {
  upstream: Upstream;
  observer: ProxyObserver;
  retries: number;
  proto: string;
  hashKey: ((req: IncomingMessage) => string | undefined) | undefined;
  outlier: OutlierDetector | undefined;
  inFlight: number;
  retriesInFlight: number;
  /** Requests waiting for a backend below its maxConns, oldest first. */
  queue: Exchange[];
  trustedProxy: ((address: string | undefined) => boolean) | undefined;
  retryOn: ReadonlySet<number> | null;
  totalTimeoutMs: number;
  queueLimit: number;
  queueTimeoutMs: number;
}

/**
 * The request body as one Buffer when all of it has arrived and sits in the request's read
 * buffer (small bodies: server.ts waits for up to 16 KiB of it), so undici writes head and body
 * at once instead of piping a stream; else the request itself, streamed with backpressure.
 */
function wholeBody(req: IncomingMessage): IncomingMessage | Buffer {
  if (!req.complete || req.readableFlowing === true || req.readableEnded) return req;
  return (req.read() as Buffer | null) ?? Buffer.alloc(0);
}

/** Some backend would take traffic but for maxConns. O(n). */
function anyFull(upstream: Upstream): boolean {
  for (const b of upstream.backends) if (b.full) return true;
  return false;
}

/** A request finished and freed a slot: hand backends to queued requests, oldest first. */
function dispatchQueued(ctx: ProxyContext): void {
  while (ctx.queue.length > 0) {
    const next = ctx.queue[0] as Exchange;
    const backend = ctx.upstream.pick(next.key);
    if (backend === undefined) return;
    ctx.queue.shift();
    next.dequeued(backend);
  }
}

/** One client request and its (possibly retried) upstream attempt: an undici dispatch handler. */
class Exchange implements Dispatcher.DispatchHandler, CloseWatcher {
  private backend: Backend | undefined;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private readonly startPerf = performance.now();
  private bytes = 0;
  /** The upstream response's Content-Length, -1 when it has none (chunked, or until close). */
  expectedBytes = -1;
  /** The client response was ended with its last chunk (onData), before onComplete. */
  private ended = false;
  private tries = 0;
  private done = false;
  private responseStarted = false;
  private readonly hasBody: boolean;
  key: string | undefined;
  private queueTimer: NodeJS.Timeout | null = null;
  private totalTimer: NodeJS.Timeout | null = null;
  /** Status of a response being discarded to retry it elsewhere (0: none). */
  private discardedStatus = 0;
  /** The current backend failed to answer (already counted by passive health). */
  private localFailure = false;
  /** This request holds one unit of the retry budget. */
  private retried = false;
  /** Already given the one extra try after a connection that broke before any response. */
  private reconnected = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    const h = req.headers;
    this.hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
  }

  start(): void {
    const ctx = this.ctx;
    ctx.inFlight++;
    ctx.observer.requestStarted(ctx.inFlight, timeOrigin + this.startPerf);
    watchClose(this.res, 'handler', this);
    ctx.outlier?.refresh(timeOrigin + this.startPerf);
    if (ctx.totalTimeoutMs > 0) this.totalTimer = setTimeout(() => this.onTotalTimeout(), ctx.totalTimeoutMs);
    if (ctx.hashKey !== undefined) this.key = ctx.hashKey(this.req);
    this.send(ctx.upstream.pick(this.key));
  }

  private send(backend: Backend | undefined, via?: Dispatcher): void {
    if (backend === undefined) {
      // a retry that found no other backend: the failed one was released already, never twice
      this.backend = undefined;
      const ctx = this.ctx;
      if (ctx.queueLimit > 0 && anyFull(ctx.upstream)) {
        if (ctx.queue.length >= ctx.queueLimit) {
          this.fail('PRESCALE_ERR_QUEUE_TIMEOUT', `every backend is at maxConns and the queue is full (${ctx.queueLimit})`);
          return;
        }
        ctx.queue.push(this);
        this.queueTimer = setTimeout(() => this.onQueueTimeout(), ctx.queueTimeoutMs);
        return;
      }
      this.fail('PRESCALE_ERR_NO_HEALTHY_BACKEND', 'no healthy backend is available');
      return;
    }
    this.backend = backend;
    this.tries++;
    backend.inFlight++;
    const req = this.req;
    (via ?? backend.pool).dispatch(
      {
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers: requestHeaders(req, this.ctx.proto, this.ctx.trustedProxy),
        body: this.hasBody ? wholeBody(req) : null,
      },
      this,
    );
  }


  // ---- undici dispatch handler (legacy form: raw headers, no per-request header parsing) ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) {
      abort();
      return;
    }
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx interim responses are not relayed (node answers 100-continue itself)
    if (this.ctx.retryOn !== null && this.ctx.retryOn.has(statusCode) && this.canRetry(false)) {
      // discard this response and try another backend; undici reports the abort through onError
      this.discardedStatus = statusCode;
      this.abortUpstream?.(new Error(`retrying after status ${statusCode}`));
      return false;
    }
    this.resume = resume;
    this.responseStarted = true;
    const headers = responseHeaders(rawHeaders, this);
    try {
      this.res.writeHead(statusCode, statusText, headers);
    } catch {
      // a header value node refuses to send: the upstream response is invalid
      this.responseStarted = false;
      this.abortUpstream?.();
      this.fail('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend sent an invalid response header');
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes === this.expectedBytes) {
      // the last byte the Content-Length announces: one end(chunk) instead of write() then end()
      this.ended = true;
      this.res.end(chunk);
      return true;
    }
    const ok = this.res.write(chunk);
    if (!ok) this.res.once('drain', () => this.resume?.());
    return ok;
  }

  onComplete(): void {
    if (!this.ended) this.res.end();
    this.finish(this.res.statusCode);
  }

  onError(err: Error): void {
    if (this.done) return;
    const backend = this.backend;
    if (this.discardedStatus !== 0 && backend !== undefined) {
      this.ctx.outlier?.record(backend, this.discardedStatus, timeOrigin + performance.now());
      this.discardedStatus = 0;
      this.retryElsewhere(backend);
      return;
    }
    if (this.ended) {
      // every byte the Content-Length announced went to the client: the response is whole
      this.finish(this.res.statusCode);
      return;
    }
    if (this.responseStarted) {
      // the response is half sent: the only honest signal left is to reset the client connection
      this.res.destroy(err);
      this.finish(this.res.statusCode);
      return;
    }
    if (backend !== undefined && !this.reconnected && isLostConnection(err)) {
      // broke before any response: most likely a keep-alive connection the backend closed while
      // idle (the reuse race), so not held against it (nginx does not count errors on cached
      // connections); an idempotent request without a body gets one extra try on a new
      // connection (RFC 9112 §9.3.1), anything else fails 502 and is never sent twice
      this.reconnected = true;
      if (this.hasBody || !IDEMPOTENT.has(this.req.method ?? '')) {
        this.localFailure = true;
        this.fail('PRESCALE_ERR_UPSTREAM_CONNECT', 'the backend connection closed before a response');
        return;
      }
      backend.release();
      this.abortUpstream = null;
      this.tries--;
      const next = backend.eligible ? backend : this.ctx.upstream.pickExcept(backend, this.key);
      const fresh = next === undefined ? undefined : this.ctx.upstream.freshConnection(next);
      this.send(next, fresh);
      void fresh?.close().catch(() => undefined); // closes once this request is done
      return;
    }
    const code = upstreamErrorCode(err);
    if (backend !== undefined) this.ctx.outlier?.record(backend, code === 'PRESCALE_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'connect', timeOrigin + performance.now());
    this.localFailure = true;
    if (backend !== undefined && this.canRetry(code === 'PRESCALE_ERR_UPSTREAM_TIMEOUT')) {
      this.localFailure = false;
      this.retryElsewhere(backend);
      return;
    }
    this.fail(code, code === 'PRESCALE_ERR_UPSTREAM_TIMEOUT' ? 'the backend did not answer in time' : 'the backend connection failed');
  }

  /** The client's response closed (response-close.ts): ended, or the client went away first. */
  responseClosed(): void {
    this.onClientClose();
  }

  // ---- helpers ----

  /** Give up on `backend` for this request and send it to another one. */
  private retryElsewhere(backend: Backend): void {
    if (!this.retried) {
      this.retried = true;
      this.ctx.retriesInFlight++;
    }
    backend.responses[0]!++;
    backend.release();
    this.abortUpstream = null;
    backend.observeLatency(performance.now() - this.startPerf, timeOrigin + performance.now());
    this.send(this.ctx.upstream.pickExcept(backend, this.key));
  }

  // timers and drain listeners are bound only when used, so a plain request allocates no extra closures
  private onTotalTimeout(): void {
    this.totalTimer = null;
    if (this.done) return;
    const abort = this.abortUpstream;
    // answer first, so the abort's own error report finds the exchange done
    if (this.responseStarted) {
      this.res.destroy();
      this.finish(this.res.statusCode);
    } else {
      this.fail('PRESCALE_ERR_UPSTREAM_TIMEOUT', `no complete answer within ${this.ctx.totalTimeoutMs} ms`);
    }
    abort?.(new Error('total timeout'));
  }

  /** Leave the queue with a backend that has a free slot. */
  dequeued(backend: Backend): void {
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    if (this.done) return;
    this.send(backend);
  }

  private onQueueTimeout(): void {
    this.queueTimer = null;
    const i = this.ctx.queue.indexOf(this);
    if (i >= 0) this.ctx.queue.splice(i, 1);
    this.fail('PRESCALE_ERR_QUEUE_TIMEOUT', `every backend stayed at maxConns for ${this.ctx.queueTimeoutMs} ms`);
  }

  /**
   * Retry only idempotent requests without a body (RFC 9110 §9.2.2: nothing was consumed that
   * could not be sent again), within `retries` extra tries. Retries after a timeout also stay
   * within Envoy's retry budget (retries in flight under max(3, 20% of active requests)), since
   * a slow backend may be an overloaded fleet that a retry storm would sink. A refused or broken
   * connection is not budgeted: the backend that failed is gone, and the retry goes elsewhere.
   */
  private canRetry(afterTimeout: boolean): boolean {
    const ctx = this.ctx;
    if (this.tries > ctx.retries || this.hasBody || !IDEMPOTENT.has(this.req.method ?? '') || ctx.upstream.backends.length < 2) return false;
    return !afterTimeout || this.retried || ctx.retriesInFlight < Math.max(RETRY_BUDGET_MIN, ctx.inFlight * RETRY_BUDGET_SHARE);
  }


  /** The response closed (onResponseClose); before its end, the client went away. */
  onClientClose(): void {
    if (this.done) return;
    // the client went away before the response ended: stop the upstream work too (finish
    // first: undici reports the abort through onError at once, which must find the exchange done)
    const abort = this.abortUpstream;
    this.finish(499);
    abort?.(new Error('client closed the connection'));
  }

  private fail(code: Parameters<typeof sendError>[1], message: string): void {
    const status = sendError(this.res, code, message);
    this.finish(status);
  }

  private finish(status: number): void {
    if (this.done) return;
    this.done = true;
    // the response may outlive the exchange (until the connection's next request)
    watchClose(this.res, 'handler', undefined);
    const ctx = this.ctx;
    ctx.inFlight--;
    if (this.retried) ctx.retriesInFlight--;
    if (this.totalTimer !== null) {
      clearTimeout(this.totalTimer);
      this.totalTimer = null;
    }
    if (this.queueTimer !== null) {
      // the client left while queued
      clearTimeout(this.queueTimer);
      this.queueTimer = null;
      const i = ctx.queue.indexOf(this);
      if (i >= 0) ctx.queue.splice(i, 1);
    }
    const backend = this.backend;
    const latencyMs = performance.now() - this.startPerf;
    if (backend !== undefined) {
      backend.responses[statusClass(status)]!++;
      backend.observeLatency(latencyMs, timeOrigin + this.startPerf + latencyMs);
      if (!this.localFailure && status !== 499) ctx.outlier?.record(backend, status, timeOrigin + this.startPerf + latencyMs);
      backend.release();
      if (ctx.queue.length > 0) dispatchQueued(ctx);
    }
    ctx.observer.requestFinished(timeOrigin + this.startPerf, latencyMs, status, this.bytes, backend?.id ?? '');
  }
}
