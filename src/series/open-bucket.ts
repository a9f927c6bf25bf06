import { LatencyHistogram } from './latency-histogram.js';
import type { Bucket } from './traffic-series.js';

/**
 * Mutable accumulator for one interval that is still open. Reused through `reset` so the
 * hot path (`add`) never allocates, except for the first request of a backend id in the
 * interval (one new key in `byBackend`).
 */
export class OpenBucket {
  startMs = 0;
  requests = 0;
  errors = 0;
  bytes = 0;
  maxConcurrency = 0;
  byBackend: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly latency = new LatencyHistogram();

  /** Start accumulating the interval beginning at `startMs` from zero. */
  reset(startMs: number): void {
    this.startMs = startMs;
    this.requests = 0;
    this.errors = 0;
    this.bytes = 0;
    this.maxConcurrency = 0;
    // The previous object was handed out in a closed Bucket; never reuse it.
    this.byBackend = Object.create(null) as Record<string, number>;
    this.latency.reset();
  }

  /**
   * Count one finished request. `status` 0 (no response) and >= 500 count as errors;
   * a non-finite or negative `bytes` adds 0.
   */
  add(latencyMs: number, status: number, bytes: number, backend: string): void {
    this.requests++;
    if (status >= 500 || status === 0) this.errors++;
    if (bytes > 0 && bytes !== Infinity) this.bytes += bytes;
    this.latency.record(latencyMs);
    this.byBackend[backend] = (this.byBackend[backend] ?? 0) + 1;
  }

  /** Keep the largest number of in-flight requests seen; non-finite values are ignored. */
  observeConcurrency(inFlight: number): void {
    if (inFlight > this.maxConcurrency && inFlight !== Infinity) this.maxConcurrency = inFlight;
  }

  /** The closed, frozen Bucket for this interval. */
  toBucket(intervalMs: number): Bucket {
    return Object.freeze({
      startMs: this.startMs,
      intervalMs,
      requests: this.requests,
      errors: this.errors,
      bytes: this.bytes,
      latencyP50Ms: this.latency.quantile(0.5),
      latencyP99Ms: this.latency.quantile(0.99),
      maxConcurrency: this.maxConcurrency,
      byBackend: Object.freeze(this.byBackend),
    });
  }
}

/** A closed Bucket for an interval with no traffic. */
export function emptyBucket(startMs: number, intervalMs: number, requests = 0): Bucket {
  return Object.freeze({
    startMs,
    intervalMs,
    requests,
    errors: 0,
    bytes: 0,
    latencyP50Ms: 0,
    latencyP99Ms: 0,
    maxConcurrency: 0,
    byBackend: Object.freeze(Object.create(null) as Record<string, number>),
  });
}
