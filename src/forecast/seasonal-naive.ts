import { conformalQuantile } from './conformal-quantile.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type ForecastModel } from './model.js';
import { naiveForecast } from './naive.js';
import { filledTail } from './series-gaps.js';

/** Options of the seasonal naive model. */
export interface SeasonalNaiveOptions {
  /** Season length in intervals, e.g. 1440 for a daily season at 1-minute intervals. */
  seasonLength: number;
  /** Seasons of past residuals the upper bound is calibrated on; default 3 (most recent first). */
  residualSeasons?: number;
  /** Calibration window in intervals (integer >= 1); overrides `residualSeasons` when set. */
  calibrationIntervals?: number;
  /** Reported as `Forecast.model`; default 'seasonal-naive'. */
  name?: string;
  /** Model to use when the history is shorter than a season + 1; default the naive fallback of
   *  naive.ts. Its point and upper are returned under this model's name, with both reasons. */
  shortHistory?: ForecastModel;
}

/** Default calibration window: three seasons (three days for a daily season). */
export const DEFAULT_RESIDUAL_SEASONS = 3;

/**
 * Seasonal naive forecaster: each step repeats the value one season earlier.
 *
 * point[i] = history[n - s + (i mod s)] for a season of s intervals and a history of n, i.e.
 * a horizon longer than a season wraps by whole seasons. Gaps in the last season are filled by
 * the last observation before them (series-gaps.ts).
 *
 * Upper bound (split-conformal, see conformal-quantile.ts): point[i] + Q·√(k + 1), where Q is
 * the q-quantile of the model's own past errors e[t] = y[t] - y[t - s] over the last
 * `residualSeasons` seasons (pairs with a gap are skipped), clamped at 0 so upper >= point, and
 * k = ⌊i / s⌋ counts the extra whole seasons a wrapped step looks back (the seasonal naive
 * error growth in Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed.,
 * §5.5). Source of the method: FPP3 §5.2, "Seasonal naïve method".
 *
 * Fallbacks, each with a reason in `fallback`:
 * - history shorter than s + 1 intervals: `options.shortHistory` when given (the weekly
 *   baseline falls back to the daily one, which falls back to `naive`), else naive (last finite
 *   value, 0 if none), naive.ts;
 * - the last season is all gaps: naive over the calibration window;
 * - no finite residual pair in the window: the seasonal points with upper = point.
 *
 * The calibration window is `calibrationIntervals` when set, else residualSeasons·s.
 * Reads only the last s + (calibration window) intervals (`lookbackIntervals`).
 * Cost O(calibration window + horizon) per call (selection, not a sort).
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a seasonLength, residualSeasons or
 *   calibrationIntervals that is not a positive integer (at creation), or a bad horizon or
 *   quantile (per call). Never on data.
 */
export function createSeasonalNaive(options: SeasonalNaiveOptions): ForecastModel {
  const seasonLength = options.seasonLength;
  const residualSeasons = options.residualSeasons ?? DEFAULT_RESIDUAL_SEASONS;
  assertPositiveInteger('seasonal-naive seasonLength', seasonLength);
  assertPositiveInteger('seasonal-naive residualSeasons', residualSeasons);
  const calibrationIntervals = options.calibrationIntervals ?? residualSeasons * seasonLength;
  assertPositiveInteger('seasonal-naive calibrationIntervals', calibrationIntervals);
  const name = options.name ?? 'seasonal-naive';
  const shortHistory = options.shortHistory;
  const lookbackIntervals = seasonLength + calibrationIntervals;

  return {
    name,
    lookbackIntervals,
    forecast(history, horizon, quantile) {
      assertForecastArgs(horizon, quantile);
      const n = history.length;
      if (n < seasonLength + 1) {
        const short = `history ${n} < season + 1 (${seasonLength + 1})`;
        if (shortHistory === undefined) {
          const reason = `${short}; using last value`;
          return naiveForecast(history, horizon, quantile, { model: name, reason, tailIntervals: seasonLength });
        }
        const inner = shortHistory.forecast(history, horizon, quantile);
        const reason = [`${short}; using ${shortHistory.name}`, inner.fallback].filter(Boolean).join('; ');
        return safeForecast(name, inner.point, inner.upper, quantile, reason);
      }
      const season = filledTail(history, n - seasonLength, n);
      if (season.finiteCount === 0) {
        const reason = `last season (${seasonLength} intervals) is all gaps; using last value`;
        return naiveForecast(history, horizon, quantile, { model: name, reason, tailIntervals: lookbackIntervals });
      }
      const residuals = seasonalResiduals(history, seasonLength, calibrationIntervals);
      const spread = Math.max(0, conformalQuantile(residuals, quantile));
      const point = new Array<number>(horizon);
      const upper = new Array<number>(horizon);
      for (let i = 0; i < horizon; i++) {
        const value = season.values[i % seasonLength] as number;
        point[i] = value;
        upper[i] = value + spread * Math.sqrt(Math.floor(i / seasonLength) + 1);
      }
      const fallback =
        residuals.length === 0
          ? `no finite seasonal residual in the last ${calibrationIntervals} intervals; upper = point`
          : undefined;
      return safeForecast(name, point, upper, quantile, fallback);
    },
  };
}

/**
 * e[t] = y[t] - y[t - s] for t in the last `window` intervals (t >= s), gaps skipped.
 * Returns a new scratch array the caller may reorder.
 */
function seasonalResiduals(history: readonly number[], seasonLength: number, window: number): number[] {
  const n = history.length;
  const residuals: number[] = [];
  for (let t = Math.max(seasonLength, n - window); t < n; t++) {
    const residual = (history[t] as number) - (history[t - seasonLength] as number);
    if (Number.isFinite(residual)) residuals.push(residual);
  }
  return residuals;
}
