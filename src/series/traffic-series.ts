import { PrescaleError } from '../errors.js';
import { BucketRing } from './bucket-ring.js';
import { OpenBucket, emptyBucket } from './open-bucket.js';

/** One finished request as the proxy's traffic recorder sees it. Times are epoch ms. */
export interface RequestRecord {
  startMs: number;
  latencyMs: number;
  /** HTTP status; 0 when no response was received. */
  status: number;
  bytes: number;
  backend: string;
}

/** Traffic of one closed interval [startMs, startMs + intervalMs). */
export interface Bucket {
  startMs: number;
  intervalMs: number;
  requests: number;
  /** Requests with status >= 500 or status 0 (no response). */
  errors: number;
  bytes: number;
  /** Latency quantiles in ms (±2 %, see LatencyHistogram); 0 when the interval had no request. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  maxConcurrency: number;
  /** Requests per backend id. */
  byBackend: Record<string, number>;
}

export interface TrafficSeriesOptions {
  /** Interval length in ms (positive integer); boundaries are multiples of it since the epoch. */
  intervalMs: number;
  /** Max closed buckets kept, oldest dropped (positive integer). */
  capacity: number;
}

/**
 * Per-interval request buckets: a few open intervals that the hot path writes into, and a
 * bounded ring of closed, frozen buckets with no gaps that forecasting reads.
 *
 * Placement rule: a record (or concurrency sample) belongs to the aligned interval holding its
 * time; if that interval is already closed it goes into the first interval still open, so a
 * closed bucket never changes. Time is always passed in (`nowMs`); the class never reads a clock.
 *
 * Cost: `record` O(open intervals), normally 1 or 2, and allocation-free except the first
 * request of a backend in an interval; `closeUntil` O(closed intervals); `values` O(capacity).
 */
export class TrafficSeries {
  readonly intervalMs: number;
  private readonly ring: BucketRing;
  /** Open intervals, sorted by startMs, all >= nextStartMs. */
  private readonly open: OpenBucket[] = [];
  private readonly spare: OpenBucket[] = [];
  /** The open interval the last sample went to (the hot path's usual answer); cleared when it closes. */
  private hot: OpenBucket | undefined;
  /** Start of the first interval not yet closed; undefined before the series is anchored. */
  private nextStartMs: number | undefined;
  private ignored = 0;

