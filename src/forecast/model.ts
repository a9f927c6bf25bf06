import { PrescaleError } from '../errors.js';

/**
 * The contract every forecasting model in src/forecast/ implements, plus the two helpers that
 * enforce it at the edges: argument checks (caller mistakes throw) and an output guard (data
 * never makes a model throw, and NaN, ±Infinity or a negative rate never leaves a model).
 *
 * A series is `readonly number[]`: request counts per fixed interval, oldest first,
 * non-negative. Non-finite entries are gaps; each model documents whether it skips or fills them.
 */
export interface Forecast {
  /** Name of the model that produced it. */
  model: string;
  /** Length = horizon; point[i] is the forecast for interval (last + 1 + i); finite, >= 0. */
  point: number[];
  /** Same length; upper bound of the prediction interval at `quantile`, >= point, finite. */
  upper: number[];
  /** Coverage the upper bound aims for, e.g. 0.9. */
  quantile: number;
  /** Set when the model could not do its job and used a documented fallback; says why. */
  fallback?: string;
}

export interface ForecastModel {
  readonly name: string;
  /**
   * How many trailing intervals `forecast` reads at most. A model whose answer depends only on
   * this tail declares it, so a backtest can pass `history.slice(origin - lookbackIntervals,
   * origin)` instead of copying the whole prefix per origin. Undefined means "reads everything".
   */
  readonly lookbackIntervals?: number;
  /** Forecast the next `horizon` intervals after the end of `history`. Never throws on data; never NaN or negative. */
  forecast(history: readonly number[], horizon: number, quantile: number): Forecast;
}

/**
 * Rejects arguments that are programming or configuration mistakes (not data problems).
 * @param horizon intervals to forecast; integer >= 0
 * @param quantile coverage of the upper bound; 0 <= quantile <= 1
 * @throws PrescaleError PRESCALE_ERR_CONFIG naming the bad argument
 */
export function assertForecastArgs(horizon: number, quantile: number): void {
  if (!Number.isInteger(horizon) || horizon < 0) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `forecast horizon must be an integer >= 0, got ${horizon}`);
  }
  if (!(quantile >= 0 && quantile <= 1)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `forecast quantile must be in [0, 1], got ${quantile}`);
  }
}

/**
 * Rejects a model option that must be a positive integer (a season, a window, a count).
 * @throws PrescaleError PRESCALE_ERR_CONFIG naming `label`
 */
export function assertPositiveInteger(label: string, value: number, minimum = 1): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${label} must be an integer >= ${minimum}, got ${value}`);
  }
}

/**
 * Builds a Forecast that keeps the contract whatever the arithmetic did: each point becomes
 * finite and >= 0 (NaN → 0, +Infinity → Number.MAX_VALUE, negative → 0) and each upper bound
 * becomes finite and >= its point. Copies; never mutates `point` or `upper`. O(horizon).
 */
export function safeForecast(
  model: string,
  point: readonly number[],
  upper: readonly number[],
  quantile: number,
  fallback?: string,
): Forecast {
  const safePoint = point.map(toSafeRate);
  const safeUpper = safePoint.map((p, i) => Math.max(p, toSafeRate(upper[i] ?? p)));
  const forecast: Forecast = { model, point: safePoint, upper: safeUpper, quantile };
  if (fallback !== undefined) forecast.fallback = fallback;
  return forecast;
}

function toSafeRate(value: number): number {
  if (Number.isNaN(value) || value <= 0) return 0;
  return Math.min(value, Number.MAX_VALUE);
}
