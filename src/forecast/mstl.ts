import { createBaseline } from './baselines.js';
import { FitCache } from './fit-cache.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type ForecastModel } from './model.js';
import { fitMstl, predictMstl, type MstlFit, type MstlSettings } from './mstl-fit.js';
import { SCALE_TRANSFORMS, type ScaleTransform } from './scale-transform.js';
import { PrescaleError } from '../errors.js';

/** Options of `mstl`; counts are in intervals unless they say days. */
export interface MstlOptions {
  /** D: intervals in one day, integer >= 2 (1440 at 1-minute intervals). */
  intervalsPerDay: number;
  /** Add the weekly season (7·D) when the fit window spans >= 14 days; default true. */
  weekly?: boolean;
  /** Fit window in days; default 21 (three weeks: the weekly season seen three times). */
  trainingDays?: number;
  /** Reuse a fit for fewer than this many newer intervals; default D (refit daily). */
  refitEveryIntervals?: number;
  /** Newer intervals whose mean error moves the reused path (level correction); default one
   *  hour (D / 24, >= 1); 0 turns the correction off. */
  levelWindow?: number;
  /** Upper bound from augurs' ETS interval ('augurs', the default) or split conformal on the
   *  model's own level-corrected errors ('conformal', a second fit per refit). 'augurs' falls
   *  back to conformal when augurs gives no interval. */
  intervals?: 'augurs' | 'conformal';
  /** Conformal calibration window (the last part of the fit window); default D. */
  calibrationIntervals?: number;
  /** Scale augurs fits on (scale-transform.ts); default 'log' (multiplicative seasons). */
  transform?: ScaleTransform;
}

const NAME = 'mstl';

/**
 * MSTL (multiple seasonal-trend decomposition by Loess) with an AutoETS trend, through the
 * augurs WebAssembly build (`@bsull/augurs/mstl`, started synchronously by mstl-wasm.ts).
 * Season lengths are passed explicitly: one day, plus one week when the fit window spans two
 * weeks and `weekly` is on. The fit (mstl-fit.ts) runs on log(1 + y) of the last
 * `trainingDays` (gaps filled by LOCF) and is cached (fit-cache.ts) for `refitEveryIntervals`
 * (a day): in between, a forecast continues the fitted path from the current time and moves it
 * by the path's mean error over the last `levelWindow` observed intervals, so it follows the
 * level without refitting. Source: Bandara, Hyndman & Bergmeir, "MSTL: A Seasonal-Trend
 * Decomposition Algorithm for Time Series with Multiple Seasonal Patterns" (2021); Hyndman &
 * Athanasopoulos, FPP3 §8.6 (ETS prediction intervals).
 *
 * Upper bound: augurs' ETS interval (Gaussian on the model scale), at the requested coverage
 * q: point + z_q·σ_h, mapped back (q <= 0.5 gives the point). When augurs gives none, split
 * conformal on √ scale from a second fit without the last `calibrationIntervals`.
 *
 * Cost: a fit is one augurs call, O(window × seasons) (about 1 s for three weeks of minutes,
 * 2 s when conformal); a forecast from a cached fit is O(horizon + levelWindow). Fallback to
 * `seasonal-naive-daily` (then `naive`), with a reason: a history shorter than two days, a
 * window of gaps, or any augurs error (also cached for a day, so a failing fit is not retried
 * on every call).
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a bad option (at creation) or a bad horizon or
 *   quantile (per call). Never on data.
 */
export function createMstl(options: MstlOptions): ForecastModel {
  const settings = resolveSettings(options);
  const day = settings.intervalsPerDay;
  const fallback = createBaseline('seasonal-naive-daily', { intervalsPerDay: day });
  const cache = new FitCache<MstlFit | string>(settings.refitEveryIntervals);
  return {
    name: NAME,
    lookbackIntervals: settings.trainingIntervals,
    forecast(history, horizon, quantile) {
      assertForecastArgs(horizon, quantile);
      if (horizon === 0) return safeForecast(NAME, [], [], quantile);
      const hit = cache.lookup(history);
      const cached = hit?.entry.value;
      let fit = cached !== undefined && (typeof cached === 'string' || cached.horizon >= horizon) ? cached : undefined;
      const shift = fit === undefined ? 0 : (hit?.shift ?? 0);
      if (fit === undefined) {
        fit = fitMstl(history, horizon, settings);
        if (typeof fit !== 'string' || history.length >= 2 * day) cache.store(history, fit);
      }
      if (typeof fit === 'string') {
        const inner = fallback.forecast(history, horizon, quantile);
        const reason = [`${fit}; using ${fallback.name}`, inner.fallback].filter(Boolean).join('; ');
        return safeForecast(NAME, inner.point, inner.upper, quantile, reason);
      }
      const { point, upper } = predictMstl(fit, history, horizon, shift, quantile, settings.levelWindow);
      return safeForecast(NAME, point, upper, quantile, fit.intervalNote);
    },
  };
}

function resolveSettings(options: MstlOptions): MstlSettings {
  const day = options.intervalsPerDay;
  assertPositiveInteger(`${NAME} intervalsPerDay`, day, 2);
  const settings: MstlSettings = {
    intervalsPerDay: day,
    weekly: options.weekly ?? true,
    trainingIntervals: Math.round((options.trainingDays ?? 21) * day),
    refitEveryIntervals: options.refitEveryIntervals ?? day,
    levelWindow: options.levelWindow ?? Math.max(1, Math.round(day / 24)),
    calibrationIntervals: options.calibrationIntervals ?? day,
    transform: options.transform ?? 'log',
    intervals: options.intervals ?? 'augurs',
  };
  assertPositiveInteger(`${NAME} training window (trainingDays × intervalsPerDay)`, settings.trainingIntervals, 2 * day);
  assertPositiveInteger(`${NAME} refitEveryIntervals`, settings.refitEveryIntervals);
  assertPositiveInteger(`${NAME} levelWindow`, settings.levelWindow, 0);
  assertPositiveInteger(`${NAME} calibrationIntervals`, settings.calibrationIntervals);
  if (!SCALE_TRANSFORMS.includes(settings.transform)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${NAME} transform must be one of ${SCALE_TRANSFORMS.join(', ')}, got ${String(settings.transform)}`);
  }
  if (settings.intervals !== 'augurs' && settings.intervals !== 'conformal') {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${NAME} intervals must be "augurs" or "conformal", got ${String(settings.intervals)}`);
  }
  return settings;
}
