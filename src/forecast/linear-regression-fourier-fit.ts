import { NormalEquations } from './least-squares.js';
import { StepOffsetCache } from './prediction-intervals.js';
import {
  deterministicCount,
  featureCount,
  featureReach,
  prefixSums,
  writeDeterministic,
  writeLevel,
  type FeatureLayout,
} from './regression-features.js';
import {
  fromModelScale,
  scaleCandidates,
  toModelScale,
  toScoreScale,
  type ScaleTransform,
  type ScaleTransformOption,
} from './scale-transform.js';
import { filledTail } from './series-gaps.js';

/** What a fit needs; see LinearRegressionFourierOptions for meanings and defaults. */
export interface RegressionSettings extends FeatureLayout {
  trainingIntervals: number;
  calibrationIntervals: number;
  ridge: number;
  maxTrainingRows: number;
  transform: ScaleTransformOption;
}

/** A fitted linear-regression-fourier: one coefficient vector per step. */
export interface RegressionFit {
  layout: FeatureLayout;
  transform: ScaleTransform;
  /** β_h for h = 1..horizon, on the model scale divided by `scale`. */
  coefficients: Float64Array[];
  /** Mean of the training window on the model scale (1 if that is 0). */
  scale: number;
  horizon: number;
  /** Per-step offsets from the calibration residuals (√ scale). */
  offsets: StepOffsetCache;
  /** Σ over steps of the calibration-window MAE (requests), how the transform was chosen. */
  calibrationError: number;
}

/** The training window prepared once, shared by every candidate transform. */
interface Window {
  history: readonly number[];
  /** history index of window position 0. */
  start: number;
  span: number;
  /** First target position whose lags lie inside the window for every step. */
  first: number;
  /** Targets in [first, properEnd) train; [properEnd, span) calibrate. */
  properEnd: number;
  stride: number;
  /** Gap-filled requests. */
  raw: number[];
  layout: FeatureLayout;
  /** Deterministic columns of every position, row-major. */
  det: Float64Array;
}

/**
 * Fits β_h for h = 1..horizon on the tail of `history` on each candidate scale
 * (scale-transform.ts) and keeps the one with the lowest calibration-window MAE, or returns why
 * it cannot fit. Split conformal: β is first solved without the calibration targets, its
 * errors there (√y - √ŷ) are the residuals, then the calibration rows are added and β solved
 * again. Cost O(candidates × H × rows × p²).
 */
export function fitRegression(history: readonly number[], horizon: number, s: RegressionSettings): RegressionFit | string {
  const window = prepareWindow(history, horizon, s);
  if (typeof window === 'string') return window;
  let best: RegressionFit | undefined;
  for (const transform of scaleCandidates(s.transform)) {
    const fit = fitOnScale(window, transform, horizon, s.ridge);
    if (typeof fit === 'string') return fit;
    if (best === undefined || fit.calibrationError < best.calibrationError) best = fit;
  }
  return best ?? 'no scale transform to fit';
}

function prepareWindow(history: readonly number[], horizon: number, s: RegressionSettings): Window | string {
  const n = history.length;
  const span = Math.min(n, s.trainingIntervals);
  const first = featureReach(s) + horizon - 1;
  const properEnd = span - s.calibrationIntervals;
  if (properEnd - first < s.intervalsPerDay) {
    const needed = s.calibrationIntervals + s.intervalsPerDay + first;
    return `history ${n} < calibration + one day + lags + horizon (${needed})`;
  }
  const start = n - span;
  const { values: raw, finiteCount } = filledTail(history, start, n);
  if (finiteCount === 0) return `the last ${span} intervals are all gaps`;
  // Weekly terms need each weekly phase seen twice before the calibration window.
  const weekly = properEnd >= 14 * s.intervalsPerDay ? s.weeklyHarmonics : 0;
  const layout: FeatureLayout = { ...s, weeklyHarmonics: weekly };
  const pDet = deterministicCount(layout);
  const det = new Float64Array(span * pDet);
  for (let i = first; i < span; i++) writeDeterministic(layout, i - span, det, i * pDet);
  const stride = Math.max(1, Math.ceil((properEnd - first) / s.maxTrainingRows));
  return { history, start, span, first, properEnd, stride, raw, layout, det };
}

