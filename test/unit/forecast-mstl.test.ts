import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createBaseline } from '../../src/forecast/baselines.js';
import type { Forecast } from '../../src/forecast/model.js';
import { createMstl } from '../../src/forecast/mstl.js';
import { createModel } from '../../src/forecast/registry.js';
import { normalDraws } from '../helpers/seeded-random.js';
import { day, noisy, signal } from '../helpers/synthetic-series.js';

function expectContract(result: Forecast, horizon: number): void {
  expect(result.point).toHaveLength(horizon);
  expect(result.upper).toHaveLength(horizon);
  result.point.forEach((value, i) => {
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(result.upper[i]).toBeGreaterThanOrEqual(value);
    expect(Number.isFinite(result.upper[i])).toBe(true);
  });
}

describe('mstl', () => {
  // Below two weeks only the daily season is fitted; from two weeks on the weekly one is added
  // too, and with 2-3 weekly cycles its estimate carries noise, hence the wider bound there.
  it.each([
    { trendPerDay: 0, sd: 5, days: 7, seed: 1, within: 0.03 },
    { trendPerDay: -2, sd: 0, days: 10, seed: 4, within: 0.03 },
    { trendPerDay: 4, sd: 10, days: 12, seed: 6, within: 0.03 },
    { trendPerDay: 3, sd: 5, days: 14, seed: 2, within: 0.08 },
    { trendPerDay: 5, sd: 10, days: 21, seed: 3, within: 0.08 },
  ])(
    'recovers trend $trendPerDay/day + daily seasonality + noise sd $sd from $days days within $within over 12 steps',
    ({ trendPerDay, sd, days, seed, within }) => {
      const history = Object.freeze(noisy(days, trendPerDay, sd, seed));
      const result = createMstl({ intervalsPerDay: day }).forecast(history, 12, 0.9);
      expect(result.model).toBe('mstl');
      expect(result.fallback).toBeUndefined();
      expectContract(result, 12);
      result.point.forEach((value, i) => {
        const truth = signal(history.length + i, trendPerDay);
        expect(Math.abs(value - truth) / truth).toBeLessThan(within);
      });
    },
  );

  it('fits the daily season alone when weekly is off, within 5% on three weeks of trend + noise', () => {
    const history = noisy(21, 5, 10, 3);
    const result = createMstl({ intervalsPerDay: day, weekly: false }).forecast(history, 12, 0.9);
    result.point.forEach((value, i) => {
      const truth = signal(history.length + i, 5);
      expect(Math.abs(value - truth) / truth).toBeLessThan(0.05);
    });
  });

  it('learns a weekly season when the window spans two weeks: weekend days forecast lower', () => {
    const noise = normalDraws(11);
    const weekly = (t: number): number => (Math.floor(t / day) % 7 >= 5 ? 0.5 : 1) * signal(t, 0);
    // 20 days end on a Friday (days 0-4 weekdays, 5-6 weekend): the next day is a weekend day.
    const history = Array.from({ length: 19 * day }, (_, t) => weekly(t) + 3 * noise());
    const result = createMstl({ intervalsPerDay: day }).forecast(history, day, 0.9);
    const dailyOnly = createMstl({ intervalsPerDay: day, weekly: false }).forecast(history, day, 0.9);
    const error = (f: Forecast): number => f.point.reduce((sum, value, i) => sum + Math.abs(value - weekly(history.length + i)), 0) / day;
    expect(result.fallback).toBeUndefined();
    expect(error(result)).toBeLessThan(0.5 * error(dailyOnly));
    expect(error(result) / 100).toBeLessThan(0.1);
  });

  it('gives an upper bound above the point on noisy data, the point at q = 0.5, and a wider one at q = 0.99', () => {
    const history = noisy(10, 2, 15, 7);
    const model = createMstl({ intervalsPerDay: day });
    const median = model.forecast(history, 6, 0.5);
    const p90 = model.forecast(history, 6, 0.9);
    const p99 = model.forecast(history, 6, 0.99);
    expect(median.upper).toEqual(median.point);
    p90.point.forEach((value, i) => {
      expect(p90.upper[i]).toBeGreaterThan(value);
      expect(p99.upper[i]).toBeGreaterThan(p90.upper[i] as number);
    });
  });

  it('calibrates a conformal bound on its own errors when asked, covering most of the next day', () => {
    const full = noisy(12, 1, 15, 9);
    const model = createMstl({ intervalsPerDay: day, intervals: 'conformal' });
    let covered = 0;
    let scored = 0;
    for (let origin = 11 * day; origin < 12 * day; origin++) {
      const result = model.forecast(full.slice(0, origin), 1, 0.9);
      expectContract(result, 1);
      expect(result.fallback).toBeUndefined();
      scored++;
      if ((full[origin] as number) <= (result.upper[0] as number)) covered++;
    }
    expect(covered / scored).toBeGreaterThan(0.75);
  });

  it.each([
    { label: 'an empty history', history: [] as number[], reason: /history 0 < two days/ },
    { label: 'one day and a half', history: noisy(1, 0, 5, 1).concat(noisy(1, 0, 5, 2).slice(0, day / 2)), reason: /history 72 < two days \(96\)/ },
    { label: 'three days of gaps', history: new Array<number>(3 * day).fill(Number.NaN), reason: /all gaps/ },
  ])('falls back to seasonal-naive-daily on $label, with a reason', ({ history, reason }) => {
    const result = createMstl({ intervalsPerDay: day }).forecast(history, 6, 0.9);
    expect(result.model).toBe('mstl');
    expect(result.fallback).toMatch(reason);
    expect(result.fallback).toMatch(/using seasonal-naive-daily/);
    const baseline = createBaseline('seasonal-naive-daily', { intervalsPerDay: day }).forecast(history, 6, 0.9);
    expect(result.point).toEqual(baseline.point);
    expectContract(result, 6);
  });

  it.each([
    { label: 'all zeros', history: new Array<number>(4 * day).fill(0) },
    { label: 'a constant', history: new Array<number>(4 * day).fill(7) },
    { label: 'spikes and gaps', history: Array.from({ length: 4 * day }, (_, t) => (t % 37 === 0 ? Number.NaN : t % 50 === 0 ? 1e6 : t % 3)) },
    { label: 'a series falling to zero', history: Array.from({ length: 4 * day }, (_, t) => Math.max(0, 1000 - 6 * t)) },
  ])('never returns NaN, Infinity or a negative rate on $label', ({ history }) => {
    const model = createMstl({ intervalsPerDay: day });
    for (const quantile of [0, 0.5, 0.9, 1]) expectContract(model.forecast(history, 24, quantile), 24);
  });

  it('reuses its fit for a day and follows the level in between, without reading the future', () => {
    const full = noisy(9, 0, 5, 5);
    const model = createMstl({ intervalsPerDay: day });
    const first = model.forecast(full.slice(0, 8 * day), 4, 0.9);
    // The level doubles after the fit: a reused path alone would miss it; the correction follows.
    const shifted = full.slice(0, 8 * day).concat(full.slice(8 * day, 8 * day + 6).map((value) => 2 * value));
    const later = model.forecast(shifted, 4, 0.9);
    expect(first.fallback).toBeUndefined();
    expect(later.fallback).toBeUndefined();
    const truth = signal(8 * day + 6, 0);
    expect(later.point[0]).toBeGreaterThan(1.5 * truth);
  });

  it('is in the registry and rejects bad options', () => {
    expect(createModel('mstl', { seasonLength: day, windowIntervals: 4, intervalsPerDay: day }).name).toBe('mstl');
    expect(() => createMstl({ intervalsPerDay: 1 })).toThrow(PrescaleError);
    expect(() => createMstl({ intervalsPerDay: day, trainingDays: 1 })).toThrow(/training window/);
    expect(() => createMstl({ intervalsPerDay: day, intervals: 'bogus' as never })).toThrow(/intervals/);
    expect(() => createMstl({ intervalsPerDay: day }).forecast([1, 2], 2, 1.5)).toThrow(/quantile/);
  });
});
