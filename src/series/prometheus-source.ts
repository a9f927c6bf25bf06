import { queryRange, type RangeSeries } from '../metrics/prometheus-range.js';
import type { Bucket } from './traffic-series.js';

/** The local per-interval series this source wraps (TrafficSeries implements it). */
export interface LocalSeries {
  readonly intervalMs: number;
  closeUntil(nowMs: number): Bucket[];
  values(): number[];
}

export interface PrometheusSeriesOptions {
  /** Prometheus base URL, e.g. http://prometheus:9090 (a path prefix is kept). */
  url: string;
  /** PromQL whose value at time t is the request rate (requests per second) over the time just before t; several series are summed. */
  query: string;
  /** Resolution of the range query, ms; must divide the interval. Default: the interval. */
  stepMs?: number;
  /** Per request, headers and body each, ms. */
  timeoutMs: number;
  /** Intervals kept (series.capacity). */
  capacity: number;
  /** This process's own series: closes buckets (the traffic log) and is the fallback history. */
  local: LocalSeries;
  logger?: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Prometheus refuses range queries of more than 11 000 points per series; stay below. */
const MAX_STEPS_PER_QUERY = 10_000;
/** Each refresh re-reads this much of the recent past, since scrapes arrive late. */
const REREAD_MS = 60_000;

/**
 * The forecast's history read from Prometheus (`series.source: prometheus`), so several prescale
 * replicas, each recording its own share, feed one forecast of the total. It has the shape the
 * control loop reads (SeriesSource of src/scaler/control-loop.ts): `closeUntil` closes the local
 * buckets (the traffic log stays per replica), `refresh(nowMs)` runs the range query, and
 * `values()` gives requests per interval, oldest first, ending at the interval boundary at or
 * before the last refresh.
 *
 * Query semantics: the value at evaluation time t is a rate in requests per second over the
 * time just before t, e.g. `sum(rate(prescale_request_duration_seconds_count{job="prescale"}[1m]))`.
 * Samples are taken every `stepMs` (a divisor of the interval); the interval [s, s + interval)
 * gets the mean of the samples at s + step … s + interval, times the interval in seconds. An
 * interval without any sample counts 0 requests; NaN, ±Inf and negative samples are skipped.
 * The first refresh reads `capacity` intervals (in queries of at most 10 000 steps), later ones
 * the intervals since the last one plus the last minute again (Prometheus lags by a scrape).
 *
 * Failure: an unreachable server, an error answer or a result with no series makes `values()`
 * return the local series (this replica's share) until a refresh succeeds again; each failure
 * is counted in `errors` (`request` / `empty`), and the switch to and from the fallback is
 * logged. `refresh` never rejects.
 */
export class PrometheusSeries {
  readonly intervalMs: number;
  readonly errors = { request: 0, empty: 0 };
  /** Epoch ms of the last successful refresh, 0 before the first. */
  lastSuccessMs = 0;
  private counts: number[] = [];
  /** End (exclusive) of the newest interval in `counts`; meaningful when counts is not empty. */
  private endMs = 0;
  private failing = true;
  private warned = false;
  private inFlight: Promise<void> | null = null;
  private readonly stepMs: number;

  constructor(private readonly options: PrometheusSeriesOptions) {
    this.intervalMs = options.local.intervalMs;
    this.stepMs = options.stepMs ?? this.intervalMs;
  }

  /** True while `values()` is the local series because the last refresh failed (or none ran yet). */
  get fallback(): boolean {
    return this.failing;
  }

  closeUntil(nowMs: number): Bucket[] {
    return this.options.local.closeUntil(nowMs);
  }

  /** Requests per interval, oldest first (a new array): Prometheus' total, or the local series in fallback. O(n). */
  values(): number[] {
    return this.failing ? this.options.local.values() : [...this.counts];
  }

