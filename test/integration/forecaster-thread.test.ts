import { afterAll, describe, expect, it } from 'vitest';
import { Forecaster, createModel } from '../../src/forecast/forecaster.js';
import { ForecasterThread } from '../../src/forecast/forecaster-thread.js';

const options = { models: ['naive', 'seasonal-naive-daily', 'linear-regression', 'holt-winters'] as const, seasonLength: 96, windowIntervals: 30, horizon: 6, quantile: 0.9, backtestOrigins: 20, reselectEvery: 5 };
const history = Array.from({ length: 96 * 8 }, (_, i) => 200 + 80 * Math.sin((2 * Math.PI * i) / 96) + (i % 7));

describe('forecasting in a worker thread', () => {
  const thread = new ForecasterThread(options);
  afterAll(() => thread.close());

  it('gives the same forecast as the in-process forecaster', async () => {
    const local = new Forecaster({
      ...options,
      models: options.models.map((name) => createModel(name, { seasonLength: 96, windowIntervals: 30, intervalsPerDay: 96 })),
    });
    const expected = local.forecast(history);
    const got = await thread.forecast(history);
    expect(got.model).toBe(expected.model);
    expect(got.point).toEqual(expected.point);
    expect(got.upper).toEqual(expected.upper);
  });

  it('keeps the event loop free while the worker fits', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const long = Array.from({ length: 96 * 30 }, (_, i) => 200 + 80 * Math.sin((2 * Math.PI * i) / 96));
    const started = Date.now();
    await thread.forecast(long);
    const elapsed = Date.now() - started;
    clearInterval(timer);
    // the timer kept firing during the fit (a blocked loop would give ~0 ticks); loose for loaded machines
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 5 / 10));
  });
});
