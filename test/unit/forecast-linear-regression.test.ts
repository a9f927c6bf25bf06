import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createLinearRegression } from '../../src/forecast/linear-regression.js';
import { mulberry32 } from '../helpers/seeded-random.js';

describe('linear regression', () => {
  it.each([
    { intercept: 100, slope: 5, noise: 0, windowIntervals: 30, horizon: 10 },
    { intercept: 2000, slope: -3, noise: 0, windowIntervals: 30, horizon: 6 },
    { intercept: 40, slope: 0.25, noise: 0, windowIntervals: 5, horizon: 20 },
    { intercept: 500, slope: 4, noise: 5, windowIntervals: 60, horizon: 6 },
    { intercept: 10, slope: 12, noise: 20, windowIntervals: 120, horizon: 15 },
  ])(
    'recovers y = $intercept + $slope·t (noise ±$noise) within 1% over $horizon steps',
    ({ intercept, slope, noise, windowIntervals, horizon }) => {
      const uniform = mulberry32(11);
      const n = 300;
      const history = Object.freeze(Array.from({ length: n }, (_, t) => intercept + slope * t + noise * (2 * uniform() - 1)));
      const result = createLinearRegression({ windowIntervals }).forecast(history, horizon, 0.9);
      expect(result.model).toBe('linear-regression');
      expect(result.fallback).toBeUndefined();
      result.point.forEach((value, i) => {
        const truth = intercept + slope * (n + i);
        expect(Math.abs(value - truth) / truth).toBeLessThan(0.01);
      });
    },
  );

  it('clamps a falling trend at 0 instead of forecasting negative traffic', () => {
    const history = Array.from({ length: 30 }, (_, t) => 300 - 10 * t);
    const result = createLinearRegression({ windowIntervals: 30 }).forecast(history, 10, 0.9);
    expect(result.point[0]).toBeCloseTo(0, 9);
    expect(Math.min(...result.point)).toBe(0);
    expect(result.point.slice(1).every((value) => value === 0)).toBe(true);
  });

  it('widens the upper bound with the step ahead and keeps it above the point', () => {
    const uniform = mulberry32(3);
    const history = Array.from({ length: 200 }, (_, t) => 100 + 2 * t + 30 * uniform());
    const result = createLinearRegression({ windowIntervals: 30 }).forecast(history, 20, 0.9);
    const widths = result.upper.map((u, i) => u - (result.point[i] as number));
    expect(widths[0]).toBeGreaterThan(0);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThan(widths[i - 1] as number);
  });

  it('skips gaps inside the window and still recovers the trend', () => {
    const history = Array.from({ length: 40 }, (_, t) => (t % 7 === 3 ? Number.NaN : 50 + 3 * t));
    history[39] = Number.POSITIVE_INFINITY;
    const result = createLinearRegression({ windowIntervals: 30 }).forecast(history, 3, 0.9);
    expect(result.fallback).toBeUndefined();
    result.point.forEach((value, i) => expect(value).toBeCloseTo(50 + 3 * (40 + i), 6));
  });

  it('reports a flat mean when the slope cannot be computed', () => {
    const result = createLinearRegression({ windowIntervals: 30 }).forecast([1e308, 1e308, 1e308, 1e308], 3, 0.9);
    expect(result.fallback).toMatch(/not finite; using flat mean of 4 values/);
    result.point.forEach((value) => expect(value).toBeCloseTo(1e308, -300));
    result.upper.forEach((value, i) => expect(value).toBeGreaterThanOrEqual(result.point[i] as number));
    expect(result.upper.every(Number.isFinite)).toBe(true);
  });

  it('reads only its declared window', () => {
    const model = createLinearRegression({ windowIntervals: 30 });
    expect(model.lookbackIntervals).toBe(30);
    const history = Array.from({ length: 100 }, (_, t) => (t < 70 ? 999 : t));
    expect(model.forecast(history, 6, 0.9)).toEqual(model.forecast(history.slice(-30), 6, 0.9));
  });

  it.each([2, 0, 2.5, Number.NaN])('rejects windowIntervals %s with PRESCALE_ERR_CONFIG', (windowIntervals) => {
    expect(() => createLinearRegression({ windowIntervals })).toThrow(PrescaleError);
  });
});
