import type { TensorFlow } from './mlp-backend.js';
import { buildRows, inputCount, inputReach, standardScale, writeInputs, type MlpLayout, type MlpScale } from './mlp-features.js';
import { forward, type MlpNetwork } from './mlp-network.js';
import { trainWeights, type TrainSettings } from './mlp-train.js';
import { StepOffsetCache } from './prediction-intervals.js';
import { toScoreScale } from './scale-transform.js';
import { filledTail } from './series-gaps.js';

/** What a training run needs; see MlpOptions (mlp.ts) for meanings and defaults. */
export interface MlpSettings extends TrainSettings {
  intervalsPerDay: number;
  lagWindow: number;
  seasonalLags: boolean;
  trainingIntervals: number;
  calibrationIntervals: number;
  maxTrainingRows: number;
}

/** A training window cut from a history, ready to train on (no TensorFlow.js needed yet). */
export interface PreparedWindow {
  layout: MlpLayout;
  scale: MlpScale;
  /** log(1 + y) of the gap-filled window. */
  z: Float64Array;
  /** The window as observed (gaps kept as NaN): calibration targets. */
  observed: Float64Array;
  /** Training origins (window positions), the newest ones, at most maxTrainingRows. */
  origins: number[];
  /** Calibration origins: targets in [properEnd, span) are scored, never trained on. */
  properEnd: number;
}

/** Shortest history `prepareWindow` accepts: input reach + one day of origins + horizon - 1 + calibration. */
export function minimumHistory(s: MlpSettings, horizon: number): number {
  const reach = inputReach({ intervalsPerDay: s.intervalsPerDay, lagWindow: s.lagWindow, horizon, seasonalLags: s.seasonalLags, weekly: false });
  return reach + s.intervalsPerDay + horizon - 1 + s.calibrationIntervals;
}

/**
 * Cuts the last `trainingIntervals` of `history` into a training window: gaps filled by LOCF for
 * the inputs (and masked as targets), z = log(1 + y), μ and σ of z, training origins whose H
 * targets all lie before the calibration window (the last `calibrationIntervals`), taken with a
 * stride so there are at most `maxTrainingRows`, newest first. Copies what it keeps, so the
 * caller may change `history` afterwards. O(window).
 * @returns the window, or why the history cannot train a network
 */
export function prepareWindow(history: readonly number[], horizon: number, s: MlpSettings): PreparedWindow | string {
  const day = s.intervalsPerDay;
  const n = history.length;
  const span = Math.min(n, s.trainingIntervals);
  const properEnd = span - s.calibrationIntervals;
  const weekly = properEnd >= 14 * day;
  const layout: MlpLayout = { intervalsPerDay: day, lagWindow: s.lagWindow, horizon, seasonalLags: s.seasonalLags, weekly };
  const first = inputReach(layout);
  const last = properEnd - horizon;
  if (last - first + 1 < day) {
    return `history ${n} < lags + one day of origins + horizon + calibration (${minimumHistory(s, horizon)})`;
  }
  const tail = filledTail(history, n - span, n);
  if (tail.finiteCount === 0) return `the last ${span} intervals are all gaps`;
  const z = Float64Array.from(tail.values, (value) => Math.log1p(Math.max(0, value)));
  const observed = Float64Array.from({ length: span }, (_, i) => history[n - span + i] as number);
  const stride = Math.max(1, Math.ceil((last - first + 1) / s.maxTrainingRows));
  const origins: number[] = [];
  for (let o = last; o >= first; o -= stride) origins.push(o);
  return { layout, scale: standardScale(z), z, observed, origins, properEnd };
}

/**
 * Trains the network on the window's origins (mlp-train.ts), then scores it on the calibration
 * window: at each origin o in [properEnd, span) the step-h forecast is compared with
 * observed[o + h - 1] (when it lies in the window and is not a gap) as √y - √ŷ, the per-step
 * split-conformal residuals of prediction-intervals.ts. The calibration targets are never
 * trained on, so the residuals are out of sample. O(training) + O(calibration × forward).
 */
export async function trainNetwork(tf: TensorFlow, w: PreparedWindow, s: MlpSettings, pause: () => Promise<void>): Promise<{ network: MlpNetwork; loss: number; rows: number }> {
  const span = w.z.length;
  const timeOf = (origin: number): number => origin - span;
  const observed = (i: number): boolean => Number.isFinite(w.observed[i]);
  const rows = buildRows(w.layout, w.z, w.origins, timeOf, w.scale, observed, w.properEnd);
  const { weights, loss } = await trainWeights(tf, rows, s, pause);
  const h = w.layout.horizon;
  const residuals: number[][] = Array.from({ length: h }, () => []);
  const x = new Float64Array(inputCount(w.layout));
  for (let origin = w.properEnd; origin < span; origin++) {
    const level = writeInputs(w.layout, w.z, origin, timeOf(origin), w.scale, x);
    const out = forward(weights, x);
    for (let step = 1; step <= h && origin + step - 1 < span; step++) {
      const actual = w.observed[origin + step - 1] as number;
      if (!Number.isFinite(actual)) continue;
      const predicted = Math.max(0, Math.expm1(level + w.scale.std * (out[step - 1] as number)));
      (residuals[step - 1] as number[]).push(toScoreScale(actual) - toScoreScale(predicted));
    }
  }
  const network: MlpNetwork = { layout: w.layout, scale: w.scale, weights, offsets: new StepOffsetCache(residuals) };
  return { network, loss, rows: rows.rows };
}
