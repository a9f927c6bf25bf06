import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createLinearRegressionFourier } from '../../src/forecast/linear-regression-fourier.js';
import { normalDraws } from '../helpers/seeded-random.js';
import { day, noisy, signal } from '../helpers/synthetic-series.js';

describe('linear-regression-fourier', () => {
  it.each([
    { trendPerDay: 0, sd: 5, days: 28, seed: 1 },
    { trendPerDay: 3, sd: 5, days: 28, seed: 2 },
    { trendPerDay: 5, sd: 10, days: 21, seed: 3 },
    { trendPerDay: 4, sd: 0, days: 28, seed: 4 },
    { trendPerDay: 3, sd: 5, days: 6, seed: 5 },
  ])(
    'recovers trend $trendPerDay/day + daily seasonality + noise sd $sd from $days days within 2% over 12 steps',
    ({ trendPerDay, sd, days, seed }) => {
      const history = Object.freeze(noisy(days, trendPerDay, sd, seed));
      const result = createLinearRegressionFourier({ intervalsPerDay: day }).forecast(history, 12, 0.9);
      expect(result.model).toBe('linear-regression-fourier');
      expect(result.fallback).toBeUndefined();
      result.point.forEach((value, i) => {
        const truth = signal(history.length + i, trendPerDay);
        expect(Math.abs(value - truth) / truth).toBeLessThan(0.02);
      });
    },
  );

  it('learns a weekly pattern when it has two weeks: forecasts the weekly fall better than without it', () => {
    // a smooth weekly cycle (±35 %) times the daily swing, noise 2 %; the origin is where the
    // weekly factor falls fastest, so the 12 steps ahead drift down over half a day
    const noise = normalDraws(9);
    const week = 7 * day;
    const truth = (t: number): number => 300 * (1 + 0.35 * Math.sin((2 * Math.PI * t) / week)) * (1 + 0.3 * Math.sin((2 * Math.PI * t) / day));
    const n = 3 * week + Math.round(week / 4) + day / 2;
    const history = Array.from({ length: n }, (_, t) => truth(t) * (1 + 0.02 * noise()));
    const error = (weeklyHarmonics: number): number => {
      const result = createLinearRegressionFourier({ intervalsPerDay: day, weeklyHarmonics }).forecast(history, 24, 0.9);
      return Math.max(...result.point.map((value, i) => Math.abs(value - truth(n + i)) / truth(n + i)));
    };
    expect(error(4)).toBeLessThan(0.02);
    expect(error(4)).toBeLessThan(error(0));
  });

  it('bounds each step by its own calibration residuals: wider further ahead on a random walk', () => {
    const noise = normalDraws(21);
    let level = 500;
    const history = Array.from({ length: 21 * day }, (_, t) => {
      level = Math.max(50, level + 8 * noise());
      return level + 50 * Math.sin((2 * Math.PI * t) / day);
    });
    const result = createLinearRegressionFourier({ intervalsPerDay: day }).forecast(history, 12, 0.9);
    const widths = result.upper.map((u, i) => u - (result.point[i] as number));
    expect(widths[0]).toBeGreaterThan(0);
    expect(widths[11]).toBeGreaterThan(2 * (widths[0] as number));
  });

  it('never uses data after the origin: a fit made at a later origin is not reused for an earlier one', () => {
    const history = noisy(20, 2, 5, 6);
    const cached = createLinearRegressionFourier({ intervalsPerDay: day });
    cached.forecast(history, 6, 0.9); // fits at the end
    const early = history.slice(0, history.length - 10);
    expect(cached.forecast(early, 6, 0.9)).toEqual(createLinearRegressionFourier({ intervalsPerDay: day }).forecast(early, 6, 0.9));
  });

  it('reuses its fit for newer intervals until refitEveryIntervals, then refits', () => {
    const history = noisy(20, 2, 5, 7);
    const fitAt = history.length - 20;
    // the same data, except one old value inside the training window that only a refit would see
    const edited = [...history];
    edited[fitAt - 300] = 5000;
    const model = createLinearRegressionFourier({ intervalsPerDay: day, refitEveryIntervals: 10 });
    const reference = createLinearRegressionFourier({ intervalsPerDay: day, refitEveryIntervals: 10 });
    model.forecast(history.slice(0, fitAt), 6, 0.9);
    reference.forecast(history.slice(0, fitAt), 6, 0.9);
    // 9 newer intervals: both reuse the fit made before the edit, so the edit is invisible
    expect(model.forecast(edited.slice(0, fitAt + 9), 6, 0.9)).toEqual(reference.forecast(history.slice(0, fitAt + 9), 6, 0.9));
    // 10 newer intervals: a refit, which sees the edit
    const fresh = createLinearRegressionFourier({ intervalsPerDay: day }).forecast(edited.slice(0, fitAt + 10), 6, 0.9);
    expect(model.forecast(edited.slice(0, fitAt + 10), 6, 0.9)).toEqual(fresh);
  });

  it('declares its lookback: three weeks', () => {
    expect(createLinearRegressionFourier({ intervalsPerDay: day }).lookbackIntervals).toBe(21 * day);
  });

  it.each([
    { intervalsPerDay: 1 },
    { intervalsPerDay: 48, lags: -1 },
    { intervalsPerDay: 48, trainingDays: 1 },
    { intervalsPerDay: 48, ridge: Number.NaN },
    { intervalsPerDay: 48, refitEveryIntervals: 0 },
  ])('rejects options %j with PRESCALE_ERR_CONFIG', (options) => {
    expect(() => createLinearRegressionFourier(options)).toThrow(PrescaleError);
  });
});