  /** Query Prometheus up to the interval boundary at or before `nowMs`. Resolves after success or fallback. */
  refresh(nowMs: number): Promise<void> {
    this.inFlight ??= this.load(Math.floor(nowMs / this.intervalMs) * this.intervalMs, nowMs).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async load(endMs: number, nowMs: number): Promise<void> {
    const { capacity, logger, url } = this.options;
    const interval = this.intervalMs;
    const oldestMs = endMs - capacity * interval;
    const incremental = this.counts.length > 0 && this.endMs > oldestMs && this.endMs <= endMs;
    const fromMs = incremental ? Math.max(oldestMs, this.endMs - Math.max(2 * interval, Math.ceil(REREAD_MS / interval) * interval)) : oldestMs;
    let series: RangeSeries[];
    try {
      series = await this.query(fromMs, endMs);
    } catch (err) {
      this.errors.request++;
      return this.fail({ err }, 'prometheus history source failed; forecasting from the local series');
    }
    if (series.length === 0) {
      this.errors.empty++;
      return this.fail({ url, query: this.options.query }, 'prometheus history query returned no series; forecasting from the local series');
    }
    const fresh = intervalCounts(series, fromMs, endMs, interval);
    const kept = incremental ? this.counts.slice(0, Math.max(0, this.counts.length - (this.endMs - fromMs) / interval)) : [];
    const merged = kept.concat(fresh);
    this.counts = merged.length > capacity ? merged.slice(merged.length - capacity) : merged;
    this.endMs = endMs;
    this.lastSuccessMs = nowMs;
    if (this.failing) logger?.info({ url, intervals: this.counts.length }, 'forecast history read from prometheus');
    this.failing = false;
    this.warned = false;
  }

  private fail(fields: object, message: string): void {
    // one warning per outage; every failure is counted in `errors`
    if (!this.warned) this.options.logger?.warn({ ...fields, url: this.options.url }, message);
    this.warned = true;
    this.failing = true;
  }

  /** Range queries over (fromMs, endMs] in chunks of at most MAX_STEPS_PER_QUERY steps; every chunk's series. */
  private async query(fromMs: number, endMs: number): Promise<RangeSeries[]> {
    const { url, query, timeoutMs } = this.options;
    const step = this.stepMs;
    const all: RangeSeries[] = [];
    for (let chunkFrom = fromMs; chunkFrom < endMs; chunkFrom += MAX_STEPS_PER_QUERY * step) {
      const chunkTo = Math.min(endMs, chunkFrom + MAX_STEPS_PER_QUERY * step);
      const result = await queryRange({ url, query, startMs: chunkFrom + step, endMs: chunkTo, stepMs: step, timeoutMs });
      all.push(...result.series);
    }
    return all;
  }
}

/**
 * Requests per interval over [fromMs, endMs) from rate samples: a sample at t (ms) belongs to the
 * interval ending at or after t, the series are summed per time, and each interval gets the mean
 * of its times' sums × interval seconds (0 without a sample). O(samples + intervals).
 */
export function intervalCounts(series: readonly RangeSeries[], fromMs: number, endMs: number, intervalMs: number): number[] {
  const byTime = new Map<number, number>();
  for (const s of series) {
    for (const [seconds, text] of s.values) {
      const rate = Number(text);
      if (!Number.isFinite(rate) || rate < 0) continue;
      const tMs = Math.round(seconds * 1000);
      byTime.set(tMs, (byTime.get(tMs) ?? 0) + rate);
    }
  }
  const n = Math.max(0, Math.round((endMs - fromMs) / intervalMs));
  const sums = new Array<number>(n).fill(0);
  const samples = new Array<number>(n).fill(0);
  for (const [tMs, rate] of byTime) {
    const i = Math.ceil((tMs - fromMs) / intervalMs) - 1;
    if (i < 0 || i >= n) continue;
    sums[i] = (sums[i] as number) + rate;
    samples[i] = (samples[i] as number) + 1;
  }
  return sums.map((sum, i) => (samples[i] === 0 ? 0 : (sum / (samples[i] as number)) * (intervalMs / 1000)));
}
