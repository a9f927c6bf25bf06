import { conformalQuantile } from './conformal-quantile.js';
import type { ForecastModel } from './model.js';

/**
 * Per-horizon-step prediction intervals from a model's own out-of-sample residuals (split
 * conformal, one calibration sample per step), and the p50/p90/p99 bounds helper.
 *
 * `residuals[h - 1]` holds the signed errors y - ŷ of the model's h-step-ahead forecasts made
 * at past origins, each forecast using only data before its origin (and, for the fitted
 * models, parameters fitted before the calibration window). The upper bound at coverage q for
 * step h is ŷ_h + Q_h(q), Q_h the split-conformal q-quantile of residuals[h - 1]
 * (conformal-quantile.ts), clamped at 0 so upper >= point. Signed residuals make it a one-sided
 * bound: P(y <= ŷ + Q) >= q for exchangeable residuals. The baselines score y - ŷ directly;
 * the fitted models score √y - √ŷ and map the bound back (scale-transform.ts), which keeps
 * coverage and lets the width follow the level. Source: Lei et al., JASA 113 (2018),
 * §2.2; per-step calibration as in Stankeviciute, Alaa & van der Schaar, "Conformal
 * time-series forecasting", NeurIPS 2021.
 */
export type StepResiduals = readonly (readonly number[])[];

/**
 * Upper-bound offsets Q_1..Q_horizon (finite, >= 0) for coverage `quantile`.
 * A step without residuals of its own (beyond the calibrated steps, or an empty sample) borrows
 * the last calibrated step's offset scaled by √(h / h_last); with no residuals at all, zeros.
 * Cost O(horizon × m) for m residuals per step (selection on a scratch copy; never mutates).
 */
export function stepUpperOffsets(residuals: StepResiduals, horizon: number, quantile: number): number[] {
  const offsets = new Array<number>(horizon).fill(0);
  let lastStep = 0;
  let lastOffset = 0;
  for (let h = 1; h <= horizon; h++) {
    const sample = residuals[h - 1];
    if (sample !== undefined && sample.length > 0) {
      lastOffset = Math.max(0, conformalQuantile([...sample], quantile));
      lastStep = h;
      offsets[h - 1] = lastOffset;
    } else if (lastStep > 0) {
      offsets[h - 1] = lastOffset * Math.sqrt(h / lastStep);
    }
  }
  return offsets;
}

/**
 * Memoises `stepUpperOffsets` per quantile for one residual sample (a fitted model is asked
 * for the same quantile every interval until its next refit).
 */
export class StepOffsetCache {
  private readonly byQuantile = new Map<number, number[]>();

  constructor(private readonly residuals: StepResiduals) {}

  /** Offsets for steps 1..horizon; a copy the caller may keep. */
  offsets(horizon: number, quantile: number): number[] {
    let cached = this.byQuantile.get(quantile);
    if (cached === undefined || cached.length < horizon) {
      cached = stepUpperOffsets(this.residuals, horizon, quantile);
      this.byQuantile.set(quantile, cached);
    }
    return cached.slice(0, horizon);
  }
}

/** Point forecast plus upper bounds at three coverages, each of length `horizon`. */
export interface QuantileBounds {
  model: string;
  point: number[];
  /** Upper bound at 50 % coverage (the median-corrected point, never below it). */
  p50: number[];
  p90: number[];
  p99: number[];
  /** Fallback reasons the model gave, if any (from the p90 call). */
  fallback?: string;
}

/** The coverages `forecastBounds` asks for. */
export const BOUND_QUANTILES = { p50: 0.5, p90: 0.9, p99: 0.99 } as const;

/**
 * Asks `model` for the same forecast at coverages 0.5, 0.9 and 0.99 and returns the three
 * upper bounds side by side (the point forecast does not depend on the coverage). Works for any
 * ForecastModel; the fitted models cache their fit, so the extra calls cost only the quantile
 * selections. The bounds are non-decreasing in coverage for every step (enforced, since
 * models with few residuals can tie or cross by rounding).
 * @throws what `model.forecast` throws for a bad horizon (PrescaleError PRESCALE_ERR_CONFIG)
 */
export function forecastBounds(model: ForecastModel, history: readonly number[], horizon: number): QuantileBounds {
  const median = model.forecast(history, horizon, BOUND_QUANTILES.p50);
  const p90 = model.forecast(history, horizon, BOUND_QUANTILES.p90);
  const p99 = model.forecast(history, horizon, BOUND_QUANTILES.p99);
  const point = p90.point;
  const p50 = median.upper.map((value, i) => Math.max(value, point[i] as number));
  const p90Upper = p90.upper.map((value, i) => Math.max(value, p50[i] as number));
  const p99Upper = p99.upper.map((value, i) => Math.max(value, p90Upper[i] as number));
  const bounds: QuantileBounds = { model: p90.model, point, p50, p90: p90Upper, p99: p99Upper };
  if (p90.fallback !== undefined) bounds.fallback = p90.fallback;
  return bounds;
}
