import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createSeasonalNaive } from '../../src/forecast/seasonal-naive.js';
import { mulberry32, normalDraws } from '../helpers/seeded-random.js';

function pattern(seasonLength: number): number[] {
  return Array.from({ length: seasonLength }, (_, i) => Math.round(100 + 80 * Math.sin((2 * Math.PI * i) / seasonLength) + (i % 5) * 7));
}

describe('seasonal naive', () => {
  it.each([
    { seasonLength: 24, seasons: 5, extra: 0, horizon: 6 },
    { seasonLength: 24, seasons: 5, extra: 7, horizon: 24 },
    { seasonLength: 24, seasons: 3, extra: 11, horizon: 60 },
    { seasonLength: 1440, seasons: 4, extra: 333, horizon: 30 },
  ])('recovers a pure seasonal signal exactly (season $seasonLength, +$extra, horizon $horizon)', ({ seasonLength, seasons, extra, horizon }) => {
    const shape = pattern(seasonLength);
    const n = seasons * seasonLength + extra;
    const history = Object.freeze(Array.from({ length: n }, (_, t) => shape[t % seasonLength] as number));
    const result = createSeasonalNaive({ seasonLength }).forecast(history, horizon, 0.9);
    expect(result.model).toBe('seasonal-naive');
    expect(result.fallback).toBeUndefined();
    expect(result.point).toEqual(Array.from({ length: horizon }, (_, i) => shape[(n + i) % seasonLength]));
    expect(result.upper).toEqual(result.point);
  });

  it.each([0.8, 0.9, 0.95])('upper bound at q = %s covers about q of the next values of a noisy seasonal series', (quantile) => {
    const seasonLength = 24;
    const noise = normalDraws(42);
    const shape = pattern(seasonLength);
    const series = Array.from({ length: 1200 }, (_, t) => Math.max(0, (shape[t % seasonLength] as number) + 10 * noise()));
    const model = createSeasonalNaive({ seasonLength });
    let covered = 0;
    let origins = 0;
    for (let origin = 4 * seasonLength; origin < series.length; origin++) {
      const result = model.forecast(series.slice(0, origin), 1, quantile);
      if ((series[origin] as number) <= (result.upper[0] as number)) covered++;
      origins++;
    }
    expect(covered / origins).toBeGreaterThan(quantile - 0.025);
    expect(covered / origins).toBeLessThan(quantile + 0.025);
  });

  it('widens the upper bound by √(k + 1) for steps that wrap k extra seasons', () => {
    const seasonLength = 10;
    const noise = mulberry32(7);
    const history = Array.from({ length: 60 }, (_, t) => 50 + (t % seasonLength) + 20 * noise());
    const result = createSeasonalNaive({ seasonLength }).forecast(history, 25, 0.9);
    const widths = result.upper.map((u, i) => u - (result.point[i] as number));
    expect(widths[0]).toBeGreaterThan(0);
    expect(widths[12]).toBeCloseTo((widths[0] as number) * Math.sqrt(2), 9);
    expect(widths[24]).toBeCloseTo((widths[0] as number) * Math.sqrt(3), 9);
  });

  it('fills a gap in the last season with the value before it', () => {
    const history = [1, 2, 3, 4, 10, 20, Number.NaN, 40];
    const result = createSeasonalNaive({ seasonLength: 4 }).forecast(history, 4, 0.9);
    expect(result.point).toEqual([10, 20, 20, 40]);
    expect(result.fallback).toBeUndefined();
  });

  it('falls back to the last value when history is shorter than a season + 1', () => {
    const result = createSeasonalNaive({ seasonLength: 2880 }).forecast([3, 5, 4], 3, 0.9);
    expect(result.point).toEqual([4, 4, 4]);
    expect(result.fallback).toBe('history 3 < season + 1 (2881); using last value');
    expect(result.upper.every((u, i) => u >= (result.point[i] as number))).toBe(true);
    expect(result.upper[2]).toBeGreaterThan(result.upper[0] as number);
  });

  it('reads only its declared lookback', () => {
    const model = createSeasonalNaive({ seasonLength: 24, residualSeasons: 2 });
    expect(model.lookbackIntervals).toBe(72);
    const history = Array.from({ length: 500 }, (_, t) => (t % 24) + (t < 400 ? 1000 : 0));
    const full = model.forecast(history, 10, 0.9);
    const tail = model.forecast(history.slice(-72), 10, 0.9);
    expect(tail).toEqual(full);
  });

  it.each([
    { seasonLength: 0 },
    { seasonLength: 1.5 },
    { seasonLength: Number.NaN },
    { seasonLength: 24, residualSeasons: 0 },
  ])('rejects options $seasonLength / $residualSeasons with PRESCALE_ERR_CONFIG', (options) => {
    expect(() => createSeasonalNaive(options)).toThrow(PrescaleError);
    expect(() => createSeasonalNaive(options)).toThrow(/must be an integer/);
  });

  it.each([
    { horizon: -1, quantile: 0.9 },
    { horizon: 1.5, quantile: 0.9 },
    { horizon: 3, quantile: 1.2 },
    { horizon: 3, quantile: Number.NaN },
  ])('rejects horizon $horizon / quantile $quantile', ({ horizon, quantile }) => {
    const model = createSeasonalNaive({ seasonLength: 4 });
    expect(() => model.forecast([1, 2, 3], horizon, quantile)).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG' }));
  });
});
