import type { Backend, UpstreamGroupState } from './backend.js';

/**
 * Passive health: backends are ejected from balancing on the failures real requests see.
 * Two reference behaviours, both on by default:
 * - nginx `max_fails` / `fail_timeout`: `maxFails` connection errors or timeouts within
 *   `failTimeoutMs` eject the backend for `failTimeoutMs` (0 disables);
 * - Envoy outlier detection: `consecutive5xx` 5xx responses, or `consecutiveGatewayFailures`
 *   502/503/504 responses and connection failures in a row, eject it for
 *   baseEjectionMs × (times ejected), capped at maxEjectionMs; at most `maxEjectionPercent` of
 *   the backends are ejected at once (at least one), and below `panicThresholdPercent` healthy
 *   backends the upstream enters panic mode and every ready backend takes traffic again.
 *   Deviation from Envoy: with no healthy backend at all prescale answers 503 rather than
 *   sending to backends known to be down.
 * An ejected backend returns when its time is up, through slow start.
 */
export interface PassiveHealthOptions {
  maxFails: number;
  failTimeoutMs: number;
  consecutive5xx: number;
  consecutiveGatewayFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
  panicThresholdPercent: number;
}

/** What a request's outcome was, from the backend's side. */
export type Outcome = 'connect' | 'timeout' | number;

export class OutlierDetector {
  private ejectedCount = 0;

  constructor(
    private readonly options: PassiveHealthOptions,
    private readonly group: UpstreamGroupState,
    private readonly backends: () => readonly Backend[],
  ) {}

  /** Backends ejected now. */
  get ejected(): number {
    return this.ejectedCount;
  }

  /** Return backends whose ejection has ended. O(1) when none is ejected (the hot-path case). */
  refresh(nowMs: number): void {
    if (this.ejectedCount === 0) return;
    let changed = false;
    for (const b of this.backends()) {
      if (b.ejectedUntilMs !== 0 && b.ejectedUntilMs <= nowMs) {
        b.ejectedUntilMs = 0;
        b.beginSlowStart();
        this.ejectedCount--;
        changed = true;
      }
    }
    if (changed) this.updatePanic();
  }

  /**
   * Lift `backend`'s ejection now: it passed an active health check, so it is back (Envoy's
   * outlier_detection successful_active_health_check_uneject_host, on by default there).
   * Without it a backend that returns after an outage idles until its ejection runs out.
   */
  uneject(backend: Backend): void {
    if (backend.ejectedUntilMs === 0) return;
    backend.ejectedUntilMs = 0;
    this.ejectedCount--;
    this.updatePanic();
  }

  /** Count one request outcome on `backend`: an HTTP status, or a connection error / timeout. */
  record(backend: Backend, outcome: Outcome, nowMs: number): void {
    const o = this.options;
    if (typeof outcome === 'number') {
      if (outcome < 500) {
        backend.consecutive5xx = 0;
        backend.consecutiveGatewayFailures = 0;
        return;
      }
      backend.consecutive5xx++;
      if (outcome >= 502 && outcome <= 504) backend.consecutiveGatewayFailures++;
      else backend.consecutiveGatewayFailures = 0;
    } else {
      backend.consecutive5xx++;
      backend.consecutiveGatewayFailures++;
      if (nowMs - backend.failWindowStartMs > o.failTimeoutMs) {
        backend.failWindowStartMs = nowMs;
        backend.fails = 0;
      }
      backend.fails++;
      if (o.maxFails > 0 && backend.fails >= o.maxFails) {
        this.eject(backend, nowMs, o.failTimeoutMs);
        return;
      }
    }
    if ((o.consecutive5xx > 0 && backend.consecutive5xx >= o.consecutive5xx) || (o.consecutiveGatewayFailures > 0 && backend.consecutiveGatewayFailures >= o.consecutiveGatewayFailures)) {
      this.eject(backend, nowMs, Math.min(o.baseEjectionMs * (backend.ejections + 1), o.maxEjectionMs));
    }
  }

  /** Recompute panic mode: 0 < healthy share of ready backends < panicThresholdPercent. */
  updatePanic(): void {
    let ready = 0;
    let available = 0;
    for (const b of this.backends()) {
      if (b.state !== 'ready') continue;
      ready++;
      if (b.available) available++;
    }
    this.group.panic = available > 0 && (available * 100) / ready < this.options.panicThresholdPercent;
  }

  private eject(backend: Backend, nowMs: number, durationMs: number): void {
    backend.fails = 0;
    backend.consecutive5xx = 0;
    backend.consecutiveGatewayFailures = 0;
    if (backend.ejectedUntilMs !== 0 || durationMs <= 0) return;
    const total = this.backends().length;
    const cap = Math.max(1, Math.floor((total * this.options.maxEjectionPercent) / 100));
    if (this.ejectedCount >= cap) return;
    backend.ejectedUntilMs = nowMs + durationMs;
    backend.ejections++;
    this.ejectedCount++;
    this.updatePanic();
  }
}
