/**
 * What the dashboard page receives, and the pure functions that build it from the running parts
 * (tick reports, traffic buckets, forecast vectors, backends). Times are epoch ms; a point's
 * `t` is the start of the interval it describes, so observed load, the forecast for an interval
 * and the capacity decided at its start line up on one axis. Rates are requests per second.
 */
import type { TickReport } from '../scaler/control-loop.js';
import type { Bucket } from '../series/traffic-series.js';

/** Fixed facts about the run, sent once per connection. */
export interface DashboardMeta {
  intervalMs: number;
  /** Quantile of the forecast's upper bound, e.g. 0.9. */
  quantile: number;
  capacityPerBackendRps: number;
  targetUtilization: number;
  /** Intervals of history the page keeps (the snapshot sends at most this many). */
  historyIntervals: number;
}

/** Offered load of one closed interval. */
export interface ObservedPoint {
  t: number;
  rps: number;
  errors: number;
  latencyP99Ms: number;
}

/** Fleet as decided at the start of interval `t`. */
export interface CapacityPoint {
  t: number;
  desired: number;
  ready: number;
  instances: number;
}

/** Forecast for interval `t`: point (central) and upper bound, rps. */
export interface BandPoint {
  t: number;
  pointRps: number;
  upperRps: number;
}

/** One scaling decision with its reason (src/scaler/decide.ts). */
export interface DecisionRow {
  atMs: number;
  desired: number;
  /** Desired of the tick before, null for the first one known. */
  previous: number | null;
  reactive: number;
  predictive: number | null;
  reason: string;
  detail: string;
  observedRps: number;
  /** Forecast upper bound over the lead time, rps; null without a forecast. */
  forecastUpperRps: number | null;
  model: string | null;
  fallback: string | null;
}

/** One backend row of the table. */
export interface BackendRow {
  id: string;
  url: string;
  state: string;
  healthy: boolean;
  ejected: boolean;
  weight: number;
  /** Weight after slow start (Envoy's ramp); equals `weight` outside a ramp. */
  effectiveWeight: number;
  inFlight: number;
  /** Peak-EWMA response latency decayed to now, ms; 0 before the first response. */
  latencyMs: number;
  /** Requests it served in the last closed interval, per second. */
  rps: number;
  /** Responses with a 5xx status or none at all since it was added. */
  errors: number;
}

export interface DashboardSnapshot {
  meta: DashboardMeta;
  nowMs: number;
  observed: ObservedPoint[];
  capacity: CapacityPoint[];
  /** Past intervals: the newest forecast made for each; then the latest forecast ahead of now. */
  band: BandPoint[];
  /** Newest last, at most DECISIONS_SHOWN. */
  decisions: DecisionRow[];
  backends: BackendRow[];
}

/** One control-loop tick, as sent to the page. */
export interface TickEvent {
  t: number;
  observed: ObservedPoint | null;
  capacity: CapacityPoint;
  /** The whole forecast vector from `t` on; [] without a forecast this tick. */
  band: BandPoint[];
  decision: DecisionRow;
}

/** A forecast as counts per interval, next interval first (the loop's ForecastEvent has it). */
export interface ForecastVector {
  /** Point forecast (the model's central estimate). */
  readonly point: readonly number[];
  /** Upper bound at `forecast.quantile`, same length. */
  readonly upper: readonly number[];
}

/** Decisions the page lists. */
export const DECISIONS_SHOWN = 15;

/** What the table needs of a backend (src/proxy/backend.ts `Backend` has it). */
export interface BackendLike {
  readonly id: string;
  readonly url: string;
  readonly state: string;
  readonly healthy: boolean;
  readonly ejectedUntilMs: number;
  readonly weight: number;
  readonly effectiveWeight: number;
  readonly inFlight: number;
  readonly responses: readonly number[];
  peakEwmaAt(nowMs: number): number;
}

const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : 0);

/** Start of the interval holding `ms` (boundaries are multiples of intervalMs since the epoch). */
export function alignDown(ms: number, intervalMs: number): number {
  return Math.floor(ms / intervalMs) * intervalMs;
}

export function observedPoint(b: Bucket): ObservedPoint {
  return { t: b.startMs, rps: round(b.requests / (b.intervalMs / 1000)), errors: b.errors, latencyP99Ms: round(b.latencyP99Ms, 1) };
}

export function capacityPoint(r: TickReport, intervalMs: number): CapacityPoint {
  return { t: alignDown(r.nowMs, intervalMs), desired: r.decision.desired, ready: r.ready, instances: r.instances };
}

export function decisionRow(r: TickReport, previous: TickReport | undefined): DecisionRow {
  const d = r.decision;
  return {
    atMs: r.nowMs,
    desired: d.desired,
    previous: previous?.decision.desired ?? null,
    reactive: d.reactive,
    predictive: d.predictive,
    reason: d.reason,
    detail: d.detail,
    observedRps: round(r.observedRps),
    forecastUpperRps: r.forecast ? round(r.forecast.upperRps) : null,
    model: r.forecast?.model ?? null,
    fallback: r.forecast?.fallback ?? null,
  };
}

/**
 * A forecast vector as band points: element i is the interval starting `startMs + i × intervalMs`,
 * counts become rps. Non-finite values become 0 (NaN never reaches the page). O(horizon).
 */
export function bandPoints(f: ForecastVector, startMs: number, intervalMs: number): BandPoint[] {
  const seconds = intervalMs / 1000;
  const n = Math.min(f.point.length, f.upper.length);
  const out: BandPoint[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ t: startMs + i * intervalMs, pointRps: round((f.point[i] as number) / seconds), upperRps: round((f.upper[i] as number) / seconds) });
  }
  return out;
}

/**
 * Table rows at `nowMs` (epoch ms, the clock latencies were observed on); `last` is the newest
 * closed bucket (its per-backend counts give each row's rps), if any; `inFlightOf` overrides the
 * backend's own in-flight count when it answers a number (the sum over cluster workers). O(backends).
 */
export function backendRows(backends: readonly BackendLike[], nowMs: number, last: Bucket | undefined, inFlightOf?: (id: string) => number | undefined): BackendRow[] {
  const seconds = last ? last.intervalMs / 1000 : 1;
  return backends.map((b) => ({
    id: b.id,
    url: b.url,
    state: b.state,
    healthy: b.healthy,
    ejected: b.ejectedUntilMs > 0,
    weight: b.weight,
    effectiveWeight: round(b.effectiveWeight),
    inFlight: inFlightOf?.(b.id) ?? b.inFlight,
    latencyMs: round(b.peakEwmaAt(nowMs), 1),
    rps: round((last?.byBackend[b.id] ?? 0) / seconds),
    errors: (b.responses[0] ?? 0) + (b.responses[5] ?? 0),
  }));
}
