import { linearRegression, linearRegressionLine } from 'simple-statistics';
import { conformalQuantile } from './conformal-quantile.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type ForecastModel } from './model.js';
import { naiveForecast } from './naive.js';

/** Options of the linear-trend model. */
export interface LinearRegressionOptions {
  /** Trailing intervals the line is fitted on, >= 3, e.g. 30 (30 minutes at 1-minute intervals). */
  windowIntervals: number;
}

/** Fewest finite points a line is fitted on; below it the model falls back to the last value. */
export const MIN_REGRESSION_POINTS = 3;

/**
 * Local linear trend: least-squares line through the last `windowIntervals` values (x = index
 * in the window, gaps skipped), extrapolated `horizon` steps and clamped at 0. Fitted with
 * simple-statistics `linearRegression` / `linearRegressionLine` (ordinary least squares).
 *
 * Upper bound: point[i] + Q·f(x0), where Q is the split-conformal q-quantile (see
 * conformal-quantile.ts) of the absolute in-window residuals |y - ŷ| and
 * f(x0) = √(1 + 1/m + (x0 - x̄)² / Sxx) is the textbook inflation of the OLS prediction
 * standard error at x0 = (last index) + 1 + i, for m fitted points with mean x̄ and
 * Sxx = Σ(x - x̄)²; it grows with the step ahead. Source: Hyndman & Athanasopoulos,
 * "Forecasting: Principles and Practice", 3rd ed., §7.6 (prediction intervals for simple
 * regression). Absolute residuals make the one-sided bound conservative, which offsets the
 * optimism of in-sample residuals.
 *
 * Fallbacks, each with a reason in `fallback`:
 * - fewer than 3 finite values in the window: naive (last finite value, 0 if none), naive.ts;
 * - a slope or intercept that is not finite (all x equal, or values so large the sums overflow):
 *   a flat line at the window mean, f = √(1 + 1/m).
 *
 * Reads only the last `windowIntervals` intervals (`lookbackIntervals`). Cost O(window + horizon)
 * per call.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for windowIntervals that is not an integer >= 3 (at
 *   creation), or a bad horizon or quantile (per call). Never on data.
 */
export function createLinearRegression(options: LinearRegressionOptions): ForecastModel {
  const windowIntervals = options.windowIntervals;
  assertPositiveInteger('linear-regression windowIntervals', windowIntervals, MIN_REGRESSION_POINTS);
  const name = 'linear-regression';

  return {
    name,
    lookbackIntervals: windowIntervals,
    forecast(history, horizon, quantile) {
      assertForecastArgs(horizon, quantile);
      const n = history.length;
      const start = Math.max(0, n - windowIntervals);
      const pairs: number[][] = [];
      for (let t = start; t < n; t++) {
        const value = history[t] as number;
        if (Number.isFinite(value)) pairs.push([t - start, value]);
      }
      const m = pairs.length;
      if (m < MIN_REGRESSION_POINTS) {
        const reason =
          `${m} finite values in the last ${windowIntervals} intervals < ${MIN_REGRESSION_POINTS}; ` +
          'using last value';
        return naiveForecast(history, horizon, quantile, { model: name, reason, tailIntervals: windowIntervals });
      }
      const fit = fitLine(pairs);
      const predict = linearRegressionLine(fit.line);
      const spread = absoluteResidualQuantile(pairs, predict, quantile);
      const xMean = mean(pairs.map(([x]) => x as number));
      const sxx = pairs.reduce((sum, [x]) => sum + ((x as number) - xMean) ** 2, 0);
      const point = new Array<number>(horizon);
      const upper = new Array<number>(horizon);
      for (let i = 0; i < horizon; i++) {
        const x0 = n - start + i;
        const leverage = fit.flat || sxx === 0 ? 0 : (x0 - xMean) ** 2 / sxx;
        point[i] = Math.max(0, predict(x0));
        upper[i] = (point[i] as number) + spread * Math.sqrt(1 + 1 / m + leverage);
      }
      return safeForecast(name, point, upper, quantile, fit.reason);
    },
  };
}

/** OLS line, or a flat line at the mean (with a reason) when the fit is not finite. */
function fitLine(pairs: number[][]): { line: { m: number; b: number }; flat: boolean; reason?: string } {
  const line = linearRegression(pairs);
  if (Number.isFinite(line.m) && Number.isFinite(line.b)) return { line, flat: false };
  const level = mean(pairs.map(([, y]) => y as number));
  return {
    line: { m: 0, b: level },
    flat: true,
    reason: `regression slope ${line.m} / intercept ${line.b} not finite; using flat mean of ${pairs.length} values`,
  };
}

/** Split-conformal q-quantile of |y - ŷ| over the fitted points (non-finite residuals skipped). */
function absoluteResidualQuantile(pairs: number[][], predict: (x: number) => number, quantile: number): number {
  const residuals: number[] = [];
  for (const [x, y] of pairs) {
    const residual = Math.abs((y as number) - predict(x as number));
    if (Number.isFinite(residual)) residuals.push(residual);
  }
  return conformalQuantile(residuals, quantile);
}

/** Running mean: stays finite for values near Number.MAX_VALUE, where a plain sum overflows. */
function mean(values: readonly number[]): number {
  let result = 0;
  for (let i = 0; i < values.length; i++) result += ((values[i] as number) - result) / (i + 1);
  return result;
}
