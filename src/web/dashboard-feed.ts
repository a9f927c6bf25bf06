import type { ForecastEvent, TickReport } from '../scaler/control-loop.js';
import type { Bucket } from '../series/traffic-series.js';
import {
  alignDown,
  backendRows,
  bandPoints,
  capacityPoint,
  decisionRow,
  DECISIONS_SHOWN,
  observedPoint,
  type BackendLike,
  type BackendRow,
  type BandPoint,
  type DashboardMeta,
  type DashboardSnapshot,
  type TickEvent,
} from './dashboard-views.js';

/**
 * The control loop as the feed sees it (src/scaler/control-loop.ts): 'forecast' with the whole
 * forecast vector when the forecaster answered, then 'tick' with the TickReport, in one tick.
 */
export interface LoopEvents {
  on(event: 'tick', listener: (report: TickReport) => void): unknown;
  on(event: 'forecast', listener: (event: ForecastEvent) => void): unknown;
  off(event: 'tick', listener: (report: TickReport) => void): unknown;
  off(event: 'forecast', listener: (event: ForecastEvent) => void): unknown;
}

/** The traffic series as the feed sees it (src/series/traffic-series.ts). */
export interface BucketSource {
  buckets(): readonly Bucket[];
  last(): Bucket | undefined;
}

export interface DashboardFeedOptions {
  meta: Omit<DashboardMeta, 'historyIntervals'> & { historyIntervals?: number };
  loop: LoopEvents;
  series: BucketSource;
  /** The backends of the scaled pool, read at every status event. */
  backends(): readonly BackendLike[];
  /** Requests in flight to `id` when the backends' own counters do not hold them (cluster workers); undefined: the backend's count. */
  inFlight?(id: string): number | undefined;
  /** Retained tick reports, oldest first (what GET /v1/decisions serves). */
  reports(): readonly TickReport[];
  /** Epoch ms on the clock backend latencies are observed on; default timeOrigin + performance.now(). */
  clock?: () => number;
}

/**
 * The dashboard's data: a snapshot of recent history for a page that connects, and one
 * TickEvent per control-loop tick. It listens to the loop from construction on and keeps only
 * what the tick reports do not (they hold the forecast's maximum over the lead time, the loop's
 * 'forecast' event the whole vector): the forecast made at each tick for its own interval (the
 * band behind now) and the latest whole vector (the band ahead of now), `historyIntervals` at most.
 * A tick without a forecast (reactive policy, a failed forecaster) has an empty band.
 * Reads the backends, series and reports it is given; changes nothing. `close()` stops listening.
 */
export class DashboardFeed {
  readonly meta: DashboardMeta;
  private readonly pastBand: BandPoint[] = [];
  private ahead: BandPoint[] = [];
  /** The vector of the tick in progress ('forecast' comes just before its 'tick'). */
  private pending: ForecastEvent | null = null;
  private readonly listeners = new Set<(event: TickEvent) => void>();
  private readonly clock: () => number;
  private readonly onReport = (report: TickReport): void => this.tick(report);
  private readonly onForecast = (event: ForecastEvent): void => {
    this.pending = event;
  };

  constructor(private readonly options: DashboardFeedOptions) {
    this.meta = { historyIntervals: 360, ...options.meta };
    this.clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    options.loop.on('forecast', this.onForecast);
    options.loop.on('tick', this.onReport);
  }

  /** Everything a page needs to draw the recent past: O(series capacity + retained reports). */
  snapshot(): DashboardSnapshot {
    const n = this.meta.historyIntervals;
    const reports = this.options.reports();
    const recent = reports.slice(-n);
    const firstAhead = this.ahead[0]?.t ?? Infinity;
    const from = Math.max(0, reports.length - DECISIONS_SHOWN);
    return {
      meta: this.meta,
      nowMs: Date.now(),
      observed: this.options.series.buckets().slice(-n).map(observedPoint),
      capacity: recent.map((r) => capacityPoint(r, this.meta.intervalMs)),
      band: [...this.pastBand.filter((p) => p.t < firstAhead), ...this.ahead],
      decisions: reports.slice(from).map((r, i) => decisionRow(r, reports[from + i - 1])),
      backends: this.backendRows(),
    };
  }

  /** The backend table now. O(backends). */
  backendRows(): BackendRow[] {
    return backendRows(this.options.backends(), this.clock(), this.options.series.last(), (id) => this.options.inFlight?.(id));
  }

  /** Call `listener` with every tick from now on; returns the unsubscribe function. */
  onTick(listener: (event: TickEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.options.loop.off('tick', this.onReport);
    this.options.loop.off('forecast', this.onForecast);
    this.listeners.clear();
  }

  private tick(report: TickReport): void {
    const { intervalMs, historyIntervals } = this.meta;
    const t = alignDown(report.nowMs, intervalMs);
    const f = this.pending;
    this.pending = null;
    // only a vector made this tick (the loop forecasts, decides, then reports, one tick at a time)
    const band = report.forecast !== null && f !== null && alignDown(f.nowMs, intervalMs) === t ? bandPoints(f, t, intervalMs) : [];
    this.ahead = band;
    const first = band[0];
    if (first) {
      this.pastBand.push(first);
      if (this.pastBand.length > historyIntervals) this.pastBand.shift();
    }
    const reports = this.options.reports();
    const previous = reports[reports.length - 1] === report ? reports[reports.length - 2] : reports[reports.length - 1];
    const last = this.options.series.last();
    const event: TickEvent = {
      t,
      observed: last ? observedPoint(last) : null,
      capacity: capacityPoint(report, intervalMs),
      band,
      decision: decisionRow(report, previous),
    };
    for (const listener of this.listeners) listener(event);
  }
}
