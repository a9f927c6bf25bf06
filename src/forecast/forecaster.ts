import { PrescaleError } from '../errors.js';
import {
  assertForecastArgs,
  assertPositiveInteger,
  safeForecast,
  type Forecast,
  type ForecastModel,
} from './model.js';
import { AdaptiveWidth } from './adaptive-width.js';
import { backtest, type BacktestScore } from './select.js';

/** Options of the Forecaster. */
export interface ForecasterOptions {
  /** Candidate models, non-empty, unique names; the first is the default when nothing can be
   *  backtested. */
  models: readonly ForecastModel[];
  /** Intervals to forecast, integer >= 1; the backtest scores the last of them. */
  horizon: number;
  /** Coverage of the upper bound, in [0, 1], e.g. 0.9. */
  quantile: number;
  /** Rolling origins per backtest, integer >= 1, e.g. 30. */
  backtestOrigins: number;
  /** Re-run the backtest every N calls, integer >= 1, e.g. 10. */
  reselectEvery: number;
}

/** A forecast plus the model selection that produced it. */
export interface ForecastResult extends Forecast {
  /** Name of the model that was used (= `model`). */
  chosen: string;
  /** Latest backtest scores, best first; [] when the history was too short to backtest. */
  scores: BacktestScore[];
}

// createModel lives in registry.ts; re-exported so existing imports keep working.
export { createModel, MODEL_NAMES, type ModelName, type ModelOptions } from './registry.js';

/**
 * Picks the best model by rolling backtest (select.ts) and forecasts with it. Holds only the
 * cached choice and a call counter; the history is passed in on every call and never mutated.
 */
export class Forecaster {
  private readonly options: ForecasterOptions;
  private cached: { index: number; scores: BacktestScore[] } | undefined;
  private callsSinceSelection = 0;
  /** Online width calibration per horizon step (adaptive-width.ts), fed when origins are given. */
  private widths: AdaptiveWidth[] | undefined;
  /** Calibrated bounds issued at recent origins, whose targets are still to be scored. */
  private issued: { origin: number; upper: number[]; scored: number }[] = [];
  private lastOrigin: number | undefined;

