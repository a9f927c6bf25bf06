/** Rolling accuracy of the forecasts the scaler acted on, as `ForecastAccuracy.summary()` reports it. */
export interface AccuracySummary {
  /** Intervals evaluated in the window (0 ≤ n ≤ window). */
  n: number;
  /** Mean absolute error of the point forecast, requests per second; 0 when n = 0. */
  maeRps: number;
  /** Mean of what happened over the same intervals, requests per second; 0 when n = 0. */
  meanObservedRps: number;
  /** Share of the intervals whose observed rate was at most the forecast upper bound, in [0, 1]; 0 when n = 0. */
  upperCoverageRatio: number;
}

interface Evaluated {
  absErrorRps: number;
  observedRps: number;
  covered: boolean;
}

/**
 * Rolling forecast error, compared interval by interval with what happened: `predict` stores the
 * forecast made for an interval (point and upper bound, rps) until that interval closes, then
 * `observe` scores it. `summary()` gives the mean absolute error (MAE) and the coverage of the
 * upper bound over the last `window` scored intervals — the same two measures the offline
 * backtest reports (src/forecast/backtest-metrics.ts), live. Time is data (interval start, epoch
 * ms); the class reads no clock.
 *
 * Defined answers: a non-finite forecast or observation is ignored; an interval observed without
 * a stored forecast scores nothing; a second forecast for the same interval replaces the first;
 * pending forecasts for intervals older than the observed one are dropped (never observed), and
 * at most `maxPending` are kept (the oldest stored dropped). Cost: `predict` O(1), `observe`
 * O(pending forecasts, about the horizon), `summary` O(window).
 */
export class ForecastAccuracy {
  private readonly pending = new Map<number, { pointRps: number; upperRps: number }>();
  private readonly scored: Evaluated[] = [];

  /**
   * @param window scored intervals the summary covers (integer ≥ 1)
   * @param maxPending forecasts kept waiting for their interval (integer ≥ 1)
   */
  constructor(
    readonly window: number,
    private readonly maxPending = 4096,
  ) {}

  /** Store the forecast made for the interval starting at `startMs`. */
  predict(startMs: number, pointRps: number, upperRps: number): void {
    if (!Number.isFinite(startMs) || !Number.isFinite(pointRps) || !Number.isFinite(upperRps)) return;
    this.pending.delete(startMs);
    this.pending.set(startMs, { pointRps, upperRps });
    if (this.pending.size > this.maxPending) this.pending.delete(this.pending.keys().next().value as number);
  }

  /** The interval starting at `startMs` closed with `observedRps`: score its forecast, if one was made. */
  observe(startMs: number, observedRps: number): void {
    if (!Number.isFinite(startMs) || !Number.isFinite(observedRps)) return;
    for (const key of this.pending.keys()) if (key < startMs) this.pending.delete(key);
    const forecast = this.pending.get(startMs);
    if (forecast === undefined) return;
    this.pending.delete(startMs);
    this.scored.push({ absErrorRps: Math.abs(forecast.pointRps - observedRps), observedRps, covered: observedRps <= forecast.upperRps });
    if (this.scored.length > this.window) this.scored.shift();
  }

  summary(): AccuracySummary {
    const n = this.scored.length;
    if (n === 0) return { n: 0, maeRps: 0, meanObservedRps: 0, upperCoverageRatio: 0 };
    let error = 0;
    let observed = 0;
    let covered = 0;
    for (const s of this.scored) {
      error += s.absErrorRps;
      observed += s.observedRps;
      if (s.covered) covered++;
    }
    return { n, maeRps: error / n, meanObservedRps: observed / n, upperCoverageRatio: covered / n };
  }
}
