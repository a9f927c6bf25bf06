import { MSTL } from '@bsull/augurs/mstl';
import { probit } from 'simple-statistics';
import { StepOffsetCache } from './prediction-intervals.js';
import { fromModelScale, fromScoreScale, toModelScale, toScoreScale, type ScaleTransform } from './scale-transform.js';
import { filledTail } from './series-gaps.js';
import { describeError, ensureMstlWasm } from './mstl-wasm.js';

/** What a fit needs; see MstlOptions (mstl.ts) for meanings and defaults. */
export interface MstlSettings {
  intervalsPerDay: number;
  weekly: boolean;
  trainingIntervals: number;
  refitEveryIntervals: number;
  levelWindow: number;
  calibrationIntervals: number;
  transform: ScaleTransform;
  intervals: 'augurs' | 'conformal';
}

/** A fitted MSTL: its forecast path from the fit origin and how its upper bound is made. */
export interface MstlFit {
  transform: ScaleTransform;
  /** Season lengths passed to augurs, in intervals ([D] or [D, 7D]). */
  seasons: number[];
  /** Model-scale forecasts for steps 1..path.length after the fit origin (refitEvery - 1 + horizon). */
  path: Float64Array;
  /** Steps a forecast may ask for. */
  horizon: number;
  /** σ_h of augurs' Gaussian ETS intervals for h = 1..horizon (model scale), when it gave them. */
  sigma?: Float64Array;
  /** Else split-conformal offsets per step (√ scale) from a fit without the calibration window. */
  offsets?: StepOffsetCache;
  /** Why the upper bound is not augurs' and not conformal either (upper = point). */
  intervalNote?: string;
}

/** Level at which augurs is asked for its interval; σ_h = half-width / z((1 + level) / 2). */
const SIGMA_LEVEL = 0.8;
/** Coverage is clamped below 1 so a Gaussian bound stays finite (z ≈ 4.75). */
const MAX_COVERAGE = 1 - 1e-6;

/**
 * Fits augurs' MSTL with an AutoETS trend (Bandara, Hyndman & Bergmeir, "MSTL", 2021; augurs
 * `MSTL.ets`) to the last `trainingIntervals` of `history` on the model scale, season lengths
 * passed explicitly: D, plus 7·D when `weekly` and the window spans >= 14 days (each weekly
 * phase seen twice). Gaps are filled by LOCF first. Keeps the forecast path for the next
 * refitEvery - 1 + horizon steps and σ_h from augurs' interval (augurs' ETS intervals are
 * Gaussian: upper = point + z_q·σ_h at any coverage q). When augurs gives no usable interval
 * (or `intervals` is 'conformal'), a second fit without the last `calibrationIntervals`
 * supplies split-conformal residuals of the same level-corrected forecast (`predictMstl`),
 * scored as √y - √ŷ. Cost: one or two augurs fits, O(window × seasons) each (about 1.2 s for
 * three weeks of minutes).
 * @returns the fit, or why there is none (short history, all gaps, augurs error). Never throws.
 */
export function fitMstl(history: readonly number[], horizon: number, s: MstlSettings): MstlFit | string {
  const day = s.intervalsPerDay;
  const n = history.length;
  const span = Math.min(n, s.trainingIntervals);
  if (span < 2 * day) return `history ${n} < two days (${2 * day}), too short for a daily season`;
  const tail = filledTail(history, n - span, n);
  if (tail.finiteCount === 0) return `the last ${span} intervals are all gaps`;
  const wasmProblem = ensureMstlWasm();
  if (wasmProblem !== undefined) return wasmProblem;
  const z = tail.values.map((value) => toModelScale(s.transform, value));
  const seasons = s.weekly && span >= 14 * day ? [day, 7 * day] : [day];
  const main = runAugurs(z, seasons, s.refitEveryIntervals - 1 + horizon, horizon);
  if (typeof main === 'string') return main;
  const fit: MstlFit = { transform: s.transform, seasons, path: main.path, horizon };
  if (main.sigma !== undefined && s.intervals === 'augurs') {
    fit.sigma = main.sigma;
    return fit;
  }
  const calibration = calibrate(z, tail.values, seasons, horizon, s);
  const why = s.intervals === 'augurs' ? 'augurs gave no interval' : 'conformal intervals were asked for';
  if (typeof calibration === 'string') fit.intervalNote = `${why} but ${calibration}; upper = point`;
  else fit.offsets = calibration;
  return fit;
}

