import { HISTOGRAM_MAX_MS, HISTOGRAM_MIN_MS, HISTOGRAM_RELATIVE_ERROR, LatencyHistogram } from '../series/latency-histogram.js';
import type { RequestRecord } from '../series/traffic-series.js';

/**
 * Traffic of one worker for part of one interval [startMs, startMs + intervalMs), as sent to the
 * primary. Several parts may cover the same interval (one per report); they add up.
 */
export interface TallyPart {
  /** Interval start, epoch ms, a multiple of intervalMs. */
  startMs: number;
  requests: number;
  /** Requests with status >= 500 or 0 (no response), as the traffic series counts them. */
  errors: number;
  bytes: number;
  /** Largest in-flight count this worker saw during the part. */
  maxConcurrency: number;
  /** Requests per backend id. */
  byBackend: Record<string, number>;
  /**
   * Latencies as a sparse histogram in LatencyHistogram's layout: `[index, count, index, count, …]`
   * (see `latencyIndex` / `latencyOfIndex`); the counts add up to `requests`.
   */
  latency: number[];
}

const GAMMA = (1 + HISTOGRAM_RELATIVE_ERROR) / (1 - HISTOGRAM_RELATIVE_ERROR);
const INV_LOG_GAMMA = 1 / Math.log(GAMMA);
const INDEX_OFFSET = Math.ceil(Math.log(HISTOGRAM_MIN_MS) * INV_LOG_GAMMA);
const BUCKETS = LatencyHistogram.bucketCount;

/**
 * Bucket index of a latency in LatencyHistogram's layout (DDSketch's relative-error mapping,
 * α = 2 %): values are clamped to [0.01 ms, 10 min]; NaN maps to bucket 0. O(1), no allocation.
 */
export function latencyIndex(latencyMs: number): number {
  const v = latencyMs >= HISTOGRAM_MIN_MS ? (latencyMs > HISTOGRAM_MAX_MS ? HISTOGRAM_MAX_MS : latencyMs) : HISTOGRAM_MIN_MS;
  const i = Math.ceil(Math.log(v) * INV_LOG_GAMMA) - INDEX_OFFSET;
  return i < 0 ? 0 : i >= BUCKETS ? BUCKETS - 1 : i;
}

/** The value bucket `index` stands for, 2γ^k / (γ + 1), within 2 % of every latency in it; recording it lands in the same bucket. */
export function latencyOfIndex(index: number): number {
  return (2 * GAMMA ** (index + INDEX_OFFSET)) / (GAMMA + 1);
}

/** The open part: counters reused between reports so the hot path does not allocate. */
class OpenPart {
  startMs = 0;
  requests = 0;
  errors = 0;
  bytes = 0;
  maxConcurrency = 0;
  byBackend = new Map<string, number>();
  readonly latency = new Float64Array(BUCKETS);

  get empty(): boolean {
    return this.requests === 0 && this.maxConcurrency === 0;
  }

  toPart(): TallyPart {
    const latency: number[] = [];
    if (this.requests > 0) {
      for (let i = 0; i < BUCKETS; i++) {
        const count = this.latency[i] as number;
        if (count > 0) latency.push(i, count);
      }
    }
    const { startMs, requests, errors, bytes, maxConcurrency } = this;
    return { startMs, requests, errors, bytes, maxConcurrency, byBackend: Object.fromEntries(this.byBackend), latency };
  }

  reset(startMs: number): void {
    this.startMs = startMs;
    this.requests = 0;
    this.errors = 0;
    this.bytes = 0;
    this.maxConcurrency = 0;
    this.byBackend.clear();
    this.latency.fill(0);
  }
}

/**
 * A worker's traffic counter: what the traffic series would record, kept per interval and
 * handed out as mergeable parts (`take`) for the primary, whose series merges every worker's
 * parts (src/cluster/traffic-merger.ts). Same placement as TrafficSeries: a request counts in
 * the interval holding its finish time; a finish time earlier than the open interval counts in
 * the open one.
 *
 * Cost: `add` O(1), allocation-free except the first request of a backend id in a part;
 * `take` O(histogram buckets) per part with data.
 */
export class TrafficTally {
  private readonly open = new OpenPart();
  private readonly done: TallyPart[] = [];
  private ignored = 0;
  private started = false;

  /** @param intervalMs the traffic series interval (positive integer ms). */
  constructor(readonly intervalMs: number) {}

  /** Requests and samples ignored because a time was not finite. */
  get ignoredRecords(): number {
    return this.ignored;
  }

  /**
   * Count one finished request at `finishMs` (epoch ms). Status 0 and >= 500 count as errors;
   * a negative or non-finite `bytes` adds 0. A non-finite `finishMs` is ignored and counted.
   */
  add(finishMs: number, latencyMs: number, status: number, bytes: number, backend: string): void {
    const part = this.partFor(finishMs);
    if (part === undefined) return;
    part.requests++;
    if (status >= 500 || status === 0) part.errors++;
    if (bytes > 0 && bytes !== Infinity) part.bytes += bytes;
    const i = latencyIndex(latencyMs);
    part.latency[i] = (part.latency[i] as number) + 1;
    part.byBackend.set(backend, (part.byBackend.get(backend) ?? 0) + 1);
  }

  /** TrafficSeries-compatible entry (the TCP listener's observer): counts `r` at startMs + latencyMs. */
  record(r: RequestRecord): void {
    this.add(r.startMs + r.latencyMs, r.latencyMs, r.status, r.bytes, r.backend);
  }

  /** Note the in-flight count at `nowMs`; the part keeps the largest. */
  observeConcurrency(inFlight: number, nowMs: number): void {
    const part = this.partFor(nowMs);
    if (part !== undefined && inFlight > part.maxConcurrency && inFlight !== Infinity) part.maxConcurrency = inFlight;
  }

  /** Every part counted since the last call, oldest first (empty parts are left out); the open interval continues from zero. */
  take(): TallyPart[] {
    if (!this.open.empty) {
      this.done.push(this.open.toPart());
      this.open.reset(this.open.startMs);
    }
    return this.done.splice(0, this.done.length);
  }

  /** The open part for a sample at timeMs, closing the open one when timeMs is past its end. */
  private partFor(timeMs: number): OpenPart | undefined {
    if (!Number.isFinite(timeMs)) {
      this.ignored++;
      return undefined;
    }
    const open = this.open;
    if (!this.started || timeMs >= open.startMs + this.intervalMs) {
      if (!open.empty) this.done.push(open.toPart());
      open.reset(Math.floor(timeMs / this.intervalMs) * this.intervalMs);
      this.started = true;
    }
    return open;
  }
}
