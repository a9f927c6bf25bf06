/**
 * The scale a fitted model works on, and the scale its calibration residuals are scored on.
 *
 * Request rates are often multiplicative: the daily swing and the noise grow with the level,
 * and a level can fall 100× in a week (WorldCup98 after the final). Fitting log(1 + y) turns
 * that into additive structure a linear model or additive Holt-Winters can follow. A signal
 * that really is additive (a trend plus a fixed daily swing) is fitted best as it is, and √
 * sits between the two. These are the Box-Cox transformations with λ = 0, ½, 1; 'auto' lets a
 * model fit all three and keep the one with the lowest error on its calibration window.
 * Source: Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., §3.1
 * (Box-Cox transformations) and §5.6 (back-transformed point forecasts are medians, which is
 * what MAE rewards); Box & Cox, JRSS B 26 (1964).
 *
 * - 'log': z = log(1 + max(0, y)), y = exp(z) - 1
 * - 'sqrt': z = √max(0, y), y = max(0, z)²
 * - 'none': z = y
 */
export type ScaleTransform = 'log' | 'sqrt' | 'none';

/** What a model option accepts: one scale, or 'auto' to choose among SCALE_TRANSFORMS per fit. */
export type ScaleTransformOption = ScaleTransform | 'auto';

/** The candidates of 'auto', in tie-break order. */
export const SCALE_TRANSFORMS: readonly ScaleTransform[] = ['log', 'sqrt', 'none'];

/** The scales a fit tries for an option. */
export function scaleCandidates(option: ScaleTransformOption): readonly ScaleTransform[] {
  return option === 'auto' ? SCALE_TRANSFORMS : [option];
}

export function toModelScale(transform: ScaleTransform, value: number): number {
  if (transform === 'log') return Math.log1p(Math.max(0, value));
  if (transform === 'sqrt') return Math.sqrt(Math.max(0, value));
  return value;
}

/** Back to requests per interval, clamped at 0 (a forecast below zero traffic means zero). */
export function fromModelScale(transform: ScaleTransform, value: number): number {
  if (transform === 'log') return Math.max(0, Math.expm1(value));
  if (transform === 'sqrt') return Math.max(0, value) ** 2;
  return Math.max(0, value);
}

/**
 * Scale on which the fitted models score their calibration residuals: √y. For request counts,
 * roughly Poisson over a short interval, √ stabilises the variance (Anscombe, Biometrika 35
 * (1948)), so one day's residuals describe the next day even when the level has moved: raw
 * residuals would be too wide after a fall in traffic, log residuals too narrow (relative noise
 * grows as counts fall). Monotone, so coverage carries over: y <= fromScoreScale(√ŷ + Q)
 * exactly when √y - √ŷ <= Q.
 */
export function toScoreScale(value: number): number {
  return Math.sqrt(Math.max(0, value));
}

export function fromScoreScale(value: number): number {
  return Math.max(0, value) ** 2;
}
