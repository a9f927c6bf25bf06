import { describe, it, expect } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { TrafficSeries, type RequestRecord } from '../../src/series/traffic-series.js';

const MIN = 60_000;
/** 2025-01-01T00:00:00Z, a multiple of every interval used here. */
const T0 = Date.UTC(2025, 0, 1);

function req(finishMs: number, over: Partial<RequestRecord> = {}): RequestRecord {
  const latencyMs = over.latencyMs ?? 10;
  return { startMs: finishMs - latencyMs, latencyMs, status: 200, bytes: 100, backend: 'a', ...over };
}

describe('TrafficSeries', () => {
  it('puts each request in the aligned interval holding its finish time', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 100 });
    s.record(req(T0 + 5_000));
    s.record(req(T0 + 59_999, { backend: 'b', bytes: 50 }));
    // Starts in the first minute but finishes in the second one.
    s.record({ startMs: T0 + 59_000, latencyMs: 2_000, status: 200, bytes: 7, backend: 'a' });
    const closed = s.closeUntil(T0 + 2 * MIN);
    expect(closed.map((b) => [b.startMs, b.requests, b.bytes])).toEqual([
      [T0, 2, 150],
      [T0 + MIN, 1, 7],
    ]);
    expect({ ...closed[0]?.byBackend }).toEqual({ a: 1, b: 1 });
    expect(closed[0]?.intervalMs).toBe(MIN);
    expect(s.values()).toEqual([2, 1]);
  });

  it('counts status >= 500 and status 0 (no response) as errors, 4xx not', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    for (const status of [200, 404, 499, 500, 503, 0, 302]) s.record(req(T0 + 1_000, { status }));
    const [bucket] = s.closeUntil(T0 + MIN);
    expect(bucket?.requests).toBe(7);
    expect(bucket?.errors).toBe(3);
  });

  it('reports latency p50 and p99 within 2% and the max concurrency of the interval', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    for (let i = 1; i <= 100; i++) s.record(req(T0 + 1_000 + i, { latencyMs: i }));
    s.observeConcurrency(3, T0 + 10);
    s.observeConcurrency(17, T0 + 20);
    s.observeConcurrency(5, T0 + 30);
    s.observeConcurrency(99, T0 + MIN); // next interval
    const [bucket] = s.closeUntil(T0 + MIN);
    expect(bucket?.latencyP50Ms).toBeGreaterThanOrEqual(50 * 0.98);
    expect(bucket?.latencyP50Ms).toBeLessThanOrEqual(50 * 1.02);
    expect(bucket?.latencyP99Ms).toBeGreaterThanOrEqual(99 * 0.98);
    expect(bucket?.latencyP99Ms).toBeLessThanOrEqual(99 * 1.02);
    expect(bucket?.maxConcurrency).toBe(17);
    expect(s.closeUntil(T0 + 2 * MIN)[0]?.maxConcurrency).toBe(99);
  });

  it('fills silent intervals with empty buckets so closed buckets have no gaps', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 100 });
    s.record(req(T0 + 1_000));
    s.record(req(T0 + 4 * MIN + 1_000));
    const closed = s.closeUntil(T0 + 5 * MIN + 30_000);
    expect(closed.map((b) => b.startMs)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MIN));
    expect(closed.map((b) => b.requests)).toEqual([1, 0, 0, 0, 1]);
    expect(closed[2]).toMatchObject({ errors: 0, bytes: 0, latencyP50Ms: 0, latencyP99Ms: 0, maxConcurrency: 0 });
    // Nothing more to close until the open interval ends; then silence still produces buckets.
    expect(s.closeUntil(T0 + 5 * MIN + 59_999)).toEqual([]);
    expect(s.closeUntil(T0 + 7 * MIN).map((b) => b.requests)).toEqual([0, 0]);
    expect(s.values()).toEqual([1, 0, 0, 0, 1, 0, 0]);
  });

  it('starts an idle series at the first closeUntil and then closes empty intervals', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    expect(s.closeUntil(T0 + 30_000)).toEqual([]);
    expect(s.last()).toBeUndefined();
    expect(s.closeUntil(T0 + 2 * MIN).map((b) => b.startMs)).toEqual([T0, T0 + MIN]);
    expect(s.last()?.startMs).toBe(T0 + MIN);
  });

  it('puts a late record for an already closed interval into the open interval', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    s.record(req(T0 + 1_000));
    const first = s.closeUntil(T0 + MIN);
    s.record(req(T0 + 2_000)); // belongs to the closed minute
    expect(first[0]?.requests).toBe(1);
    expect(s.buckets()[0]?.requests).toBe(1);
    expect(s.closeUntil(T0 + 2 * MIN).map((b) => b.requests)).toEqual([1]);
  });

  it('keeps records for the next interval apart when closeUntil runs late', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    s.record(req(T0 + 1_000));
    s.record(req(T0 + MIN + 1_000)); // the timer that closes minute 0 has not fired yet
    s.record(req(T0 + 2_000));
    expect(s.closeUntil(T0 + MIN + 5_000).map((b) => b.requests)).toEqual([2]);
    expect(s.closeUntil(T0 + 2 * MIN).map((b) => b.requests)).toEqual([1]);
  });

  it('keeps only the newest `capacity` closed buckets, oldest first', () => {
    const s = new TrafficSeries({ intervalMs: 1_000, capacity: 5 });
    for (let i = 0; i < 12; i++) {
      for (let k = 0; k <= i; k++) s.record(req(T0 + i * 1_000 + 10));
      s.closeUntil(T0 + (i + 1) * 1_000);
    }
    expect(s.values()).toEqual([8, 9, 10, 11, 12]);
    expect(s.buckets().map((b) => b.startMs)).toEqual([7, 8, 9, 10, 11].map((i) => T0 + i * 1_000));
    expect(s.last()?.requests).toBe(12);
  });

  it('produces at most `capacity` buckets after a long pause', () => {
    const s = new TrafficSeries({ intervalMs: 1_000, capacity: 3 });
    s.record(req(T0 + 10));
    const closed = s.closeUntil(T0 + 1_000_000);
    expect(closed.map((b) => b.startMs)).toEqual([997, 998, 999].map((i) => T0 + i * 1_000));
    expect(s.values()).toEqual([0, 0, 0]);
  });

  it('serves seeded history first, then live data, without gaps', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 100 });
    s.seed([5, 6, 7], T0);
    expect(s.buckets().map((b) => b.startMs)).toEqual([T0 - 3 * MIN, T0 - 2 * MIN, T0 - MIN]);
    expect(s.last()?.requests).toBe(7);
    s.record(req(T0 - 10_000)); // older than the seed's end: goes to the first live interval
    s.record(req(T0 + 2 * MIN + 1));
    s.closeUntil(T0 + 3 * MIN);
    expect(s.values()).toEqual([5, 6, 7, 1, 0, 1]);
  });

  it('aligns an unaligned seed end down and drops seeded intervals that overlap live data', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 100 });
    s.record(req(T0 + 1_000));
    s.seed([1, 2, 3], T0 + MIN + 4_000); // would end after live data began at T0
    s.closeUntil(T0 + MIN);
    expect(s.buckets().map((b) => [b.startMs, b.requests])).toEqual([
      [T0 - 3 * MIN, 1],
      [T0 - 2 * MIN, 2],
      [T0 - MIN, 3],
      [T0, 1],
    ]);
  });

  it('fills the gap between an older seed and closed live data, bounded by capacity', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 8 });
    s.record(req(T0 + 1_000));
    s.closeUntil(T0 + MIN);
    s.seed([4, 5, 6], T0 - 2 * MIN);
    expect(s.values()).toEqual([4, 5, 6, 0, 0, 1]);
    expect(s.buckets()[0]?.startMs).toBe(T0 - 5 * MIN);
    s.seed([9, 9, 9, 9], T0 - 100 * MIN); // so far back that the gap fills the rest
    expect(s.values()).toEqual([0, 0, 4, 5, 6, 0, 0, 1]);
    expect(s.buckets()[0]?.startMs).toBe(T0 - 7 * MIN);
    expect(s.last()?.startMs).toBe(T0);
  });

  it('stores a negative or NaN seeded count as 0 and never mutates the caller array', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    const counts = [3, -1, Number.NaN, 2];
    s.seed(counts, T0);
    expect(s.values()).toEqual([3, 0, 0, 2]);
    expect(counts).toEqual([3, -1, Number.NaN, 2]);
    const values = s.values();
    values[0] = 999;
    expect(s.values()[0]).toBe(3);
  });

  it('ignores records with a non-finite time and counts them', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    s.record(req(Number.NaN));
    s.observeConcurrency(4, Number.POSITIVE_INFINITY);
    expect(s.ignoredRecords).toBe(2);
    expect(s.closeUntil(T0 + MIN)).toEqual([]);
  });

  it('hands out frozen closed buckets', () => {
    const s = new TrafficSeries({ intervalMs: MIN, capacity: 10 });
    s.record(req(T0 + 1));
    const [bucket] = s.closeUntil(T0 + MIN);
    expect(Object.isFrozen(bucket)).toBe(true);
    expect(Object.isFrozen(bucket?.byBackend)).toBe(true);
  });

  it.each([
    [{ intervalMs: 0, capacity: 10 }, /intervalMs/],
    [{ intervalMs: 1.5, capacity: 10 }, /intervalMs/],
    [{ intervalMs: 1_000, capacity: 0 }, /capacity/],
    [{ intervalMs: 1_000, capacity: Number.NaN }, /capacity/],
  ])('rejects options %j', (options, message) => {
    expect(() => new TrafficSeries(options)).toThrow(PrescaleError);
    expect(() => new TrafficSeries(options)).toThrow(message);
  });

  it('copies 50,000 values quickly', () => {
    const s = new TrafficSeries({ intervalMs: 1_000, capacity: 50_000 });
    s.seed(Array.from({ length: 60_000 }, (_, i) => i), T0);
    const started = performance.now();
    let values: number[] = [];
    for (let i = 0; i < 20; i++) values = s.values();
    expect(values.length).toBe(50_000);
    expect(values[0]).toBe(10_000);
    expect(values[49_999]).toBe(59_999);
    expect((performance.now() - started) / 20).toBeLessThan(20);
  });
});
