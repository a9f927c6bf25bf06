/**
 * Fixed-size, log-bucketed latency histogram for the proxy hot path.
 *
 * Layout: bucket k covers (γ^(k-1), γ^k] milliseconds with γ = (1 + α) / (1 − α), α = 0.02,
 * and reports the value 2γ^k / (γ + 1), so any quantile is within 2 % (relative) of the
 * recorded sample of that rank. Range 0.01 ms .. 600 000 ms (10 min) in 448 buckets; values
 * outside the range are clamped to its ends. Quantile answers are also clamped to the exact
 * smallest and largest recorded value, so q = 0 and q = 1 are exact.
 *
 * Cost: `record` O(1), no allocation (one Math.log); `quantile` O(buckets) = O(448);
 * `merge` O(buckets). Memory: one Float64Array of 448 counts (3.5 KiB).
 *
 * Source: the relative-error bucket mapping of DDSketch (Masson, Rim, Lee, "DDSketch: a fast
 * and fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019), with a
 * fixed range instead of a collapsing store.
 */

/** Smallest distinguishable latency; smaller (and negative) values are recorded as this. */
export const HISTOGRAM_MIN_MS = 0.01;
/** Largest distinguishable latency (10 min); larger values are recorded as this. */
export const HISTOGRAM_MAX_MS = 600_000;
/** Guaranteed relative error of a quantile against the recorded sample of that rank. */
export const HISTOGRAM_RELATIVE_ERROR = 0.02;

const GAMMA = (1 + HISTOGRAM_RELATIVE_ERROR) / (1 - HISTOGRAM_RELATIVE_ERROR);
const INV_LOG_GAMMA = 1 / Math.log(GAMMA);
const INDEX_OFFSET = Math.ceil(Math.log(HISTOGRAM_MIN_MS) * INV_LOG_GAMMA);
const BUCKET_COUNT = Math.ceil(Math.log(HISTOGRAM_MAX_MS) * INV_LOG_GAMMA) - INDEX_OFFSET + 1;

/** Representative value of each bucket, computed once for all histograms. */
const REPRESENTATIVE_MS = new Float64Array(BUCKET_COUNT);
for (let i = 0; i < BUCKET_COUNT; i++) {
  REPRESENTATIVE_MS[i] = (2 * GAMMA ** (i + INDEX_OFFSET)) / (GAMMA + 1);
}

export class LatencyHistogram {
  /** Number of buckets every histogram has (same layout everywhere, so any two merge). */
  static readonly bucketCount = BUCKET_COUNT;

  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private min = Infinity;
  private max = -Infinity;

  /** Number of recorded latencies (NaN inputs are not counted). */
  get count(): number {
    return this.total;
  }

  /** Smallest recorded latency after clamping, in ms; 0 when empty. */
  get minMs(): number {
    return this.total === 0 ? 0 : this.min;
  }

  /** Largest recorded latency after clamping, in ms; 0 when empty. */
  get maxMs(): number {
    return this.total === 0 ? 0 : this.max;
  }

  /**
   * Record one latency in milliseconds. O(1), allocation-free.
   * Values below 0.01 ms (including 0 and negatives) count as 0.01 ms, values above 10 min
   * (including Infinity) count as 10 min; NaN is ignored.
   */
  record(latencyMs: number): void {
    let v = latencyMs;
    if (!(v >= HISTOGRAM_MIN_MS)) {
      if (Number.isNaN(v)) return;
      v = HISTOGRAM_MIN_MS;
    } else if (v > HISTOGRAM_MAX_MS) {
      v = HISTOGRAM_MAX_MS;
    }
    let i = Math.ceil(Math.log(v) * INV_LOG_GAMMA) - INDEX_OFFSET;
    if (i < 0) i = 0;
    else if (i >= BUCKET_COUNT) i = BUCKET_COUNT - 1;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /**
   * Latency (ms) at quantile q, e.g. 0.99 for p99: an estimate within 2 % of the recorded
   * sample at sorted index floor(q × (count − 1)).
   * Defined answers: 0 when empty; q outside [0, 1] is clamped; a NaN q gives 0.
   */
  quantile(q: number): number {
    if (this.total === 0 || Number.isNaN(q)) return 0;
    const clampedQ = q < 0 ? 0 : q > 1 ? 1 : q;
    const rank = Math.floor(clampedQ * (this.total - 1));
    if (rank === 0) return this.min;
    if (rank === this.total - 1) return this.max;
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i] ?? 0;
      if (seen > rank) {
        const estimate = REPRESENTATIVE_MS[i] ?? 0;
        return estimate < this.min ? this.min : estimate > this.max ? this.max : estimate;
      }
    }
    return this.max;
  }

  /** Forget every recorded value (keeps the storage; no allocation). */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  /** Add every value recorded in `other` to this histogram (`other` is unchanged). O(buckets). */
  merge(other: LatencyHistogram): void {
    if (other.total === 0) return;
    const src = other.counts;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      this.counts[i] = (this.counts[i] ?? 0) + (src[i] ?? 0);
    }
    this.total += other.total;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}
