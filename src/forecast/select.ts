import { assertPositiveInteger, type ForecastModel } from './model.js';

/** Backtest result of one model. */
export interface BacktestScore {
  /** ForecastModel.name. */
  model: string;
  /** Mean absolute error (requests per interval) of the `horizon`-step-ahead point forecast;
   *  +Infinity when no origin could be scored, so the model sorts last. */
  mae: number;
  /** Origins actually scored (origins whose target value was a gap are skipped). */
  origins: number;
}

/** Options of `backtest`. */
export interface BacktestOptions {
  /** Steps ahead that are scored (the step that matters to the scaler), integer >= 1. */
  horizon: number;
  /** How many forecast origins to evaluate, integer >= 1. */
  origins: number;
  /** Intervals between consecutive origins, integer >= 1; default 1. */
  step?: number;
}

/** Quantile passed to models during a backtest; only the point forecast is scored. */
const BACKTEST_QUANTILE = 0.5;

/**
 * Rolling-origin backtest of each model over the last `origins` origins, scoring the absolute
 * error of the forecast `horizon` steps ahead (the step that matters to the scaler), using only
 * data before each origin. Returns scores sorted best first (ties: keep input order). O(models ×
 * origins × model cost).
 *
 * An origin o is the length of the history the model sees (history[0, o)); the scored value is
 * history[o + horizon - 1]. Origins are n - horizon, n - horizon - step, ... down to 1, at most
 * `origins` of them (fewer when the history is short), and each model is asked oldest origin
 * first, as time would run: a model that caches its fit (fit-cache.ts) then fits once at the
 * oldest origin and moves forward, instead of refitting for every older origin (a fit made at
 * a newer origin must not be used for an older one). A model that declares
 * `lookbackIntervals` gets only history.slice(o - lookbackIntervals, o), so the cost per origin
 * is that tail, not the whole prefix; a model that does not declare it gets the whole prefix.
 * Targets that are gaps (non-finite) are skipped; a non-finite point forecast counts as an
 * error of +Infinity. Source: Tashman, "Out-of-sample tests of forecasting accuracy", IJF 16
 * (2000) (rolling-origin evaluation); Hyndman & Athanasopoulos, FPP3 §5.10 (time series
 * cross-validation).
 *
 * @param models candidates; an empty list returns []
 * @param history series, oldest first, counts per interval; never mutated
 * @throws PrescaleError PRESCALE_ERR_CONFIG when horizon, origins or step is not a positive
 *   integer. Never on data: a history too short for any origin gives origins 0, mae +Infinity.
 */
export function backtest(
  models: readonly ForecastModel[],
  history: readonly number[],
  options: BacktestOptions,
): BacktestScore[] {
  const { horizon, origins } = options;
  const step = options.step ?? 1;
  assertPositiveInteger('backtest horizon', horizon);
  assertPositiveInteger('backtest origins', origins);
  assertPositiveInteger('backtest step', step);
  const originIndexes = rollingOrigins(history, horizon, origins, step);
  const scores = models.map((model) => scoreModel(model, history, horizon, originIndexes));
  // Array.prototype.sort is stable (ES2019), so ties keep the input order.
  return scores.sort((a, b) => (a.mae < b.mae ? -1 : a.mae > b.mae ? 1 : 0));
}

/** Origins (history lengths) whose horizon-step target exists and is finite, newest first. */
function rollingOrigins(history: readonly number[], horizon: number, origins: number, step: number): number[] {
  const result: number[] = [];
  for (let origin = history.length - horizon; origin >= 1 && result.length < origins; origin -= step) {
    if (Number.isFinite(history[origin + horizon - 1])) result.push(origin);
  }
  return result;
}

function scoreModel(
  model: ForecastModel,
  history: readonly number[],
  horizon: number,
  originIndexes: readonly number[],
): BacktestScore {
  if (originIndexes.length === 0) return { model: model.name, mae: Number.POSITIVE_INFINITY, origins: 0 };
  const lookback = model.lookbackIntervals;
  let totalError = 0;
  for (let k = originIndexes.length - 1; k >= 0; k--) {
    const origin = originIndexes[k] as number;
    const seen = history.slice(lookback === undefined ? 0 : Math.max(0, origin - lookback), origin);
    const predicted = model.forecast(seen, horizon, BACKTEST_QUANTILE).point[horizon - 1];
    const actual = history[origin + horizon - 1] as number;
    const error = predicted === undefined ? Number.NaN : Math.abs(predicted - actual);
    totalError += Number.isFinite(error) ? error : Number.POSITIVE_INFINITY;
  }
  return { model: model.name, mae: totalError / originIndexes.length, origins: originIndexes.length };
}
