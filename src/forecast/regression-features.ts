/**
 * The feature vector of linear-regression-fourier.ts, for a target interval at time τ
 * (intervals relative to the fit's origin) forecast from an origin whose last observations are
 * y[o-1], y[o-2], …:
 *
 * | columns                | value                                                    |
 * |------------------------|----------------------------------------------------------|
 * | 0                      | 1 (intercept, not penalised)                             |
 * | 1                      | τ / (7·D), the trend in weeks                            |
 * | 2 … 2 + 2K_d - 1       | sin(2πkτ/D), cos(2πkτ/D), k = 1..K_d (daily)             |
 * | … + 2K_w               | sin(2πkτ/7D), cos(2πkτ/7D), k = 1..K_w (weekly; 0 = off) |
 * | … + L                  | y[o-1]/s, …, y[o-L]/s (lags at the origin)               |
 * | last                   | mean(y[o-M], …, y[o-1])/s (level over the last M)        |
 *
 * D is intervals per day, s the mean of the training window (so every column is O(1) and the
 * coefficients are scale-free). Shifting a Fourier term by a constant is a linear combination of
 * the same sine and cosine, so the phase origin is arbitrary, which is what lets a cached fit
 * be reused after `shift` new intervals by evaluating at τ + shift. Source: Hyndman &
 * Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., §7.4 (Fourier terms) and
 * §12.1 (several seasonal periods); Taieb & Hyndman, "Recursive and direct multi-step
 * forecasting", Monash WP 2012 (direct strategy).
 */
export interface FeatureLayout {
  /** D, integer >= 2. */
  intervalsPerDay: number;
  /** K_d, harmonics of the daily period, 0 <= K_d < D / 2. */
  dailyHarmonics: number;
  /** K_w, harmonics of the weekly period, 0 <= K_w <= 6 (harmonic 7 would be the daily one). */
  weeklyHarmonics: number;
  /** L, raw lags, >= 0. */
  lags: number;
  /** M, intervals in the level mean, >= 1. */
  levelWindow: number;
}

/** Columns written by `writeDeterministic` (intercept, trend, Fourier). */
export function deterministicCount(layout: FeatureLayout): number {
  return 2 + 2 * layout.dailyHarmonics + 2 * layout.weeklyHarmonics;
}

/** Total columns. */
export function featureCount(layout: FeatureLayout): number {
  return deterministicCount(layout) + layout.lags + 1;
}

/** Observations before an origin that the lag and level columns read. */
export function featureReach(layout: FeatureLayout): number {
  return Math.max(layout.lags, layout.levelWindow);
}

/** Writes the deterministic columns for time τ into out[offset, offset + deterministicCount). */
export function writeDeterministic(layout: FeatureLayout, time: number, out: Float64Array, offset = 0): void {
  const day = layout.intervalsPerDay;
  out[offset] = 1;
  out[offset + 1] = time / (7 * day);
  let column = offset + 2;
  column = writeFourier(out, column, (2 * Math.PI * time) / day, layout.dailyHarmonics);
  writeFourier(out, column, (2 * Math.PI * time) / (7 * day), layout.weeklyHarmonics);
}

function writeFourier(out: Float64Array, column: number, angle: number, harmonics: number): number {
  for (let k = 1; k <= harmonics; k++) {
    out[column++] = Math.sin(k * angle);
    out[column++] = Math.cos(k * angle);
  }
  return column;
}

/**
 * Writes the lag and level columns for an origin `origin` (values[origin - 1] is the last
 * observation) into out[offset, …). `values` must be gap-free and origin >= featureReach.
 * `prefix` is the prefix-sum array of values (prefix[i] = Σ values[0, i)), so the level mean
 * costs O(1).
 */
export function writeLevel(
  layout: FeatureLayout,
  values: ArrayLike<number>,
  prefix: ArrayLike<number>,
  origin: number,
  scale: number,
  out: Float64Array,
  offset: number,
): void {
  for (let lag = 1; lag <= layout.lags; lag++) out[offset + lag - 1] = (values[origin - lag] as number) / scale;
  const m = layout.levelWindow;
  const sum = (prefix[origin] as number) - (prefix[origin - m] as number);
  out[offset + layout.lags] = sum / m / scale;
}

/** prefix[i] = Σ values[0, i), length values.length + 1. */
export function prefixSums(values: ArrayLike<number>): Float64Array {
  const prefix = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) prefix[i + 1] = (prefix[i] as number) + (values[i] as number);
  return prefix;
}
