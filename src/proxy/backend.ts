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
  /**
   * Peak EWMA of response latency in ms as of `peakEwmaStampMs` (Finagle's PeakEwma cost):
   * 0 before the first observation. Read `peakEwmaAt(nowMs)` for the value decayed to now.
   */
  peakEwmaMs = 0;
  /** Clock reading (ms, the caller's clock) of the last `observeLatency`. */
  peakEwmaStampMs = 0;
  /** Decay time constant τ of the peak EWMA in ms (Finagle's and Linkerd's default: 10 s). */
  peakEwmaDecayMs = 10_000;
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

  /**
   * The weight weight-aware balancers use now. Equal to `weight` for now; slow start will ramp
   * it from a fraction of `weight` up to `weight` after a backend is admitted.
   */
  get effectiveWeight(): number {
    return this.weight;
  }

  /**
   * Record one response latency into the peak EWMA (Finagle `PeakEwma.observe`, also
   * Linkerd/tower `PeakEwma`): a sample above the current (decayed) value replaces it at once;
   * a lower one is blended in with weight 1 − e^(−Δt/τ), where Δt is the time since the last
   * sample. `nowMs` must come from the same clock the balancer reads (default: epoch ms,
   * `performance.timeOrigin + performance.now()`); a clock going backwards counts as Δt = 0.
   * Negative, NaN or infinite inputs are ignored. O(1), no allocation.
   */
  observeLatency(latencyMs: number, nowMs: number): void {
    if (!(latencyMs >= 0) || latencyMs === Infinity || !Number.isFinite(nowMs)) return;
    const w = this.peakEwmaWeight(nowMs);
    const decayed = this.peakEwmaMs * w;
    this.peakEwmaMs = latencyMs > decayed ? latencyMs : decayed + latencyMs * (1 - w);
    if (nowMs > this.peakEwmaStampMs) this.peakEwmaStampMs = nowMs;
  }

  /** The peak EWMA in ms decayed to `nowMs` (e^(−Δt/τ)), without recording anything. O(1). */
  peakEwmaAt(nowMs: number): number {
    return this.peakEwmaMs === 0 ? 0 : this.peakEwmaMs * this.peakEwmaWeight(nowMs);
  }

  /** e^(−Δt/τ) for Δt = nowMs − last sample, clamped at Δt ≥ 0; 0 (no memory) when τ ≤ 0. */
  private peakEwmaWeight(nowMs: number): number {
    const elapsedMs = nowMs > this.peakEwmaStampMs ? nowMs - this.peakEwmaStampMs : 0;
    if (!(this.peakEwmaDecayMs > 0)) return 0;
    const w = Math.exp(-elapsedMs / this.peakEwmaDecayMs);
    return Number.isFinite(w) ? w : 0;
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