  /** @throws PrescaleError PRESCALE_ERR_CONFIG when intervalMs or capacity is not a positive integer. */
  constructor(options: TrafficSeriesOptions) {
    const { intervalMs, capacity } = options;
    if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `traffic series intervalMs must be a positive integer, got ${intervalMs}`);
    }
    if (!Number.isSafeInteger(capacity) || capacity <= 0) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `traffic series capacity must be a positive integer, got ${capacity}`);
    }
    this.intervalMs = intervalMs;
    this.ring = new BucketRing(capacity);
  }

  /** Records and samples ignored because a time was not finite. */
  get ignoredRecords(): number {
    return this.ignored;
  }

  /**
   * Record one finished request into the bucket containing its finish time
   * (startMs + latencyMs). A record with a non-finite time is ignored and counted in
   * `ignoredRecords`.
   */
  record(r: RequestRecord): void {
    const bucket = this.openFor(r.startMs + r.latencyMs);
    if (bucket === undefined) return;
    bucket.add(r.latencyMs, r.status, r.bytes, r.backend);
  }

  /** Note the current number of in-flight requests at `nowMs` (the bucket keeps the max). */
  observeConcurrency(inFlight: number, nowMs: number): void {
    this.openFor(nowMs)?.observeConcurrency(inFlight);
  }

  /**
   * Close every open bucket whose end (startMs + intervalMs) <= nowMs, in time order, filling
   * silent intervals with empty buckets so the series has no gaps; returns the newly closed
   * buckets (frozen). The first call on an empty series anchors it at the interval holding
   * nowMs. If more than `capacity` intervals would close at once (a long pause), only the
   * newest `capacity` are produced, since older ones would be dropped anyway.
   * A non-finite nowMs closes nothing.
   */
  closeUntil(nowMs: number): Bucket[] {
    if (!Number.isFinite(nowMs)) return [];
    const endMs = this.alignDown(nowMs);
    let fromMs = this.nextStartMs ?? this.open[0]?.startMs ?? endMs;
    if (fromMs >= endMs) {
      this.nextStartMs = fromMs;
      return [];
    }
    const maxFromMs = endMs - this.ring.capacity * this.intervalMs;
    if (fromMs < maxFromMs) fromMs = maxFromMs;
    const closed: Bucket[] = [];
    for (let startMs = fromMs; startMs < endMs; startMs += this.intervalMs) {
      let head = this.open[0];
      while (head !== undefined && head.startMs < startMs) {
        this.release(); // skipped by the capacity cut
        head = this.open[0];
      }
      let bucket: Bucket;
      if (head !== undefined && head.startMs === startMs) {
        bucket = head.toBucket(this.intervalMs);
        this.release();
      } else {
        bucket = emptyBucket(startMs, this.intervalMs);
      }
      this.ring.push(bucket);
      closed.push(bucket);
    }
    this.nextStartMs = endMs;
    return closed;
  }

  /**
   * Seed history that precedes live data: `requests[i]` is the count of interval i, the last
   * one ending at `endMs`. Seeded buckets count as closed and carry only `requests`.
   * Defined answers: endMs is aligned down to a multiple of intervalMs; a negative or
   * non-finite count is stored as 0; seeded intervals that would overlap data already in the
   * series (closed or open) are dropped, and a gap between the seed and that data is filled
   * with empty buckets; only the newest `capacity` buckets are kept. An empty `requests`
   * only anchors an empty series at endMs. A non-finite endMs is ignored.
   */
  seed(requests: readonly number[], endMs: number): void {
    if (!Number.isFinite(endMs)) return;
    const liveStartMs = this.ring.oldest()?.startMs ?? this.nextStartMs ?? this.open[0]?.startMs;
    const seedEndMs = Math.min(this.alignDown(endMs), liveStartMs ?? Infinity);
    const capacity = this.ring.capacity;
    // Build newest first and stop at capacity, so a far-away seed costs O(capacity) at most.
    const newestFirst: Bucket[] = [];
    for (let i = this.ring.length - 1; i >= 0 && newestFirst.length < capacity; i--) {
      newestFirst.push(this.ring.at(i) as Bucket);
    }
    if (liveStartMs !== undefined) {
      for (let s = liveStartMs - this.intervalMs; s >= seedEndMs && newestFirst.length < capacity; s -= this.intervalMs) {
        newestFirst.push(emptyBucket(s, this.intervalMs));
      }
    }
    for (let i = requests.length - 1; i >= 0 && newestFirst.length < capacity; i--) {
      const count = requests[i] ?? 0;
      const startMs = seedEndMs - (requests.length - i) * this.intervalMs;
      newestFirst.push(emptyBucket(startMs, this.intervalMs, count >= 0 && count !== Infinity ? count : 0));
    }
    this.ring.replace(newestFirst.reverse());
    this.nextStartMs ??= liveStartMs ?? seedEndMs;
  }

  /** Requests per closed interval, oldest first (a new array). O(n). */
  values(): number[] {
    return this.ring.values();
  }

  /** Closed buckets, oldest first (a new array of frozen buckets). O(n). */
  buckets(): readonly Bucket[] {
    return this.ring.toArray();
  }

  /** Most recent closed bucket or undefined. */
  last(): Bucket | undefined {
    return this.ring.newest();
  }

  private alignDown(timeMs: number): number {
    return Math.floor(timeMs / this.intervalMs) * this.intervalMs;
  }

  /** The open interval a sample at timeMs belongs to, opening it if needed. */
  private openFor(timeMs: number): OpenBucket | undefined {
    const hot = this.hot;
    // inside the last interval used, which is still open: no alignment or search (NaN fails here)
    if (hot !== undefined && timeMs >= hot.startMs && timeMs < hot.startMs + this.intervalMs) return hot;
    this.hot = this.findOpen(timeMs);
    return this.hot;
  }

  private findOpen(timeMs: number): OpenBucket | undefined {
    if (!Number.isFinite(timeMs)) {
      this.ignored++;
      return undefined;
    }
    let startMs = this.alignDown(timeMs);
    if (this.nextStartMs !== undefined && startMs < this.nextStartMs) startMs = this.nextStartMs;
    const open = this.open;
    // Usually the newest open interval: scan from the end.
    let i = open.length - 1;
    while (i >= 0 && (open[i] as OpenBucket).startMs > startMs) i--;
    const found = open[i];
    if (found !== undefined && found.startMs === startMs) return found;
    const bucket = this.spare.pop() ?? new OpenBucket();
    bucket.reset(startMs);
    open.splice(i + 1, 0, bucket);
    return bucket;
  }

  /** Remove the oldest open interval and keep its accumulator for reuse. */
  private release(): void {
    const head = this.open.shift();
    if (head === this.hot) this.hot = undefined;
    if (head !== undefined && this.spare.length < 4) this.spare.push(head);
  }
}
