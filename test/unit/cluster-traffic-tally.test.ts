import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrafficMerger } from '../../src/cluster/traffic-merger.js';
import { TrafficTally, latencyIndex, latencyOfIndex } from '../../src/cluster/traffic-tally.js';
import { LatencyHistogram } from '../../src/series/latency-histogram.js';
import { TrafficSeries, type Bucket } from '../../src/series/traffic-series.js';

const SEC = 1_000;
/** 2025-01-01T00:00:00Z, a multiple of every interval used here. */
const T0 = Date.UTC(2025, 0, 1);

interface Req {
  worker: number;
  finishMs: number;
  latencyMs: number;
  status: number;
  bytes: number;
  backend: string;
}

const reqArb = fc.record({
  worker: fc.integer({ min: 0, max: 2 }),
  finishMs: fc.integer({ min: T0, max: T0 + 3 * SEC - 1 }),
  latencyMs: fc.double({ min: 0, max: 5_000, noNaN: true }),
  status: fc.constantFrom(200, 204, 404, 500, 503, 0),
  bytes: fc.integer({ min: 0, max: 10_000 }),
  backend: fc.constantFrom('static-1', 'static-2', 'local-3', ''),
});

/** The buckets one process would produce, and the buckets of three workers merged by the primary. */
function bothWays(reqs: readonly Req[], flushEvery = 7): { direct: Bucket[]; merged: Bucket[] } {
  const sorted = [...reqs].sort((a, b) => a.finishMs - b.finishMs);
  const direct = new TrafficSeries({ intervalMs: SEC, capacity: 100 });
  const total = new TrafficSeries({ intervalMs: SEC, capacity: 100 });
  const merger = new TrafficMerger(total);
  const tallies = [0, 1, 2].map(() => new TrafficTally(SEC));
  sorted.forEach((r, i) => {
    direct.record({ startMs: r.finishMs - r.latencyMs, latencyMs: r.latencyMs, status: r.status, bytes: r.bytes, backend: r.backend });
    (tallies[r.worker] as TrafficTally).add(r.finishMs, r.latencyMs, r.status, r.bytes, r.backend);
    // workers report now and then, in the middle of intervals too
    if (i % flushEvery === 0) tallies.forEach((t, w) => t.take().forEach((p) => merger.merge(w, p)));
  });
  tallies.forEach((t, w) => t.take().forEach((p) => merger.merge(w, p)));
  return { direct: direct.closeUntil(T0 + 3 * SEC), merged: total.closeUntil(T0 + 3 * SEC) };
}

describe('cluster traffic aggregation (worker tallies merged into the primary series)', () => {
  it('gives the buckets one process would give: requests, errors, bytes and per-backend counts exactly, p50/p99 within 2%', () => {
    fc.assert(
      fc.property(fc.array(reqArb, { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (reqs, flushEvery) => {
        const { direct, merged } = bothWays(reqs, flushEvery);
        expect(merged.map((b) => b.startMs)).toEqual(direct.map((b) => b.startMs));
        merged.forEach((m, i) => {
          const d = direct[i] as Bucket;
          expect([m.requests, m.errors, m.bytes]).toEqual([d.requests, d.errors, d.bytes]);
          expect({ ...m.byBackend }).toEqual({ ...d.byBackend });
          for (const q of ['latencyP50Ms', 'latencyP99Ms'] as const) {
            // both are within 2% of the same recorded sample, so within ~4% of each other
            expect(Math.abs(m[q] - d[q])).toBeLessThanOrEqual(0.041 * Math.max(d[q], 0.01) + 1e-9);
          }
        });
      }),
      { numRuns: 200 },
    );
  });

  it('sums each worker\'s largest in-flight count of the interval (an upper bound of the total peak)', () => {
    const total = new TrafficSeries({ intervalMs: SEC, capacity: 10 });
    const merger = new TrafficMerger(total);
    const a = new TrafficTally(SEC);
    const b = new TrafficTally(SEC);
    a.observeConcurrency(3, T0 + 100);
    a.observeConcurrency(7, T0 + 200);
    b.observeConcurrency(5, T0 + 900);
    a.take().forEach((p) => merger.merge(1, p));
    a.observeConcurrency(2, T0 + 300); // a later, smaller report of the same interval keeps 7
    a.take().forEach((p) => merger.merge(1, p));
    b.take().forEach((p) => merger.merge(2, p));
    const [bucket] = total.closeUntil(T0 + SEC);
    expect(bucket?.maxConcurrency).toBe(12);
  });

  it('counts a part that arrives after its interval closed in the first open interval: nothing is lost', () => {
    const total = new TrafficSeries({ intervalMs: SEC, capacity: 10 });
    const merger = new TrafficMerger(total);
    const tally = new TrafficTally(SEC);
    total.closeUntil(T0); // anchors the series
    for (let i = 0; i < 5; i++) tally.add(T0 + 500, 3, 200, 10, 'static-1');
    const late = tally.take();
    expect(total.closeUntil(T0 + SEC).map((b) => b.requests)).toEqual([0]);
    late.forEach((p) => merger.merge(1, p));
    expect(total.closeUntil(T0 + 2 * SEC).map((b) => b.requests)).toEqual([5]);
    expect(merger.requestsOf(1)).toBe(5);
  });

  it('splits parts at interval boundaries and leaves out empty reports', () => {
    const tally = new TrafficTally(SEC);
    expect(tally.take()).toEqual([]);
    tally.add(T0 + 999, 1, 200, 1, 'x');
    tally.add(T0 + 1_000, 1, 200, 1, 'x');
    tally.add(T0 + 2_500, 1, 500, 1, 'y');
    const parts = tally.take();
    expect(parts.map((p) => [p.startMs, p.requests, p.errors])).toEqual([[T0, 1, 0], [T0 + SEC, 1, 0], [T0 + 2 * SEC, 1, 1]]);
    expect(tally.take()).toEqual([]);
  });

  it('ignores and counts a request with a non-finite finish time', () => {
    const tally = new TrafficTally(SEC);
    tally.add(Number.NaN, 1, 200, 1, 'x');
    tally.observeConcurrency(4, Number.POSITIVE_INFINITY);
    expect(tally.take()).toEqual([]);
    expect(tally.ignoredRecords).toBe(2);
  });

  it.each([0.005, 0.01, 0.5, 1, 12.3, 250, 9_999, 600_000, 1e9])('maps %f ms to the LatencyHistogram bucket whose value lands back in it', (ms) => {
    const i = latencyIndex(ms);
    expect(latencyIndex(latencyOfIndex(i))).toBe(i);
    const h = new LatencyHistogram();
    h.record(latencyOfIndex(i));
    const clamped = Math.min(Math.max(ms, 0.01), 600_000);
    expect(Math.abs(h.quantile(0.5) - clamped)).toBeLessThanOrEqual(0.02 * clamped + 1e-12);
  });
});
