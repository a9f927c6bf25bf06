/**
 * The input and target vectors of the `mlp` model (mlp.ts) for a forecast origin o (values[o - 1]
 * is the last observation) on the scale z = log(1 + y), standardised by the training window's
 * mean μ and standard deviation σ, and centred on the origin's level a = mean(z[o - L, o)):
 *
 * | inputs               | value                                                          |
 * |----------------------|----------------------------------------------------------------|
 * | 0 … L - 1            | (z[o - L + i] - a) / σ: the lag window, oldest first            |
 * | … + H (seasonal)     | (z[o + h - 1 - D·⌈h/D⌉] - a) / σ: the target's time a day before |
 * | … + 1                | (a - μ) / σ: the level itself                                   |
 * | … + 2                | sin, cos of 2πτ/D: time of day of the origin                    |
 * | … + 2 (weekly)       | sin, cos of 2πτ/7D: day of week of the origin                   |
 *
 * Target h = 1..H: (z[o + h - 1] - a) / σ, so the network learns the shape ahead relative to
 * the current level and a level it has never seen (a traffic surge, a quiet week) still maps to
 * inputs and outputs of order 1. τ is the origin's time in intervals relative to the end of the
 * training window (negative inside it, `shift` at a forecast `shift` intervals later); only its
 * phase matters. Source: Hyndman & Athanasopoulos, FPP3 §12.4 (neural network autoregression,
 * NNAR, with seasonal lags); Taieb & Hyndman 2012 (direct multi-output strategy).
 */
export interface MlpLayout {
  /** D, intervals per day, >= 2. */
  intervalsPerDay: number;
  /** L, lag window, >= 1. */
  lagWindow: number;
  /** H, outputs (steps ahead), >= 1. */
  horizon: number;
  /** Inputs for the same time a day before each target. */
  seasonalLags: boolean;
  /** Day-of-week inputs (only when the training window spans two weeks). */
  weekly: boolean;
}

/** Standardisation of z = log(1 + y) over the training window. */
export interface MlpScale {
  mean: number;
  /** > 0 (1 for a constant window). */
  std: number;
}

export function inputCount(layout: MlpLayout): number {
  return layout.lagWindow + (layout.seasonalLags ? layout.horizon : 0) + 3 + (layout.weekly ? 2 : 0);
}

/** Observations before an origin that its inputs read. */
export function inputReach(layout: MlpLayout): number {
  return layout.seasonalLags ? Math.max(layout.lagWindow, layout.intervalsPerDay) : layout.lagWindow;
}

/**
 * Writes the inputs for `origin` into out[offset, offset + inputCount) and returns the level a
 * (model scale) that the outputs are relative to. `z` must be gap-free and origin >= inputReach.
 * O(L + H).
 */
export function writeInputs(layout: MlpLayout, z: ArrayLike<number>, origin: number, time: number, scale: MlpScale, out: Float32Array | Float64Array, offset = 0): number {
  const { lagWindow: lags, horizon, intervalsPerDay: day } = layout;
  let level = 0;
  for (let i = origin - lags; i < origin; i++) level += z[i] as number;
  level /= lags;
  let column = offset;
  for (let i = origin - lags; i < origin; i++) out[column++] = ((z[i] as number) - level) / scale.std;
  if (layout.seasonalLags) {
    for (let h = 1; h <= horizon; h++) out[column++] = ((z[origin + h - 1 - day * Math.ceil(h / day)] as number) - level) / scale.std;
  }
  out[column++] = (level - scale.mean) / scale.std;
  const daily = (2 * Math.PI * time) / day;
  out[column++] = Math.sin(daily);
  out[column++] = Math.cos(daily);
  if (layout.weekly) {
    out[column++] = Math.sin(daily / 7);
    out[column++] = Math.cos(daily / 7);
  }
  return level;
}

/** μ and σ of the values (σ = 1 when they are constant or not finite). O(n). */
export function standardScale(z: ArrayLike<number>): MlpScale {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < z.length; i++) {
    const delta = (z[i] as number) - mean;
    mean += delta / (i + 1);
    m2 += delta * ((z[i] as number) - mean);
  }
  const std = Math.sqrt(m2 / Math.max(1, z.length));
  return { mean: Number.isFinite(mean) ? mean : 0, std: std > 1e-9 && Number.isFinite(std) ? std : 1 };
}

/** Rows for training: inputs, targets and a target mask (0 where the target was a gap). */
export interface TrainingRows {
  rows: number;
  inputs: Float32Array;
  targets: Float32Array;
  mask: Float32Array;
}

/**
 * One row per origin in `origins`: inputs (writeInputs) and the H targets, each target's mask 1
 * when `observed(i)` (the value was not a gap) and i < end, else 0 with target 0.
 * O(rows × (L + H)).
 */
export function buildRows(
  layout: MlpLayout,
  z: ArrayLike<number>,
  origins: readonly number[],
  timeOf: (origin: number) => number,
  scale: MlpScale,
  observed: (index: number) => boolean,
  end: number,
): TrainingRows {
  const width = inputCount(layout);
  const h = layout.horizon;
  const rows = origins.length;
  const inputs = new Float32Array(rows * width);
  const targets = new Float32Array(rows * h);
  const mask = new Float32Array(rows * h);
  origins.forEach((origin, r) => {
    const level = writeInputs(layout, z, origin, timeOf(origin), scale, inputs, r * width);
    for (let step = 0; step < h; step++) {
      const i = origin + step;
      if (i >= end || !observed(i)) continue;
      targets[r * h + step] = ((z[i] as number) - level) / scale.std;
      mask[r * h + step] = 1;
    }
  });
  return { rows, inputs, targets, mask };
}
