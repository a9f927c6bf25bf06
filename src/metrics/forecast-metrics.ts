import { Gauge, type Registry } from 'prom-client';
import { ForecastAccuracy } from './forecast-accuracy.js';

/** One forecast as the control loop made it (counts per interval for the next intervals). */
export interface ForecastSnapshot {
  /** When the forecast was made, epoch ms; the history ended at the interval boundary at or before it. */
  nowMs: number;
  intervalMs: number;
  /** Intervals the scaler looked at: lead time + one interval, in intervals (≥ 1). */
  steps: number;
  /** Requests per interval, point and upper bound, index 0 = the interval starting at the boundary. */
  point: readonly number[];
  upper: readonly number[];
}

/** Stored-model problems reported by the service forecaster (src/forecast/service-forecaster.ts). */
export type StoredModelProblem = 'missing' | 'corrupt' | 'mismatch' | null;

export interface ForecastMetricsOptions {
  /** The upper bound's quantile (forecast.quantile), in (0.5, 1): its `percentile` label and the coverage target. */
  quantile: number;
  /** Scored intervals the rolling MAE and coverage cover. */
  accuracyWindow: number;
}

/**
 * The forecast's metrics: the forecast per quantile, the rolling forecast error (MAE and upper
 * bound coverage over the last `accuracyWindow` intervals, see ForecastAccuracy), the model in
 * use and stored-model warnings.
 *
 * Error is measured at the lead-time horizon: each forecast's value for the last interval the
 * scaler looked at (`steps` − 1 ahead) is kept until that interval closes and is then compared
 * with the request rate the history source reported for it.
 */
export class ForecastMetrics {
  private readonly rps: Gauge<'percentile'>;
  private readonly storedModelUnusable: Gauge<'problem'>;
  private readonly accuracy: ForecastAccuracy;
  private readonly upperLabel: string;
  private model = 'none';
  private version: () => string = () => 'none';

  constructor(registry: Registry, options: ForecastMetricsOptions) {
    const registers = [registry];
    const accuracy = new ForecastAccuracy(options.accuracyWindow);
    this.accuracy = accuracy;
    this.upperLabel = percentileLabel(options.quantile);
    this.rps = new Gauge({
      name: 'prescale_forecast_requests_per_second',
      help: 'Peak forecast request rate over [now, now + lead time + one interval], by percentile: "p50" is the point forecast, the other (forecast.quantile, e.g. "p90") the prediction interval upper bound the scaler provisions for.',
      labelNames: ['percentile'] as const,
      registers,
    });
    const summaryGauge = (name: string, help: string, read: (s: ReturnType<ForecastAccuracy['summary']>) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(accuracy.summary()));
        },
      });
    };
    summaryGauge('prescale_forecast_mae_requests_per_second', 'Rolling mean absolute error of the point forecast at the lead-time horizon, requests per second (0 until an interval is scored).', (s) => s.maeRps);
    summaryGauge('prescale_forecast_observed_mean_requests_per_second', 'Mean observed request rate over the intervals the rolling forecast error covers (to put the MAE in proportion).', (s) => s.meanObservedRps);
    summaryGauge('prescale_forecast_upper_coverage_ratio', 'Share of the scored intervals whose observed rate stayed at or below the forecast upper bound (0 until an interval is scored).', (s) => s.upperCoverageRatio);
    summaryGauge('prescale_forecast_evaluated_intervals', 'Intervals the rolling forecast error and coverage are computed over.', (s) => s.n);
    new Gauge({ name: 'prescale_forecast_upper_coverage_target_ratio', help: 'Coverage the upper bound aims for (forecast.quantile).', registers }).set(options.quantile);
    const self = this;
    new Gauge({
      name: 'prescale_model_info',
      help: 'The forecast model in use: model = the model that made the latest forecast, version = the stored model id, or "candidates" when the statistical candidates are chosen by backtest. Always 1.',
      labelNames: ['model', 'version'] as const,
      registers,
      collect() {
        this.reset();
        this.labels(self.model, self.version()).set(1);
      },
    });
    this.storedModelUnusable = new Gauge({
      name: 'prescale_forecast_stored_model_unusable',
      help: '1 when the pinned or current stored model could not be used (problem="missing|corrupt|mismatch") and the statistical models forecast instead.',
      labelNames: ['problem'] as const,
      registers,
    });
    this.setStoredModelProblem(null);
  }

  /** Keep a forecast: its value at the lead-time horizon is scored when that interval closes. */
  recordForecast(f: ForecastSnapshot): void {
    const i = Math.min(f.steps, f.point.length, f.upper.length) - 1;
    if (i < 0 || !(f.intervalMs > 0)) return;
    const seconds = f.intervalMs / 1000;
    const boundaryMs = Math.floor(f.nowMs / f.intervalMs) * f.intervalMs;
    this.accuracy.predict(boundaryMs + i * f.intervalMs, (f.point[i] as number) / seconds, (f.upper[i] as number) / seconds);
  }

  /** The interval ending at the boundary at or before `nowMs` closed with `observedRps`. */
  recordObserved(nowMs: number, intervalMs: number, observedRps: number): void {
    this.accuracy.observe(Math.floor(nowMs / intervalMs) * intervalMs - intervalMs, observedRps);
  }

  /** The peak forecast the scaler used this tick (rps), and the model that made it; null: no forecast. */
  setForecast(forecast: { model: string; pointRps: number; upperRps: number } | null): void {
    if (forecast === null) return;
    this.rps.labels('p50').set(forecast.pointRps);
    this.rps.labels(this.upperLabel).set(forecast.upperRps);
    this.model = forecast.model;
  }

  /** Where `prescale_model_info`'s version label comes from, read at scrape time. */
  watchVersion(version: () => string): void {
    this.version = version;
  }

  /** Set the stored-model warning: one problem at 1, the others at 0 (all 0 when usable). */
  setStoredModelProblem(problem: StoredModelProblem): void {
    for (const p of ['missing', 'corrupt', 'mismatch'] as const) this.storedModelUnusable.labels(p).set(p === problem ? 1 : 0);
  }
}

/**
 * The `percentile` label of a quantile: 0.9 → "p90", 0.975 → "p97.5" (a label named `quantile` is
 * reserved for summaries: promtool check metrics rejects it on a gauge).
 */
export function percentileLabel(quantile: number): string {
  return `p${Number((quantile * 100).toFixed(6))}`;
}
