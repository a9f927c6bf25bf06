/**
 * Online calibration of an upper prediction bound: adaptive conformal inference (ACI) applied to
 * the bound's width above the point forecast.
 *
 * The split-conformal bound `point + Q` (prediction-intervals.ts) covers at its nominal rate only
 * when future residuals look like the calibration residuals. Traffic breaks that: level shifts
 * (match days, launches) make the recent residuals larger than the calibration sample, and the
 * bound under-covers exactly when it matters. ACI corrects it online: after each forecast whose
 * target has been observed, the width multiplier λ grows when the bound missed and shrinks when
 * it covered,
 *
 *     log λ ← log λ + γ · (miss − (1 − q)),   miss ∈ {0, 1},
 *
 * so the long-run miss rate is driven to 1 − q whatever the residual distribution does (the
 * guarantee of Gibbs & Candès, "Adaptive Conformal Inference Under Distribution Shift",
 * NeurIPS 2021, Prop. 4.1, here on the log-width scale as in the quantile tracking of
 * Angelopoulos, Candès & Tibshirani, "Conformal PID Control for Time Series Prediction",
 * NeurIPS 2023, §2). The calibrated bound is `point + λ · (upper − point)`, never below point.
 *
 * λ is clamped to [1/4, 4] so one regime cannot blow the width up without bound.
 * O(1) per call; the learning rate γ defaults to 0.1 (about 10 misses in a row double the width).
 */
export class AdaptiveWidth {
  private logScale = 0;
  private static readonly MAX_LOG = Math.log(4);

  /**
   * @param quantile nominal coverage q of the bound, in (0, 1), e.g. 0.9
   * @param rate learning rate γ > 0
   */
  constructor(
    private readonly quantile: number,
    private readonly rate = 0.1,
  ) {}

  /** The current width multiplier λ, in [1/4, 4]. */
  get scale(): number {
    return Math.exp(this.logScale);
  }

  /** The calibrated bound for a point forecast and the model's upper bound (finite, >= point). */
  bound(point: number, upper: number): number {
    return point + this.scale * Math.max(0, upper - point);
  }

  /** Record whether the calibrated bound issued for an observed target covered it. */
  observe(covered: boolean): void {
    const miss = covered ? 0 : 1;
    this.logScale += this.rate * (miss - (1 - this.quantile));
    this.logScale = Math.max(-AdaptiveWidth.MAX_LOG, Math.min(AdaptiveWidth.MAX_LOG, this.logScale));
  }
}
