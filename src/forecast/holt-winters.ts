import { createBaseline } from './baselines.js';
import { FitCache } from './fit-cache.js';
import { fitHoltWinters, type HoltWintersFit } from './holt-winters-fit.js';
import { copyState, stepAhead, update } from './holt-winters-filter.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type ForecastModel } from './model.js';
import { fromModelScale, fromScoreScale, toModelScale, toScoreScale, type ScaleTransformOption } from './scale-transform.js';
import { filledTail } from './series-gaps.js';

export { HOLT_WINTERS_BOUNDS } from './holt-winters-fit.js';

/** Options of `holt-winters`; counts are in intervals unless they say days. */
export interface HoltWintersOptions {
  /** D: intervals in one day, integer >= 2. */
  intervalsPerDay: number;
  /** Season length m; default D (a daily season). */
  seasonLength?: number;
  /** Window the filter runs over at a refit, calibration included, in days; default 21. */
  trainingDays?: number;
  /** Split-conformal calibration window at the end of the training window; default D. */
  calibrationIntervals?: number;
  /** Reuse the fitted parameters for fewer than this many newer intervals; default D. */
  refitEveryIntervals?: number;
  /** Objective evaluations of the parameter search; default 150. */
  maxEvaluations?: number;
  /** Scale the filter runs on (scale-transform.ts); default 'auto': fit on log, √ and raw and
   *  keep the one with the lowest calibration-window MAE (3× the fitting cost). On log the
   *  additive seasonality is additive in log(1 + y), i.e. multiplicative in requests. */
  transform?: ScaleTransformOption;
}

const NAME = 'holt-winters';

/**
 * Additive Holt-Winters with a damped trend (holt-winters-filter.ts), season m = one day by
 * default, run on a scale chosen per fit (scale-transform.ts: on log(1 + y) it follows a level
 * that falls 100× without negative forecasts; on raw requests it fits an additive signal
 * exactly). The smoothing parameters (α, β, γ, φ) are fitted on the data (holt-winters-fit.ts):
 * a coarse grid over α and γ, then Nelder-Mead (nelder-mead.ts) on logistic-mapped coordinates
 * within HOLT_WINTERS_BOUNDS, minimising the one-step sum of squared errors over the training
 * window minus its last `calibrationIntervals` (the first season, used to initialise, is not
 * scored).
 *
 * Split conformal per step (prediction-intervals.ts): with those parameters the filter runs on
 * through the calibration window, and at each calibration origin the h-step forecasts are
 * compared with what happened, scored as √y - √ŷ; upper = (√ŷ_h + Q_h(q))². The scale with the
 * lowest calibration MAE is kept. Forecasts are clamped at 0. Gaps are filled by the last
 * observation before them (series-gaps.ts).
 *
 * Refit at most once per `refitEveryIntervals` (default a day): between refits a cached state
 * (fit-cache.ts) is moved forward over the newer intervals only, O(new intervals + m) per call.
 * A refit costs O(3 × maxEvaluations × training window) (about 0.2 s for three weeks of
 * minutes). Fallback, with a reason: a history shorter than calibration + two seasons uses
 * `seasonal-naive-daily` (then `naive`); so does a fit whose state is not finite.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a bad option (at creation) or a bad horizon or
 *   quantile (per call). Never on data.
 */
export function createHoltWinters(options: HoltWintersOptions): ForecastModel {
  const day = options.intervalsPerDay;
  assertPositiveInteger(`${NAME} intervalsPerDay`, day, 2);
  const m = options.seasonLength ?? day;
  assertPositiveInteger(`${NAME} seasonLength`, m, 2);
  const calibration = options.calibrationIntervals ?? day;
  assertPositiveInteger(`${NAME} calibrationIntervals`, calibration);
  const training = Math.round((options.trainingDays ?? 21) * day);
  assertPositiveInteger(`${NAME} training window (trainingDays × intervalsPerDay)`, training, calibration + 2 * m);
  const refitEvery = options.refitEveryIntervals ?? day;
  assertPositiveInteger(`${NAME} refitEveryIntervals`, refitEvery);
  const maxEvaluations = options.maxEvaluations ?? 150;
  assertPositiveInteger(`${NAME} maxEvaluations`, maxEvaluations, 10);
  const transform = options.transform ?? 'auto';
  const fallback = createBaseline('seasonal-naive-daily', { intervalsPerDay: day });
  const cache = new FitCache<HoltWintersFit>(refitEvery);

  return {
    name: NAME,
    lookbackIntervals: training,
    forecast(history, horizon, quantile) {
      assertForecastArgs(horizon, quantile);
      if (horizon === 0) return safeForecast(NAME, [], [], quantile);
      const hit = cache.lookup(history);
      let fit: HoltWintersFit | string;
      if (hit !== undefined && hit.entry.value.dampedSums.length >= horizon) {
        fit = advance(hit.entry.value, history, hit.shift);
        if (hit.shift > 0) cache.advance(hit, history, fit);
      } else {
        fit = fitHoltWinters(history, { m, calibration, training, horizon, maxEvaluations, transform });
        if (typeof fit !== 'string') cache.store(history, fit);
      }
      if (typeof fit === 'string') {
        const inner = fallback.forecast(history, horizon, quantile);
        const reason = [`${fit}; using ${fallback.name}`, inner.fallback].filter(Boolean).join('; ');
        return safeForecast(NAME, inner.point, inner.upper, quantile, reason);
      }
      const offsets = fit.offsets.offsets(horizon, quantile);
      const point: number[] = [];
      const upper: number[] = [];
      for (let h = 1; h <= horizon; h++) {
        const value = fromModelScale(fit.transform, stepAhead(fit.state, h, fit.dampedSums[h - 1] as number));
        point.push(value);
        upper.push(fromScoreScale(toScoreScale(value) + (offsets[h - 1] as number)));
      }
      return safeForecast(NAME, point, upper, quantile);
    },
  };
}

/** The fit moved forward over the last `shift` intervals of `history` (a new state object). */
function advance(fit: HoltWintersFit, history: readonly number[], shift: number): HoltWintersFit {
  if (shift === 0) return fit;
  const state = copyState(fit.state);
  const n = history.length;
  const { values } = filledTail(history, n - shift, n);
  for (const y of values) update(fit.params, state, toModelScale(fit.transform, y));
  return { ...fit, state };
}