function fitOnScale(w: Window, transform: ScaleTransform, horizon: number, ridge: number): RegressionFit | string {
  const values = w.raw.map((value) => toModelScale(transform, value));
  const scale = positiveMean(values);
  const prefix = prefixSums(values);
  const pDet = deterministicCount(w.layout);
  const row = new Float64Array(featureCount(w.layout));
  const det = w.det;
  const fill = (i: number, h: number): void => {
    for (let c = 0, at = i * pDet; c < pDet; c++, at++) row[c] = det[at] as number;
    writeLevel(w.layout, values, prefix, i - h + 1, scale, row, pDet);
  };
  const isTarget = (i: number): boolean => Number.isFinite(w.history[w.start + i]);
  // The deterministic columns and the target do not depend on the step h, only the level
  // columns do: their block of XᵀX and Xᵀy is summed once per row range and shared by every h.
  const detBlock = (from: number, to: number, stride: number): NormalEquations => {
    const block = new NormalEquations(row.length);
    row.fill(0);
    for (let i = from; i < to; i += stride) {
      if (!isTarget(i)) continue;
      row.set(w.det.subarray(i * pDet, (i + 1) * pDet));
      block.add(row, (values[i] as number) / scale);
    }
    return block;
  };
  const properBlock = detBlock(w.first, w.properEnd, w.stride);
  const calibrationBlock = detBlock(w.properEnd, w.span, 1);
  const coefficients: Float64Array[] = [];
  const residuals: number[][] = [];
  let calibrationError = 0;
  for (let h = 1; h <= horizon; h++) {
    const equations = properBlock.clone();
    for (let i = w.first; i < w.properEnd; i += w.stride) {
      if (!isTarget(i)) continue;
      fill(i, h);
      equations.addColumnsFrom(row, (values[i] as number) / scale, pDet);
    }
    const proper = equations.solve(ridge, [0]);
    if (proper === undefined) return `the step-${h} regression could not be solved`;
    const sample: number[] = [];
    let absolute = 0;
    for (let i = w.properEnd; i < w.span; i++) {
      if (!isTarget(i)) continue;
      fill(i, h);
      const predicted = fromModelScale(transform, dot(proper, row) * scale);
      sample.push(toScoreScale(w.raw[i] as number) - toScoreScale(predicted));
      absolute += Math.abs((w.raw[i] as number) - predicted);
      equations.addColumnsFrom(row, (values[i] as number) / scale, pDet);
    }
    equations.plus(calibrationBlock);
    calibrationError += sample.length > 0 ? absolute / sample.length : 0;
    coefficients.push(equations.solve(ridge, [0]) ?? proper);
    residuals.push(sample);
  }
  const offsets = new StepOffsetCache(residuals);
  const error = Number.isFinite(calibrationError) ? calibrationError : Number.POSITIVE_INFINITY;
  return { layout: w.layout, transform, coefficients, scale, horizon, offsets, calibrationError: error };
}

/**
 * Point forecasts for steps 1..horizon from a fit made `shift` intervals before the end of
 * `history`, and whether the lags had to be carried over gaps. O(horizon × p).
 */
export function predictRegression(fit: RegressionFit, history: readonly number[], horizon: number, shift: number): { point: number[]; lagsAreGaps: boolean } {
  const { layout, scale } = fit;
  const n = history.length;
  const reach = featureReach(layout);
  const tail = filledTail(history, n - reach, n);
  const padded = [...new Array<number>(reach - tail.values.length).fill(0), ...tail.values];
  const values = padded.map((value) => toModelScale(fit.transform, value));
  const pDet = deterministicCount(layout);
  const row = new Float64Array(featureCount(layout));
  writeLevel(layout, values, prefixSums(values), reach, scale, row, pDet);
  const point: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    writeDeterministic(layout, shift + h - 1, row, 0);
    point.push(fromModelScale(fit.transform, dot(fit.coefficients[h - 1] as Float64Array, row) * scale));
  }
  return { point, lagsAreGaps: tail.finiteCount === 0 };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** Mean of the values if it is positive and finite, else 1 (an all-zero window). */
function positiveMean(values: readonly number[]): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += ((values[i] as number) - mean) / (i + 1);
  return mean > 0 && Number.isFinite(mean) ? mean : 1;
}
