import { PrescaleError } from '../errors.js';
import { createBaseline } from './baselines.js';
import { FitCache } from './fit-cache.js';
import { fitRegression, predictRegression, type RegressionFit, type RegressionSettings } from './linear-regression-fourier-fit.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type ForecastModel } from './model.js';
import { featureReach } from './regression-features.js';
import { fromScoreScale, toScoreScale, type ScaleTransformOption } from './scale-transform.js';

/** Options of `linear-regression-fourier`; every count is in intervals unless it says days. */
export interface LinearRegressionFourierOptions {
  /** D: intervals in one day, integer >= 2 (1440 at 1-minute intervals). */
  intervalsPerDay: number;
  /** Daily harmonics K_d; default 4 (clamped below D / 2). */
  dailyHarmonics?: number;
  /** Weekly harmonics K_w; default 4 (at most 6). Used only when the fit window spans >= 14 days. */
  weeklyHarmonics?: number;
  /** Raw lags L at the origin; default 3 (y[o-1], y[o-2], y[o-3]). */
  lags?: number;
  /** M of the level column, the mean of the last M values; default one hour (D / 24, >= 1). */
  levelWindow?: number;
  /** Training window in days, calibration included; default 21 (three weeks). */
  trainingDays?: number;
  /** Split-conformal calibration window, the last part of the training window; default D. */
  calibrationIntervals?: number;
  /** Reuse a fit for fewer than this many newer intervals; default D (refit daily). */
  refitEveryIntervals?: number;
  /** Ridge λ as a fraction of the mean diagonal of XᵀX; default 1e-3. */
  ridge?: number;
  /** Training rows per step beyond which rows are taken with a stride; default 20 000. */
  maxTrainingRows?: number;
  /** Scale the regression is fitted on (scale-transform.ts); default 'auto': fit log, √ and
   *  raw, keep the one with the lowest calibration-window MAE (3× the fitting cost). */
  transform?: ScaleTransformOption;
}

type Settings = RegressionSettings;

const NAME = 'linear-regression-fourier';

/**
 * Direct multi-step least-squares model: one ridge regression per step h = 1..horizon, each
 * predicting z[o + h - 1] from the features of regression-features.ts (intercept, trend, daily
 * and weekly Fourier terms of the target time, and the lags z[o-1..o-L] plus the mean of the
 * last M values at the origin o as level features). Each step has its own coefficients, so the
 * lags act as the current level and the Fourier terms as the shape ahead of it, with no
 * recursion on forecasts (direct strategy, Taieb & Hyndman 2012). z is requests on a scale
 * chosen per fit (scale-transform.ts: log(1 + y), √y or y, whichever forecasts the calibration
 * window best); forecasts are mapped back and clamped at 0.
 *
 * Fitting (linear-regression-fourier-fit.ts, least-squares.ts) uses the last trainingDays·D
 * intervals (three weeks), gaps filled by LOCF for the lags and skipped as targets; weekly
 * terms only when the part before the calibration window spans two weeks (each weekly phase
 * seen twice), else K_w = 0. Split conformal per step (prediction-intervals.ts): the
 * coefficients are first fitted without the last `calibrationIntervals` targets; that fit's
 * errors on them, scored as √y - √ŷ, are the step's residuals; then the calibration rows are
 * added and the final coefficients solved. Upper bound = (√ŷ_h + Q_h(q))².
 *
 * Cost: a fit is O(3 × H × rows × p²) with p = 2 + 2K_d + 2K_w + L + 1 (22 by default) and
 * rows <= maxTrainingRows (about 0.5 s for three weeks of minutes and H = 15); a forecast is
 * O(H × p). Fits are cached (fit-cache.ts) and reused until `refitEveryIntervals` newer
 * intervals have arrived, so in a loop called every interval it refits once a day. Fallbacks,
 * with a reason: a history shorter than calibration + one day + reach + horizon, or a system
 * that cannot be solved, uses `seasonal-naive-daily` (which falls back to `naive`).
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a bad option (at creation) or a bad horizon or
 *   quantile (per call). Never on data.
 */
