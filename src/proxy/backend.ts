import { Pool } from 'undici';

/**
 * Backend states, with HAProxy's meaning (`set server state ready|drain|maint`):
 * - ready: takes new requests when healthy;
 * - drain: takes no new requests, in-flight ones finish (used before removal on scale-in);
 * - maint: takes nothing (not yet admitted, or administratively down).
 */
export type BackendState = 'ready' | 'drain' | 'maint';

export interface BackendOptions {
  id: string;
  url: string;
  weight: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveConnections: number;
}

/**
 * One upstream server: its state, weight, live counters and its keep-alive undici Pool.
 * Counters are plain integers read by the metrics collector at scrape time, so the hot path
 * touches no metric objects.
 */
export class Backend {
  readonly id: string;
  readonly url: string;
  readonly pool: Pool;
  weight: number;
  state: BackendState = 'maint';
  healthy = false;
  inFlight = 0;
  /** Smooth weighted round robin's running weight (nginx `current_weight`). */
  currentWeight = 0;
  /** Finished requests by status class: index 0 = no response (proxy error), 1..5 = 1xx..5xx. */
  readonly responses = [0, 0, 0, 0, 0, 0];
  private drainWaiters: Array<() => void> = [];

  constructor(options: BackendOptions) {
    this.id = options.id;
    this.url = options.url;
    this.weight = options.weight;
    this.pool = new Pool(options.url, {
      connections: options.keepAliveConnections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.firstByteTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      keepAliveTimeout: 4_000,
      pipelining: 1,
    });
  }

  /** True when the balancer may send a new request here. */
  get eligible(): boolean {
    return this.state === 'ready' && this.healthy && this.weight > 0;
  }

  /** Called when a request that was sent here has finished (any outcome). */
  release(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolve when no request is in flight here, or after `timeoutMs` (resolves false then). */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
