/** Accuracy of one model at one horizon over the scored origins. */
export interface HorizonMetrics {
  horizonMinutes: number;
  /** Mean absolute error, requests per interval. */
  mae: number;
  /** Root mean squared error, requests per interval. */
  rmse: number;
  /** Symmetric MAPE as a fraction in [0, 2]: mean of 2|y - ŷ| / (|y| + |ŷ|), 0 when both are 0. */
  smape: number;
  /** MAE / (in-sample MAE of seasonal naive (daily) on the training part). */
  mase: number;
  /** Share of targets at or below the upper bound at q = 0.9. */
  coverageP90: number;
  /** Share of targets at or below the upper bound at q = 0.99. */
  coverageP99: number;
  /** Scored origins (targets that exist and are finite). */
  n: number;
}

/**
 * Running sums for HorizonMetrics. Targets that are not finite are skipped; a point or bound
 * that is not finite counts as an error of +Infinity / a miss (models never return one; the
 * contract is guarded in model.ts). O(1) per `add`.
 * Sources: Hyndman & Koehler, "Another look at measures of forecast accuracy", IJF 22 (2006)
 * (MASE, sMAPE); Makridakis, "Accuracy measures", IJF 9 (1993) (sMAPE).
 */
export class MetricsAccumulator {
  private n = 0;
  private absolute = 0;
  private squared = 0;
  private symmetric = 0;
  private covered90 = 0;
  private covered99 = 0;

  add(actual: number, point: number, upper90: number, upper99: number): void {
    if (!Number.isFinite(actual)) return;
    const error = Number.isFinite(point) ? Math.abs(actual - point) : Number.POSITIVE_INFINITY;
    this.n++;
    this.absolute += error;
    this.squared += error * error;
    const denominator = Math.abs(actual) + Math.abs(point);
    this.symmetric += denominator === 0 ? 0 : Math.min(2, (2 * error) / denominator);
    if (actual <= upper90) this.covered90++;
    if (actual <= upper99) this.covered99++;
  }

  /**
   * The metrics; every field is 0 when nothing was scored (n = 0 says so).
   * @param scale MASE denominator; when it is 0, MASE is 0 for a zero MAE and +Infinity otherwise
   */
  result(horizonMinutes: number, scale: number): HorizonMetrics {
    const n = this.n;
    if (n === 0) return { horizonMinutes, mae: 0, rmse: 0, smape: 0, mase: 0, coverageP90: 0, coverageP99: 0, n };
    const mae = this.absolute / n;
    const mase = scale > 0 ? mae / scale : mae === 0 ? 0 : Number.POSITIVE_INFINITY;
    return {
      horizonMinutes,
      mae,
      rmse: Math.sqrt(this.squared / n),
      smape: this.symmetric / n,
      mase,
      coverageP90: this.covered90 / n,
      coverageP99: this.covered99 / n,
      n,
    };
  }
}

/**
 * In-sample MAE of seasonal naive with season `season` over values[season, end): the mean of
 * |y[t] - y[t - season]| over pairs that are both finite; 0 when there is no pair. O(end).
 */
export function seasonalNaiveScale(values: readonly number[], season: number, end: number): number {
  let sum = 0;
  let count = 0;
  for (let t = season; t < Math.min(end, values.length); t++) {
    const difference = Math.abs((values[t] as number) - (values[t - season] as number));
    if (Number.isFinite(difference)) {
      sum += difference;
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}
