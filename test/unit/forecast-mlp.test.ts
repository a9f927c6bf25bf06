import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createBaseline } from '../../src/forecast/baselines.js';
import { createMlp, type MlpOptions } from '../../src/forecast/mlp.js';
import type { Forecast } from '../../src/forecast/model.js';
import { createModel } from '../../src/forecast/registry.js';
import { day, noisy, signal } from '../helpers/synthetic-series.js';

/** Small and quick: a few hundred rows, 16 hidden units, 60 epochs at a larger step (about 0.3 s). */
const small: MlpOptions = { intervalsPerDay: day, horizon: 12, hidden: 16, epochs: 60, learningRate: 0.01, seed: 3, autoTrain: false };

function expectContract(result: Forecast, horizon: number): void {
  expect(result.point).toHaveLength(horizon);
  result.point.forEach((value, i) => {
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(result.upper[i])).toBe(true);
    expect(result.upper[i]).toBeGreaterThanOrEqual(value);
  });
}

describe('mlp', () => {
  it('falls back to seasonal-naive-daily with "mlp not trained yet" until it is trained', () => {
    const history = noisy(6, 0, 5, 1);
    const result = createMlp(small).forecast(history, 6, 0.9);
    const baseline = createBaseline('seasonal-naive-daily', { intervalsPerDay: day }).forecast(history, 6, 0.9);
    expect(result.model).toBe('mlp');
    expect(result.fallback).toMatch(/^mlp not trained yet; using seasonal-naive-daily/);
    expect(result.point).toEqual(baseline.point);
  });

  it.each([
    { trendPerDay: 0, sd: 5, seed: 1 },
    { trendPerDay: 4, sd: 5, seed: 2 },
    { trendPerDay: -3, sd: 0, seed: 4 },
  ])(
    'recovers trend $trendPerDay/day + daily seasonality + noise sd $sd from 10 days within 5% over 12 steps',
    async ({ trendPerDay, sd, seed }) => {
      const history = Object.freeze(noisy(10, trendPerDay, sd, seed));
      const model = createMlp(small);
      const report = await model.train(history);
      expect(report).toMatchObject({ trained: true, epochs: 60 });
      expect(report.rows).toBeGreaterThan(300);
      expect(['wasm', 'tensorflow']).toContain(report.backend);
      expect(report.backendFallback).toBeUndefined();
      const result = model.forecast(history, 12, 0.9);
      expect(result.fallback).toBeUndefined();
      expectContract(result, 12);
      result.point.forEach((value, i) => {
        const truth = signal(history.length + i, trendPerDay);
        expect(Math.abs(value - truth) / truth).toBeLessThan(0.05);
      });
    },
  );

  it('is deterministic for a seed: two models trained alike forecast identically; another seed differs', async () => {
    const history = noisy(8, 2, 8, 5);
    const [a, b, c] = [createMlp(small), createMlp(small), createMlp({ ...small, seed: 4 })];
    await Promise.all([a.train(history), b.train(history), c.train(history)]);
    const forecasts = [a, b, c].map((model) => model.forecast(history, 12, 0.9));
    expect(forecasts[0]).toEqual(forecasts[1]);
    expect(forecasts[2]?.point).not.toEqual(forecasts[0]?.point);
  });

  it('keeps using the network as the history grows, with the time of day moved along', async () => {
    const full = noisy(11, 0, 3, 6);
    const model = createMlp(small);
    await model.train(full.slice(0, 10 * day));
    for (const extra of [1, 7, 30]) {
      const history = full.slice(0, 10 * day + extra);
      const result = model.forecast(history, 12, 0.9);
      expect(result.fallback).toBeUndefined();
      result.point.forEach((value, i) => {
        const truth = signal(history.length + i, 0);
        expect(Math.abs(value - truth) / truth).toBeLessThan(0.05);
      });
    }
  });

  it('bounds from its own held-out residuals: the p99 bound is above the p90 bound, which is above the point', async () => {
    const history = noisy(10, 1, 15, 8);
    const model = createMlp(small);
    await model.train(history);
    const p90 = model.forecast(history, 12, 0.9);
    const p99 = model.forecast(history, 12, 0.99);
    p90.point.forEach((value, i) => {
      expect(p90.upper[i]).toBeGreaterThan(value);
      expect(p99.upper[i]).toBeGreaterThan(p90.upper[i] as number);
    });
  });

  it('reports why it cannot train a short history and keeps falling back, with the length it needs', async () => {
    const history = noisy(2, 0, 5, 1);
    const model = createMlp(small);
    const report = await model.train(history);
    expect(report.trained).toBe(false);
    expect(report.reason).toMatch(/history 96 < lags \+ one day of origins \+ horizon \+ calibration \(111\)/);
    const result = model.forecast(history, 6, 0.9);
    expect(result.fallback).toMatch(/mlp not trained yet \(history 96 < 111 needed to train\); using seasonal-naive-daily/);
    expectContract(result, 6);
  });

  it('falls back, with a reason, on a history it was not trained on and on a horizon longer than its outputs', async () => {
    const model = createMlp(small);
    await model.train(noisy(10, 0, 5, 1));
    const other = model.forecast(noisy(10, 0, 5, 2), 6, 0.9);
    expect(other.fallback).toMatch(/does not match this history/);
    const long = model.forecast(noisy(10, 0, 5, 1), 24, 0.9);
    expect(long.fallback).toMatch(/forecasts 12 steps, 24 asked/);
  });

  it.each([
    { label: 'all zeros', history: new Array<number>(8 * day).fill(0) },
    { label: 'a constant', history: new Array<number>(8 * day).fill(7) },
    { label: 'spikes and gaps', history: Array.from({ length: 8 * day }, (_, t) => (t % 37 === 0 ? Number.NaN : t % 50 === 0 ? 1e6 : t % 3)) },
  ])('never returns NaN, Infinity or a negative rate on $label, trained or not', async ({ history }) => {
    const model = createMlp({ ...small, epochs: 5 });
    for (const quantile of [0, 0.9, 1]) expectContract(model.forecast(history, 12, quantile), 12);
    const report = await model.train(history);
    expect(report.trained).toBe(true);
    for (const quantile of [0, 0.9, 1]) expectContract(model.forecast(history, 12, quantile), 12);
    const gapsAtEnd = [...history, ...new Array<number>(10).fill(Number.NaN)];
    expectContract(model.forecast(gapsAtEnd, 12, 0.9), 12);
  });

  it('trains itself in the background from forecast (autoTrain), then forecasts with the network', async () => {
    const history = noisy(10, 0, 5, 9);
    const model = createMlp({ ...small, autoTrain: true });
    expect(model.forecast(history, 12, 0.9).fallback).toMatch(/mlp not trained yet \(training\)/);
    for (let i = 0; i < 200 && model.lastTrain === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(model.lastTrain?.trained).toBe(true);
    expect(model.forecast(history, 12, 0.9).fallback).toBeUndefined();
  });

  it('does not start a background training on a flat tail that could not place the network in time', async () => {
    const history = [...noisy(10, 0, 5, 9), ...new Array<number>(80).fill(0)];
    const model = createMlp({ ...small, autoTrain: true });
    const result = model.forecast(history, 12, 0.9);
    expect(result.fallback).toMatch(/^mlp not trained yet; using seasonal-naive-daily/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(model.lastTrain).toBeUndefined();
  });

  it('is in the registry and rejects bad options', () => {
    expect(() => createMlp({ ...small, trainingDays: 2 })).toThrow(/training window/);
    expect(() => createMlp({ ...small, backend: 'gpu' as never })).toThrow(/backend/);
    expect(createModel('mlp', { seasonLength: day, windowIntervals: 4, intervalsPerDay: day }).name).toBe('mlp');
    expect(() => createMlp({ intervalsPerDay: 1 })).toThrow(PrescaleError);
    expect(() => createMlp({ ...small, hidden: 0 })).toThrow(/hidden/);
    expect(() => createMlp({ ...small, learningRate: -1 })).toThrow(/learningRate/);
    expect(() => createMlp(small).forecast([1, 2], -1, 0.9)).toThrow(/horizon/);
  });
});
