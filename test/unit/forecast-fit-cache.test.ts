import { describe, expect, it } from 'vitest';
import { FitCache, uniqueShift } from '../../src/forecast/fit-cache.js';

const series = Array.from({ length: 300 }, (_, t) => Math.round(1000 * Math.abs(Math.sin(t * 1.7 + t * t * 0.01))));

describe('content-anchored fit cache', () => {
  it('finds how many intervals a history has grown by, for a growing and for a sliding history', () => {
    const signature = series.slice(200 - 64, 200);
    expect(uniqueShift(series.slice(0, 200), signature, 50)).toBe(0);
    expect(uniqueShift(series.slice(0, 237), signature, 50)).toBe(37);
    expect(uniqueShift(series.slice(100, 237), signature, 50)).toBe(37); // a ring buffer dropped old values
  });

  it('misses beyond the allowed age, for a history that ends before the fit, and when the match is ambiguous', () => {
    const signature = series.slice(200 - 64, 200);
    expect(uniqueShift(series.slice(0, 260), signature, 50)).toBeUndefined();
    expect(uniqueShift(series.slice(0, 199), signature, 50)).toBeUndefined();
    const flat = new Array<number>(200).fill(0);
    expect(uniqueShift(flat, flat.slice(0, 64), 50)).toBeUndefined();
    expect(uniqueShift(series.slice(0, 200), signature.slice(-5), 50)).toBeUndefined(); // too short to anchor
  });

  it('treats gaps as equal to gaps', () => {
    const withGaps = series.map((v, t) => (t % 7 === 0 ? Number.NaN : v));
    expect(uniqueShift(withGaps.slice(0, 220), withGaps.slice(136, 200), 50)).toBe(20);
  });

  it('keeps each fit where it was made, so a caller can step back to an older origin after moving forward', () => {
    const cache = new FitCache<string>(100);
    cache.store(series.slice(0, 150), 'fit A');
    const hit = cache.lookup(series.slice(0, 170));
    expect(hit?.shift).toBe(20);
    cache.advance(hit!, series.slice(0, 170), 'fit A moved to 170');
    expect(cache.lookup(series.slice(0, 175))).toMatchObject({ shift: 5, entry: { value: 'fit A moved to 170', ageIntervals: 20 } });
    expect(cache.lookup(series.slice(0, 160))).toMatchObject({ shift: 10, entry: { value: 'fit A' } });
    // the moved copy is still bound by the fit's age: 100 intervals after the fit, a miss
    expect(cache.lookup(series.slice(0, 250))).toBeUndefined();
  });

  it('forgets fits beyond its capacity, oldest first', () => {
    const cache = new FitCache<string>(1000, 2);
    cache.store(series.slice(0, 100), 'A');
    cache.store(series.slice(0, 150), 'B');
    cache.store(series.slice(0, 200), 'C');
    expect(cache.lookup(series.slice(0, 120))).toBeUndefined();
    expect(cache.lookup(series.slice(0, 160))?.entry.value).toBe('B');
    expect(cache.lookup(series.slice(0, 210))?.entry.value).toBe('C');
  });
});
