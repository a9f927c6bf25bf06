import { quickselect } from 'simple-statistics';

/**
 * Split-conformal quantile of a sample of nonconformity scores (forecast residuals).
 *
 * Given m scores s_1..s_m from a calibration set, the upper bound `point + Q` with
 * Q = the ⌈(m + 1)·q⌉-th smallest score covers a new, exchangeable residual with probability
 * at least q. Time-series residuals are not exchangeable, so for forecasts this is the usual
 * approximation (rolling calibration window), not a guarantee.
 *
 * Source: Lei, G'Sell, Rinaldo, Tibshirani, Wasserman, "Distribution-Free Predictive Inference
 * for Regression", JASA 113 (2018), §2.2 (split conformal); Angelopoulos & Bates, "A Gentle
 * Introduction to Conformal Prediction" (2021), §1. The order statistic is found with
 * simple-statistics `quickselect` (Floyd–Rivest), O(m) on average instead of a full sort.
 *
 * @param scores the sample (finite numbers); it is REORDERED IN PLACE, so pass a scratch
 *   array, never a caller's data
 * @param quantile q in [0, 1]
 * @returns the rank-⌈(m + 1)q⌉ order statistic, the rank clamped to [1, m] (so with too few
 *   scores for the requested coverage it returns the largest score instead of +Infinity);
 *   0 for an empty sample (the caller must report that it had no residuals)
 */
export function conformalQuantile(scores: number[], quantile: number): number {
  const count = scores.length;
  if (count === 0) return 0;
  const index = Math.min(count, Math.max(1, Math.ceil((count + 1) * quantile))) - 1;
  quickselect(scores, index, 0, count - 1);
  return scores[index] as number;
}