/** augurs fit + predict; σ_h only when every half-width is finite and one is > 0. */
function runAugurs(z: readonly number[], seasons: number[], steps: number, horizon: number): { path: Float64Array; sigma?: Float64Array } | string {
  let model: MSTL | undefined;
  try {
    model = MSTL.ets(seasons);
    model.fit(Float64Array.from(z));
    const forecast = model.predict(steps, SIGMA_LEVEL);
    const path = Float64Array.from(forecast.point);
    if (path.length !== steps || !path.every(Number.isFinite)) return 'augurs MSTL returned a non-finite forecast';
    const upper = forecast.intervals?.upper;
    if (upper === undefined) return { path };
    const z80 = probit((1 + SIGMA_LEVEL) / 2);
    const sigma = Float64Array.from({ length: horizon }, (_, i) => ((upper[i] ?? Number.NaN) - (path[i] as number)) / z80);
    const usable = sigma.every((value) => Number.isFinite(value) && value >= 0) && sigma.some((value) => value > 0);
    return usable ? { path, sigma } : { path };
  } catch (err) {
    return `augurs MSTL failed: ${describeError(err)}`;
  } finally {
    model?.free();
  }
}

/** Split-conformal residuals per step from a fit that ends before the calibration window. */
function calibrate(z: readonly number[], raw: readonly number[], seasons: number[], horizon: number, s: MstlSettings): StepOffsetCache | string {
  const c = Math.min(s.calibrationIntervals, z.length - 2 * s.intervalsPerDay);
  if (c < 1) return 'the window is too short to calibrate a conformal bound';
  // The shorter window may no longer hold two weekly cycles; STL needs two of each season.
  const properSeasons = seasons.filter((season) => 2 * season <= z.length - c);
  const proper = runAugurs(z.slice(0, z.length - c), properSeasons, c + horizon, horizon);
  if (typeof proper === 'string') return proper;
  const start = z.length - c;
  const residuals: number[][] = Array.from({ length: horizon }, () => []);
  const errors = Array.from({ length: c }, (_, k) => (z[start + k] as number) - (proper.path[k] as number));
  for (let origin = 0; origin < c; origin++) {
    const correction = levelCorrection(errors, origin, s.levelWindow);
    for (let h = 1; h <= horizon && origin + h - 1 < c; h++) {
      const predicted = fromModelScale(s.transform, (proper.path[origin + h - 1] as number) + correction);
      (residuals[h - 1] as number[]).push(toScoreScale(raw[start + origin + h - 1] as number) - toScoreScale(predicted));
    }
  }
  return new StepOffsetCache(residuals);
}

/** Mean of the finite errors[k] for k in [shift - window, shift); 0 when there are none. */
function levelCorrection(errors: ArrayLike<number>, shift: number, window: number): number {
  let sum = 0;
  let count = 0;
  for (let k = Math.max(0, shift - window); k < shift; k++) {
    const error = errors[k] as number;
    if (Number.isFinite(error)) {
      sum += error;
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}

/**
 * Point and upper forecasts for steps 1..horizon from a fit made `shift` intervals before the
 * end of `history`: the path continued from step shift + 1, moved by the mean error of the
 * path over the last min(shift, levelWindow) observed intervals on the model scale (a level
 * correction: the fit is reused for a day, the level is not). O(horizon + levelWindow).
 */
export function predictMstl(fit: MstlFit, history: readonly number[], horizon: number, shift: number, quantile: number, levelWindow: number): { point: number[]; upper: number[] } {
  const n = history.length;
  const errors = new Float64Array(shift);
  for (let k = Math.max(0, shift - levelWindow); k < shift; k++) {
    const observed = history[n - shift + k] as number;
    errors[k] = Number.isFinite(observed) ? toModelScale(fit.transform, observed) - (fit.path[k] as number) : Number.NaN;
  }
  const correction = levelCorrection(errors, shift, levelWindow);
  const pointZ = Array.from({ length: horizon }, (_, i) => (fit.path[shift + i] as number) + correction);
  const point = pointZ.map((value) => fromModelScale(fit.transform, value));
  if (fit.sigma !== undefined) {
    const zq = quantile > 0.5 ? probit(Math.min(quantile, MAX_COVERAGE)) : 0;
    const sigma = fit.sigma;
    return { point, upper: pointZ.map((value, i) => fromModelScale(fit.transform, value + zq * (sigma[i] as number))) };
  }
  if (fit.offsets !== undefined) {
    const offsets = fit.offsets.offsets(horizon, quantile);
    return { point, upper: point.map((value, i) => fromScoreScale(toScoreScale(value) + (offsets[i] as number))) };
  }
  return { point, upper: point };
}
