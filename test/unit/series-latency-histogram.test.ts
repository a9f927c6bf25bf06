import { describe, it, expect } from 'vitest';
import {
  HISTOGRAM_MAX_MS,
  HISTOGRAM_MIN_MS,
  LatencyHistogram,
} from '../../src/series/latency-histogram.js';
import { mulberry32, standardNormal } from '../helpers/seeded-random.js';

/** Exact sample at sorted index floor(q × (n − 1)), the rank the histogram estimates. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

const distributions: [string, (rand: () => number) => number][] = [
  ['log-normal around 20 ms', (rand) => Math.exp(Math.log(20) + 1.2 * standardNormal(rand))],
  ['uniform 0.05..2000 ms', (rand) => 0.05 + rand() * 1999.95],
  ['exponential mean 150 ms plus 2 ms floor', (rand) => 2 - 150 * Math.log(1 - rand())],
  ['bimodal cache hits 0.3 ms and misses 80 ms', (rand) => (rand() < 0.7 ? 0.3 : 80) * (1 + 0.2 * standardNormal(rand) ** 2)],
];

describe('LatencyHistogram', () => {
  it.each(distributions)('estimates quantiles within 3%% of the exact ones on %s', (_name, draw) => {
    const rand = mulberry32(42);
    const h = new LatencyHistogram();
    const samples: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = draw(rand);
      samples.push(v);
      h.record(v);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    expect(h.count).toBe(50_000);
    for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
      const exact = exactQuantile(sorted, q);
      const estimate = h.quantile(q);
      expect(Math.abs(estimate - exact) / exact, `q=${q} exact=${exact} estimate=${estimate}`)
        .toBeLessThanOrEqual(0.03);
    }
  });

  it('answers 0 for every quantile when empty, and after reset', () => {
    const h = new LatencyHistogram();
    expect(h.quantile(0.5)).toBe(0);
    expect(h.count).toBe(0);
    h.record(12);
    h.record(30);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.quantile(0.99)).toBe(0);
    expect(h.minMs).toBe(0);
    h.record(7);
    expect(h.quantile(0.5)).toBeCloseTo(7, 10);
  });

  it('clamps latencies outside 0.01 ms .. 10 min and ignores NaN', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(0);
    h.record(1e9);
    h.record(Infinity);
    h.record(Number.NaN);
    expect(h.count).toBe(4);
    expect(h.quantile(0)).toBe(HISTOGRAM_MIN_MS);
    expect(h.quantile(1)).toBe(HISTOGRAM_MAX_MS);
  });

  it('clamps q to [0, 1] and answers 0 for a NaN q', () => {
    const h = new LatencyHistogram();
    for (const v of [1, 2, 3, 4, 100]) h.record(v);
    expect(h.quantile(-1)).toBe(h.quantile(0));
    expect(h.quantile(2)).toBe(100);
    expect(h.quantile(Number.NaN)).toBe(0);
  });

  it('gives the same answers after merging two halves as one histogram of everything', () => {
    const rand = mulberry32(7);
    const whole = new LatencyHistogram();
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 10_000; i++) {
      const v = Math.exp(3 * standardNormal(rand));
      whole.record(v);
      (i % 2 === 0 ? a : b).record(v);
    }
    const bCountBefore = b.count;
    a.merge(b);
    expect(a.count).toBe(whole.count);
    expect(b.count).toBe(bCountBefore);
    for (const q of [0, 0.5, 0.9, 0.99, 1]) expect(a.quantile(q)).toBe(whole.quantile(q));
  });
});
