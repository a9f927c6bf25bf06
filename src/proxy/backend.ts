import { Pool } from 'undici';

/**
 * Backend states, with HAProxy's meaning (`set server state ready|drain|maint`):
 * - ready: takes new requests when healthy;
 * - drain: takes no new requests, in-flight ones finish (used before removal on scale-in);
 * - maint: takes nothing (not yet admitted, or administratively down).
 */
export type BackendState = 'ready' | 'drain' | 'maint';

/**
 * Slow start, Envoy's `slow_start_config`: for `windowMs` after a backend is admitted or comes
 * back healthy its effective weight is weight × max(minWeightPercent / 100, t^(1 / aggression)),
 * with t = max(elapsed, 1 ms) / windowMs, so a cold instance is not flooded.
 */
export interface SlowStartOptions {
  windowMs: number;
  aggression: number;
  minWeightPercent: number;
}

/** State shared by every backend of one upstream: Envoy's panic mode, where all backends take traffic. */
export interface UpstreamGroupState {
  panic: boolean;
}

export interface BackendOptions {
  id: string;
  url: string;
  weight: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveConnections: number;
  slowStart?: SlowStartOptions | undefined;
  group?: UpstreamGroupState | undefined;
  /** HAProxy `maxconn` per server: requests in flight at most; 0 = unlimited. A full backend is skipped. */
  maxConns?: number | undefined;
  /** Clock for slow start, epoch ms; default Date.now. */
  nowMs?: (() => number) | undefined;
}

/**
 * One upstream server: its state, weight, live counters and its keep-alive undici Pool.
 * Counters are plain integers read by the metrics collector at scrape time, so the hot path
 * touches no metric objects.
 */
export class Backend {
  readonly id: string;
  readonly url: string;
  private httpPool: Pool | undefined;
  private readonly poolOptions: Pool.Options;
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
  /** Passive ejection: ejected until this time (epoch ms), 0 when not ejected. */
  ejectedUntilMs = 0;
  /** Times this backend has been ejected (Envoy grows the ejection time with it). */
  ejections = 0;
  /** Active health check probes by result: index 0 = failed, 1 = passed (read by the metrics at scrape time). */
  readonly healthChecks = [0, 0];
  /** Consecutive 5xx responses and consecutive gateway failures (502/503/504, connect errors). */
  consecutive5xx = 0;
  consecutiveGatewayFailures = 0;
  /** nginx max_fails: failures counted since `failWindowStartMs`. */
  fails = 0;
  failWindowStartMs = 0;
  /** Start of the current slow-start ramp (epoch ms); meaningful while `slowStarting`. */
  slowStartFromMs = 0;
  slowStarting = false;
  readonly maxConns: number;
  private readonly slowStart: SlowStartOptions | undefined;
  private readonly group: UpstreamGroupState;
  private readonly nowMs: () => number;
  private drainWaiters: Array<() => void> = [];

  constructor(options: BackendOptions) {
    this.id = options.id;
    this.url = options.url;
    this.weight = options.weight;
    this.slowStart = options.slowStart !== undefined && options.slowStart.windowMs > 0 ? options.slowStart : undefined;
    this.group = options.group ?? { panic: false };
    this.maxConns = options.maxConns ?? 0;
    this.nowMs = options.nowMs ?? Date.now;
    this.poolOptions = {
      connections: options.keepAliveConnections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.firstByteTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      keepAliveTimeout: 4_000,
      pipelining: 1,
    };
  }

  /** The keep-alive HTTP connection pool, made on first use (a TCP-mode backend never has one). */
  get pool(): Pool {
    this.httpPool ??= new Pool(this.url, this.poolOptions);
    return this.httpPool;
  }

  /**
   * True when the balancer may send a new request here: ready, weight > 0, below `maxConns`,
   * and healthy and not ejected, unless the upstream is in panic mode (then health is ignored,
   * as in Envoy).
   */
  get eligible(): boolean {
    return this.state === 'ready' && this.weight > 0 && (this.maxConns === 0 || this.inFlight < this.maxConns) && ((this.healthy && this.ejectedUntilMs === 0) || this.group.panic);
  }

  /** Would take traffic but for `maxConns` (its requests wait in the upstream queue). */
  get full(): boolean {
    return this.maxConns !== 0 && this.inFlight >= this.maxConns && this.state === 'ready' && this.weight > 0 && ((this.healthy && this.ejectedUntilMs === 0) || this.group.panic);
  }

  /** Healthy and not ejected (what the panic threshold counts). */
  get available(): boolean {
    return this.healthy && this.ejectedUntilMs === 0;
  }

  /**
   * The weight weight-aware balancers use now: `weight`, ramped during slow start (Envoy's
   * formula, see SlowStartOptions). O(1); reads the clock only while a ramp runs.
   */
  get effectiveWeight(): number {
    if (!this.slowStarting || this.slowStart === undefined) return this.weight;
    const elapsedMs = this.nowMs() - this.slowStartFromMs;
    const { windowMs, aggression, minWeightPercent } = this.slowStart;
    if (elapsedMs >= windowMs) {
      this.slowStarting = false;
      return this.weight;
    }
    const t = Math.max(elapsedMs, 1) / windowMs;
    const factor = aggression === 1 ? t : t ** (1 / aggression);
    return this.weight * Math.max(minWeightPercent / 100, factor);
  }

  /** Set health from the checker; coming back healthy starts a slow-start ramp. */
  setHealthy(healthy: boolean): void {
    if (healthy && !this.healthy) this.beginSlowStart();
    this.healthy = healthy;
  }

  /** Begin a slow-start ramp now (no-op when slow start is off). */
  beginSlowStart(): void {
    if (this.slowStart === undefined) return;
    this.slowStartFromMs = this.nowMs();
    this.slowStarting = true;
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
    return this.httpPool?.close() ?? Promise.resolve();
  }
}
