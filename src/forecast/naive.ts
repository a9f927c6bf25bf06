import { conformalQuantile } from './conformal-quantile.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type Forecast, type ForecastModel } from './model.js';
import { stepUpperOffsets } from './prediction-intervals.js';
import { lastFiniteBefore } from './series-gaps.js';

/**
 * Naive (random-walk) forecast, the fallback the other models use when they cannot do their
 * job: every step repeats the last finite value (0 when the series has none).
 *
 * Upper bound: point + Q·√h for step h = 1..horizon, where Q is the split-conformal q-quantile
 * (see conformal-quantile.ts) of the one-step changes y[t] - y[t-1] in the last `tailIntervals`
 * intervals, clamped at 0. √h is the random-walk growth of the h-step error (Hyndman &
 * Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., §5.5, naive method).
 * Gaps are skipped: a change is used only when both of its values are finite.
 *
 * @param history series, oldest first, counts per interval; never mutated
 * @param options.model name to report as `Forecast.model` (the model that fell back)
 * @param options.reason why the caller fell back; becomes `Forecast.fallback`, extended with
 *   'no residuals, upper = point' when fewer than 2 consecutive finite values exist
 * @param options.tailIntervals how many trailing intervals to read for the residuals (>= 2)
 * Cost O(tailIntervals + horizon). Never throws on data.
 */
export function naiveForecast(
  history: readonly number[],
  horizon: number,
  quantile: number,
  options: { model: string; reason: string; tailIntervals: number },
): Forecast {
  const n = history.length;
  const start = Math.max(0, n - options.tailIntervals);
  const changes: number[] = [];
  let last: number | undefined;
  for (let t = start; t < n; t++) {
    const value = history[t] as number;
    if (!Number.isFinite(value)) continue;
    const previous = history[t - 1];
    if (t > start && previous !== undefined && Number.isFinite(previous)) {
      changes.push(value - previous);
    }
    last = value;
  }
  const level = last ?? lastFiniteBefore(history, start) ?? 0;
  const spread = Math.max(0, conformalQuantile(changes, quantile));
  const point = new Array<number>(horizon).fill(level);
  const upper = point.map((p, i) => p + spread * Math.sqrt(i + 1));
  const reason = changes.length === 0 ? `${options.reason}; no residuals, upper = point` : options.reason;
  return safeForecast(options.model, point, upper, quantile, reason);
}

/** Options of the `naive` model. */
export interface NaiveOptions {
  /** Trailing intervals whose h-step changes calibrate the upper bound, integer >= 2, e.g. one
   *  day of intervals. */
  calibrationIntervals: number;
}

/**
 * The `naive` baseline model (random walk): every step repeats the last finite value, 0 when
 * the series has none. Gaps are skipped.
 *
 * Upper bound per step h (prediction-intervals.ts): point + Q_h, Q_h the split-conformal
 * q-quantile of the model's own h-step errors over the calibration window, i.e. the changes
 * y[t] - y[t - h] for t in the last `calibrationIntervals` intervals with both values finite
 * (exactly the errors the naive forecast made at those origins). A step with no finite pair
 * borrows the previous step's offset scaled by √h (FPP3 §5.5); no pair at all gives
 * upper = point and a reason. Source: Hyndman & Athanasopoulos, "Forecasting: Principles and
 * Practice", 3rd ed., §5.2 (naïve method).
 *
 * Reads only the last `calibrationIntervals` intervals (`lookbackIntervals`), so step h has at
 * most calibrationIntervals - h residuals. Cost O(calibrationIntervals × horizon) per call.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for calibrationIntervals that is not an integer
 *   >= 2 (at creation), or a bad horizon or quantile (per call). Never on data.
 */
export function createNaive(options: NaiveOptions): ForecastModel {
  const calibrationIntervals = options.calibrationIntervals;
  assertPositiveInteger('naive calibrationIntervals', calibrationIntervals, 2);
  const name = 'naive';
  return {
    name,
    lookbackIntervals: calibrationIntervals,
    forecast(history, horizon, quantile) {
      assertForecastArgs(horizon, quantile);
      const n = history.length;
      const start = Math.max(0, n - calibrationIntervals);
      const level = lastFiniteBefore(history, n) ?? 0;
      const residuals = stepChanges(history, start, horizon);
      const offsets = stepUpperOffsets(residuals, horizon, quantile);
      const point = new Array<number>(horizon).fill(level);
      const upper = point.map((p, i) => p + (offsets[i] as number));
      const reasons: string[] = [];
      if (lastFiniteBefore(history, n) === undefined) reasons.push('no finite value in history; forecasting 0');
      if (horizon > 0 && residuals.every((sample) => sample.length === 0)) reasons.push('no residuals, upper = point');
      return safeForecast(name, point, upper, quantile, reasons.length > 0 ? reasons.join('; ') : undefined);
    },
  };
}

/** changes[h - 1] = y[t] - y[t - h] for t in [start + h, n), both finite. */
function stepChanges(history: readonly number[], start: number, horizon: number): number[][] {
  const n = history.length;
  const changes: number[][] = [];
  for (let h = 1; h <= horizon; h++) {
    const sample: number[] = [];
    for (let t = start + h; t < n; t++) {
      const change = (history[t] as number) - (history[t - h] as number);
      if (Number.isFinite(change)) sample.push(change);
    }
    changes.push(sample);
  }
  return changes;
}