export function createLinearRegressionFourier(options: LinearRegressionFourierOptions): ForecastModel {
  const settings = resolveSettings(options);
  const refitEvery = options.refitEveryIntervals ?? settings.intervalsPerDay;
  assertPositiveInteger(`${NAME} refitEveryIntervals`, refitEvery);
  const fallback = createBaseline('seasonal-naive-daily', { intervalsPerDay: settings.intervalsPerDay });
  const cache = new FitCache<RegressionFit>(refitEvery);
  return {
    name: NAME,
    lookbackIntervals: settings.trainingIntervals,
    forecast(history, horizon, quantile) {
      assertForecastArgs(horizon, quantile);
      if (horizon === 0) return safeForecast(NAME, [], [], quantile);
      const hit = cache.lookup(history);
      let fit = hit !== undefined && hit.entry.value.horizon >= horizon ? hit.entry.value : undefined;
      const shift = fit === undefined ? 0 : (hit?.shift ?? 0);
      if (fit === undefined) {
        const fitted = fitRegression(history, horizon, settings);
        if (typeof fitted === 'string') {
          const inner = fallback.forecast(history, horizon, quantile);
          const reason = [`${fitted}; using ${fallback.name}`, inner.fallback].filter(Boolean).join('; ');
          return safeForecast(NAME, inner.point, inner.upper, quantile, reason);
        }
        fit = fitted;
        cache.store(history, fit);
      }
      const { point, lagsAreGaps } = predictRegression(fit, history, horizon, shift);
      const offsets = fit.offsets.offsets(horizon, quantile);
      const upper = point.map((value, i) => fromScoreScale(toScoreScale(value) + (offsets[i] as number)));
      const reason = lagsAreGaps ? `the last ${featureReach(fit.layout)} intervals are gaps; lags carried forward` : undefined;
      return safeForecast(NAME, point, upper, quantile, reason);
    },
  };
}

function resolveSettings(options: LinearRegressionFourierOptions): Settings {
  const day = options.intervalsPerDay;
  assertPositiveInteger(`${NAME} intervalsPerDay`, day, 2);
  const settings: Settings = {
    intervalsPerDay: day,
    dailyHarmonics: Math.min(options.dailyHarmonics ?? 4, Math.floor((day - 1) / 2)),
    weeklyHarmonics: Math.min(options.weeklyHarmonics ?? 4, 6),
    lags: options.lags ?? 3,
    levelWindow: options.levelWindow ?? Math.max(1, Math.round(day / 24)),
    trainingIntervals: Math.round((options.trainingDays ?? 21) * day),
    calibrationIntervals: options.calibrationIntervals ?? day,
    ridge: options.ridge ?? 1e-3,
    maxTrainingRows: options.maxTrainingRows ?? 20_000,
    transform: options.transform ?? 'auto',
  };
  assertPositiveInteger(`${NAME} dailyHarmonics`, settings.dailyHarmonics, 0);
  assertPositiveInteger(`${NAME} weeklyHarmonics`, settings.weeklyHarmonics, 0);
  assertPositiveInteger(`${NAME} lags`, settings.lags, 0);
  assertPositiveInteger(`${NAME} levelWindow`, settings.levelWindow);
  assertPositiveInteger(`${NAME} calibrationIntervals`, settings.calibrationIntervals);
  assertPositiveInteger(`${NAME} training window (trainingDays × intervalsPerDay)`, settings.trainingIntervals, 2 * day);
  assertPositiveInteger(`${NAME} maxTrainingRows`, settings.maxTrainingRows);
  if (!(settings.ridge >= 0 && Number.isFinite(settings.ridge))) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${NAME} ridge must be a finite number >= 0, got ${settings.ridge}`);
  }
  return settings;
}
