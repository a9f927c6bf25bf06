import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { fitHoltWinters, toParams } from '../../src/forecast/holt-winters-fit.js';
import { HOLT_WINTERS_BOUNDS, createHoltWinters } from '../../src/forecast/holt-winters.js';
import { normalDraws } from '../helpers/seeded-random.js';
import { day, noisy, signal } from '../helpers/synthetic-series.js';

const fitSettings = { m: day, calibration: day, training: 21 * day, horizon: 6, maxEvaluations: 150, transform: 'none' as const };

describe('holt-winters', () => {
  it.each([
    { trendPerDay: 0, sd: 5, days: 28, seed: 1 },
    { trendPerDay: 3, sd: 5, days: 28, seed: 2 },
    { trendPerDay: 5, sd: 10, days: 21, seed: 3 },
    { trendPerDay: 4, sd: 0, days: 28, seed: 4 },
    { trendPerDay: -2, sd: 10, days: 14, seed: 5 },
  ])(
    'recovers trend $trendPerDay/day + daily seasonality + noise sd $sd from $days days within 4% over 12 steps',
    ({ trendPerDay, sd, days, seed }) => {
      const history = Object.freeze(noisy(days, trendPerDay, sd, seed));
      const result = createHoltWinters({ intervalsPerDay: day }).forecast(history, 12, 0.9);
      expect(result.model).toBe('holt-winters');
      expect(result.fallback).toBeUndefined();
      result.point.forEach((value, i) => {
        const truth = signal(history.length + i, trendPerDay);
        expect(Math.abs(value - truth) / truth).toBeLessThan(0.04);
      });
    },
  );

  it('fits its smoothing parameters to the data: a wandering level gets a large α, a steady one a small α', () => {
    const noise = normalDraws(8);
    let level = 400;
    const wandering = Array.from({ length: 14 * day }, (_, t) => {
      level += 15 * noise();
      return level + 60 * Math.sin((2 * Math.PI * t) / day) + noise();
    });
    const steady = Array.from({ length: 14 * day }, (_, t) => 400 + 60 * Math.sin((2 * Math.PI * t) / day) + 15 * noise());
    const fast = fitHoltWinters(wandering, fitSettings);
    const slow = fitHoltWinters(steady, fitSettings);
    if (typeof fast === 'string' || typeof slow === 'string') throw new Error('expected both fits to succeed');
    expect(fast.params.alpha).toBeGreaterThan(0.5);
    expect(slow.params.alpha).toBeLessThan(0.2);
    for (const { params } of [fast, slow]) {
      expect(params.phi).toBeGreaterThanOrEqual(HOLT_WINTERS_BOUNDS.phi[0]);
      expect(params.phi).toBeLessThanOrEqual(HOLT_WINTERS_BOUNDS.phi[1]);
      expect(params.gamma).toBeLessThanOrEqual(1 - params.alpha);
    }
  });

  it('maps any unconstrained point inside the parameter bounds', () => {
    for (const x of [[-50, -50, -50, -50], [0, 0, 0, 0], [50, 50, 50, 50], [3, -2, 7, 0.5]]) {
      const p = toParams(x);
      expect(p.alpha).toBeGreaterThanOrEqual(HOLT_WINTERS_BOUNDS.alpha[0]);
      expect(p.alpha).toBeLessThanOrEqual(HOLT_WINTERS_BOUNDS.alpha[1]);
      expect(p.beta).toBeLessThanOrEqual(HOLT_WINTERS_BOUNDS.beta[1]);
      expect(p.gamma).toBeLessThanOrEqual(Math.max(HOLT_WINTERS_BOUNDS.gamma[0], 1 - p.alpha));
      expect(p.phi).toBeLessThanOrEqual(HOLT_WINTERS_BOUNDS.phi[1]);
    }
  });

  it('chooses the log scale for multiplicative traffic and the raw scale for an additive signal', () => {
    const noise = normalDraws(12);
    // the level falls 10× over two weeks while the daily swing stays ±40 % of it
    const multiplicative = Array.from({ length: 14 * day }, (_, t) => 2000 * 0.1 ** (t / (14 * day)) * (1 + 0.4 * Math.sin((2 * Math.PI * t) / day)) * (1 + 0.02 * noise()));
    const additive = noisy(14, 4, 2, 13);
    const choose = (history: number[]) => {
      const fit = fitHoltWinters(history, { ...fitSettings, transform: 'auto' });
      return typeof fit === 'string' ? fit : fit.transform;
    };
    expect(choose(multiplicative)).toBe('log');
    expect(choose(additive)).not.toBe('log');
  });

  it('moves its cached state forward instead of refitting, and never uses a fit from a later origin', () => {
    const history = noisy(20, 2, 5, 6);
    const model = createHoltWinters({ intervalsPerDay: day });
    const fresh = () => createHoltWinters({ intervalsPerDay: day });
    const origin = history.length - 30;
    const atOrigin = model.forecast(history.slice(0, origin), 6, 0.9);
    expect(atOrigin).toEqual(fresh().forecast(history.slice(0, origin), 6, 0.9));
    // later origins move the fitted state forward over the newer values
    const later = model.forecast(history.slice(0, origin + 5), 6, 0.9);
    expect(later.point).not.toEqual(atOrigin.point);
    expect(model.forecast(history, 6, 0.9).fallback).toBeUndefined();
    // an earlier origin than any fit: a fresh fit, identical to a new model's
    const early = history.slice(0, origin - 10);
    expect(model.forecast(early, 6, 0.9)).toEqual(fresh().forecast(early, 6, 0.9));
  });

  it.each([
    { intervalsPerDay: 1 },
    { intervalsPerDay: 48, seasonLength: 1 },
    { intervalsPerDay: 48, trainingDays: 2 },
    { intervalsPerDay: 48, maxEvaluations: 3 },
  ])('rejects options %j with PRESCALE_ERR_CONFIG', (options) => {
    expect(() => createHoltWinters(options)).toThrow(PrescaleError);
  });
});
