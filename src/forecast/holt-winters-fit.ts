import {
  dampedSums,
  initialState,
  oneStepSse,
  stepAhead,
  update,
  type HoltWintersParams,
  type HoltWintersState,
} from './holt-winters-filter.js';
import { nelderMead } from './nelder-mead.js';
import { StepOffsetCache } from './prediction-intervals.js';
import {
  fromModelScale,
  scaleCandidates,
  toModelScale,
  toScoreScale,
  type ScaleTransform,
  type ScaleTransformOption,
} from './scale-transform.js';
import { filledTail } from './series-gaps.js';

/** Parameter bounds: FPP3 §8.2 recommends φ in [0.8, 0.98]; γ < 1 - α keeps the model stable. */
export const HOLT_WINTERS_BOUNDS = {
  alpha: [0.001, 0.999],
  beta: [0.0001, 0.5],
  gamma: [0.0001, 0.999],
  phi: [0.8, 0.98],
} as const;

export interface HoltWintersSettings {
  /** Season length m. */
  m: number;
  calibration: number;
  training: number;
  horizon: number;
  maxEvaluations: number;
  transform: ScaleTransformOption;
}

/** A fitted Holt-Winters model positioned at the end of some history. */
export interface HoltWintersFit {
  params: HoltWintersParams;
  transform: ScaleTransform;
  /** State after the last interval of the history the fit is anchored on. */
  state: HoltWintersState;
  dampedSums: number[];
  offsets: StepOffsetCache;
  /** Σ over steps of the calibration-window MAE (requests), how the transform was chosen. */
  calibrationError: number;
}

/**
 * Fits Holt-Winters on the tail of `history` on each candidate scale and keeps the one with
 * the lowest calibration-window MAE, or returns why it cannot. Parameters: grid over (α, γ),
 * then Nelder-Mead minimising the one-step SSE before the calibration window; the filter then
 * runs through the calibration window collecting the h-step residuals (√y - √ŷ).
 * Cost O(candidates × (maxEvaluations × training + calibration × horizon)).
 */
export function fitHoltWinters(history: readonly number[], s: HoltWintersSettings): HoltWintersFit | string {
  const n = history.length;
  const span = Math.min(n, s.training);
  const properEnd = span - s.calibration;
  if (properEnd < 2 * s.m) return `history ${n} < calibration + two seasons (${s.calibration + 2 * s.m})`;
  const start = n - span;
  const { values: raw, finiteCount } = filledTail(history, start, n);
  if (finiteCount === 0) return `the last ${span} intervals are all gaps`;
  const isTarget = (t: number): boolean => Number.isFinite(history[start + t]);
  let best: HoltWintersFit | undefined;
  for (const transform of scaleCandidates(s.transform)) {
    const fit = fitOnScale(raw, isTarget, transform, properEnd, s);
    if (best === undefined || fit.calibrationError < best.calibrationError) best = fit;
  }
  if (best === undefined) return 'no scale transform to fit';
  if (!Number.isFinite(best.state.level) || !Number.isFinite(best.state.trend)) return 'the fitted state is not finite';
  return best;
}

function fitOnScale(
  raw: readonly number[],
  isTarget: (t: number) => boolean,
  transform: ScaleTransform,
  properEnd: number,
  s: HoltWintersSettings,
): HoltWintersFit {
  const values = raw.map((value) => toModelScale(transform, value));
  const params = fitParams(values, s.m, properEnd, s.maxEvaluations);
  const sums = dampedSums(params.phi, s.horizon);
  const state = initialState(values, s.m);
  for (let t = 0; t < properEnd; t++) update(params, state, values[t] as number);
  const residuals: number[][] = Array.from({ length: s.horizon }, () => []);
  const absolute = new Array<number>(s.horizon).fill(0);
  for (let t = properEnd; t < values.length; t++) {
    for (let h = 1; h <= s.horizon && t + h - 1 < values.length; h++) {
      if (!isTarget(t + h - 1)) continue;
      const actual = raw[t + h - 1] as number;
      const predicted = fromModelScale(transform, stepAhead(state, h, sums[h - 1] as number));
      (residuals[h - 1] as number[]).push(toScoreScale(actual) - toScoreScale(predicted));
      absolute[h - 1] = (absolute[h - 1] as number) + Math.abs(actual - predicted);
    }
    update(params, state, values[t] as number);
  }
  let error = 0;
  residuals.forEach((sample, h) => {
    if (sample.length > 0) error += (absolute[h] as number) / sample.length;
  });
  const calibrationError = Number.isFinite(error) ? error : Number.POSITIVE_INFINITY;
  return { params, transform, state, dampedSums: sums, offsets: new StepOffsetCache(residuals), calibrationError };
}

/** Grid over (α, γ), then Nelder-Mead from the best grid point. */
function fitParams(values: readonly number[], m: number, end: number, maxEvaluations: number): HoltWintersParams {
  const objective = (x: number[]): number => oneStepSse(toParams(x), values, m, end, m);
  let best = { x: [0, 0, 0, 0], value: Number.POSITIVE_INFINITY };
  for (const alpha of [0.02, 0.1, 0.3, 0.6]) {
    for (const gammaShare of [0.05, 0.3]) {
      const x = fromParams({ alpha, beta: 0.02, gamma: gammaShare * (1 - alpha), phi: 0.9 });
      const value = objective(x);
      if (value < best.value) best = { x, value };
    }
  }
  const result = nelderMead(objective, best.x, { maxEvaluations, tolerance: 1e-7, initialStep: 0.7 });
  return toParams(result.value <= best.value ? result.x : best.x);
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));
const logit = (p: number): number => Math.log(p / (1 - p));
const within = (u: number, [lo, hi]: readonly [number, number]): number => lo + (hi - lo) * u;
const share = (v: number, [lo, hi]: readonly [number, number]): number => (v - lo) / (hi - lo);

/** Unconstrained coordinates → parameters inside HOLT_WINTERS_BOUNDS, with γ <= 1 - α. */
export function toParams(x: readonly number[]): HoltWintersParams {
  const b = HOLT_WINTERS_BOUNDS;
  const alpha = within(logistic(x[0] as number), b.alpha);
  const gammaHi = Math.max(b.gamma[0], Math.min(b.gamma[1], 1 - alpha));
  return {
    alpha,
    beta: within(logistic(x[1] as number), b.beta),
    gamma: within(logistic(x[2] as number), [b.gamma[0], gammaHi]),
    phi: within(logistic(x[3] as number), b.phi),
  };
}

/** Parameters → unconstrained coordinates (the inverse of toParams, shares clamped off 0 and 1). */
export function fromParams(p: HoltWintersParams): number[] {
  const b = HOLT_WINTERS_BOUNDS;
  const gammaHi = Math.max(b.gamma[0], Math.min(b.gamma[1], 1 - p.alpha));
  const clampShare = (u: number): number => Math.min(0.999, Math.max(0.001, u));
  return [
    logit(clampShare(share(p.alpha, b.alpha))),
    logit(clampShare(share(p.beta, b.beta))),
    logit(clampShare(share(p.gamma, [b.gamma[0], gammaHi]))),
    logit(clampShare(share(p.phi, b.phi))),
  ];
}
