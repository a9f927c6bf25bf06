import { Histogram, type Registry } from 'prom-client';

/** What the data plane calls once per finished request (or TCP connection). */
export interface DurationObserver {
  /** One duration in seconds; NaN and infinite values are ignored. */
  observe(seconds: number): void;
}

export interface RequestDurationOptions {
  name: string;
  help: string;
  /** Upper bounds of the buckets in seconds, ascending (prom-client's `buckets`). */
  buckets: readonly number[];
  registers: Registry[];
}

/** The part of prom-client's (15.x) Histogram state that `fold` adds to: one entry per label set. */
interface HistogramEntry {
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * A label-less prom-client Histogram whose `observe` costs a bucket search and three additions:
 * observations wait in a Float64Array of counts and are folded into the prom-client histogram
 * when it is collected (every scrape, and the cluster's metric snapshots), so the exposition, the
 * metric type, its aggregation across workers and `promtool check metrics` are prom-client's own.
 * prom-client's own observe validates labels, hashes them and allocates per call, which the
 * proxy's hot path cannot afford once per request.
 *
 * Differences from `Histogram.observe`: a non-finite value is ignored instead of throwing.
 * Cost: `observe` O(buckets) (a linear scan of ~13 bounds), no allocation; collect O(buckets).
 * The fold writes prom-client's internal `hashMap` entry (pinned prom-client 15.1.3;
 * test/unit/metrics-request-duration.test.ts compares the exposition with a plain Histogram).
 */
export class RequestDurationHistogram implements DurationObserver {
  readonly metric: Histogram;
  private readonly bounds: Float64Array;
  /** Observations not yet folded, per bucket; the last slot is above every bound (+Inf only). */
  private readonly pending: Float64Array;
  private pendingSum = 0;
  private pendingCount = 0;

  constructor(options: RequestDurationOptions) {
    this.bounds = Float64Array.from(options.buckets);
    this.pending = new Float64Array(this.bounds.length + 1);
    const fold = (): void => this.fold();
    this.metric = new Histogram({ name: options.name, help: options.help, buckets: [...options.buckets], registers: options.registers, collect: fold });
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    this.pending[i]!++;
    this.pendingSum += seconds;
    this.pendingCount++;
  }

  /** Add the pending observations to the prom-client histogram and clear them. O(buckets). */
  private fold(): void {
    if (this.pendingCount === 0) return;
    const internals = this.metric as unknown as { hashMap: Record<string, HistogramEntry> };
    let entry = Object.values(internals.hashMap)[0];
    if (entry === undefined) {
      // after reset(): the label-less entry, as prom-client's first observe would make it
      this.metric.zero({});
      entry = Object.values(internals.hashMap)[0] as HistogramEntry;
    }
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) entry.bucketValues[bounds[i] as number]! += this.pending[i] as number;
    entry.sum += this.pendingSum;
    entry.count += this.pendingCount;
    this.pending.fill(0);
    this.pendingSum = 0;
    this.pendingCount = 0;
  }
}
