import { conformalQuantile } from './conformal-quantile.js';
import { safeForecast, type Forecast } from './model.js';
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