  /** @throws PrescaleError PRESCALE_ERR_CONFIG for no models, duplicate names or a bad number. */
  constructor(options: ForecasterOptions) {
    if (options.models.length === 0) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', 'forecaster needs at least one model');
    }
    const names = options.models.map((model) => model.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) {
      const message = `forecaster models must have unique names; "${duplicate}" repeats`;
      throw new PrescaleError('PRESCALE_ERR_CONFIG', message);
    }
    assertPositiveInteger('forecaster horizon', options.horizon);
    assertForecastArgs(options.horizon, options.quantile);
    assertPositiveInteger('forecaster backtestOrigins', options.backtestOrigins);
    assertPositiveInteger('forecaster reselectEvery', options.reselectEvery);
    this.options = { ...options, models: [...options.models] };
  }

  /**
   * Choose the model with the lowest backtest MAE (cached, re-selected every `reselectEvery`
   * calls) and forecast `horizon` steps. With too little history for a backtest (< horizon + 2
   * points), uses the first model and says so in `fallback`. With empty history returns zeros and
   * a fallback reason.
   *
   * The backtest runs on the first call with enough history and then on every
   * `reselectEvery`-th call after it; in between the cached choice is reused. When every model
   * scores +Infinity (all targets were gaps) the first model is used, with a reason.
   * With `origin` (the absolute index of the interval right after the history's end, e.g.
   * floor(endMs / intervalMs)), the upper bound is calibrated online: each step's width is
   * scaled by adaptive conformal inference (adaptive-width.ts) from how the bounds issued at
   * earlier origins covered the values the history has since revealed. Calls that repeat an
   * origin learn nothing new; without `origin` the model's own bound is returned as is.
   * @param history counts per interval, oldest first; never mutated
   * @param origin integer, non-decreasing across calls
   * Cost: one model forecast, plus models × backtestOrigins model forecasts on a re-selection.
   */
  forecast(history: readonly number[], origin?: number): ForecastResult {
    const result = this.forecastRaw(history);
    return origin === undefined || !Number.isInteger(origin) ? result : this.calibrate(result, history, origin);
  }

  private calibrate(result: ForecastResult, history: readonly number[], origin: number): ForecastResult {
    const { horizon, quantile } = this.options;
    const widths = (this.widths ??= Array.from({ length: horizon }, () => new AdaptiveWidth(quantile)));
    if (this.lastOrigin === undefined || origin > this.lastOrigin) {
      // score every issued bound whose target interval (origin + h - 1) the history now holds
      for (const issue of this.issued) {
        for (let h = issue.scored + 1; h <= horizon && issue.origin + h - 1 < origin; h++) {
          const actual = history[history.length - (origin - (issue.origin + h - 1))];
          if (actual !== undefined && Number.isFinite(actual)) (widths[h - 1] as AdaptiveWidth).observe(actual <= (issue.upper[h - 1] as number));
          issue.scored = h;
        }
      }
      this.issued = this.issued.filter((issue) => issue.scored < horizon && origin - issue.origin <= horizon);
      this.lastOrigin = origin;
    } else if (origin < this.lastOrigin) {
      return result;
    }
    const upper = result.upper.map((u, i) => (widths[i] as AdaptiveWidth).bound(result.point[i] as number, u));
    this.issued = this.issued.filter((issue) => issue.origin !== origin);
    this.issued.push({ origin, upper, scored: 0 });
    return { ...result, upper };
  }

  private forecastRaw(history: readonly number[]): ForecastResult {
    const { models, horizon, quantile } = this.options;
    const first = models[0] as ForecastModel;
    if (history.length === 0) {
      const zeros = new Array<number>(horizon).fill(0);
      const empty = safeForecast(first.name, zeros, zeros, quantile, 'empty history; forecasting 0');
      return { ...empty, chosen: first.name, scores: [] };
    }
    if (history.length < horizon + 2) {
      const reason = `history ${history.length} < horizon + 2 (${horizon + 2}); no backtest, using ${first.name}`;
      return this.result(first, history, [], reason);
    }
    const selection = this.select(history);
    const model = models[selection.index] as ForecastModel;
    const unscored = selection.scores.every((score) => score.origins === 0 || !Number.isFinite(score.mae));
    const reason = unscored ? `no backtest origin could be scored; using ${first.name}` : undefined;
    return this.result(model, history, selection.scores, reason);
  }

  private select(history: readonly number[]): { index: number; scores: BacktestScore[] } {
    if (this.cached === undefined || this.callsSinceSelection >= this.options.reselectEvery) {
      const { models, horizon, backtestOrigins } = this.options;
      const scores = backtest(models, history, { horizon, origins: backtestOrigins });
      const best = scores[0];
      const usable = best !== undefined && Number.isFinite(best.mae);
      const index = usable ? models.findIndex((model) => model.name === best.model) : 0;
      this.cached = { index: Math.max(0, index), scores };
      this.callsSinceSelection = 0;
    }
    this.callsSinceSelection++;
    return this.cached;
  }

  private result(
    model: ForecastModel,
    history: readonly number[],
    scores: readonly BacktestScore[],
    reason: string | undefined,
  ): ForecastResult {
    const { horizon, quantile } = this.options;
    const raw = model.forecast(history, horizon, quantile);
    const reasons = [reason, raw.fallback].filter((text): text is string => text !== undefined);
    const fallback = reasons.length > 0 ? reasons.join('; ') : undefined;
    const forecast = safeForecast(model.name, raw.point, raw.upper, quantile, fallback);
    return { ...forecast, chosen: model.name, scores: scores.map((score) => ({ ...score })) };
  }
}
