import type { Bucket } from './traffic-series.js';

/**
 * Turn logged buckets into a gap-free history of request counts per interval that ends at
 * `endMs` (an interval boundary), for seeding a TrafficSeries. Buckets of another interval
 * length are skipped (counted in `skipped`); missing intervals count 0 requests; at most
 * `maxIntervals` most recent intervals are kept. O(buckets + intervals).
 */
export function historyFromBuckets(
  buckets: readonly Bucket[],
  intervalMs: number,
  endMs: number,
  maxIntervals: number,
): { requests: number[]; skipped: number } {
  const same = buckets.filter((b) => b.intervalMs === intervalMs && b.startMs < endMs);
  const skipped = buckets.length - same.length;
  if (same.length === 0) return { requests: [], skipped };
  const firstMs = Math.max((same[0] as Bucket).startMs, endMs - maxIntervals * intervalMs);
  const n = Math.round((endMs - firstMs) / intervalMs);
  const requests = new Array<number>(n).fill(0);
  for (const b of same) {
    const i = Math.round((b.startMs - firstMs) / intervalMs);
    if (i >= 0 && i < n) requests[i] = (requests[i] as number) + b.requests;
  }
  return { requests, skipped };
}
