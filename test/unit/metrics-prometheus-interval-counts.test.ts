import { describe, expect, it } from 'vitest';
import type { RangeSeries } from '../../src/metrics/prometheus-range.js';
import { intervalCounts } from '../../src/series/prometheus-source.js';

const I = 10_000;
const at = (ms: number, rate: number | string): [number, string] => [ms / 1000, String(rate)];
const series = (...values: [number, string][]): RangeSeries => ({ metric: {}, values });

describe('Prometheus rate samples to requests per interval (intervalCounts)', () => {
  it.each([
    ['one sample per interval, at its end', [series(at(I, 2), at(2 * I, 3), at(3 * I, 0.5))], [20, 30, 5]],
    ['several series are summed (one per replica)', [series(at(I, 2), at(2 * I, 3)), series(at(I, 1), at(2 * I, 1))], [30, 40]],
    ['a step shorter than the interval: its samples are averaged', [series(at(5_000, 1), at(I, 3), at(15_000, 2), at(2 * I, 2))], [20, 20]],
    ['an interval without a sample counts 0', [series(at(I, 2), at(3 * I, 4))], [20, 0, 40]],
    ['NaN, infinite and negative samples are skipped', [series(at(I, 'NaN'), at(2 * I, '+Inf'), at(3 * I, -1), at(3 * I, 1))], [0, 0, 10]],
    ['samples outside [from, end) are ignored', [series(at(0, 9), at(I, 1), at(4 * I, 9))], [10, 0, 0]],
  ])('%s', (_name, input, expected) => {
    expect(intervalCounts(input, 0, expected.length * I, I)).toEqual(expected);
  });

  it('an empty range gives an empty history', () => {
    expect(intervalCounts([series(at(I, 1))], I, I, I)).toEqual([]);
  });
});
