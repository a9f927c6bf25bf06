import { describe, expect, it } from 'vitest';
import { ForecastAccuracy } from '../../src/metrics/forecast-accuracy.js';

const I = 10_000;

describe('rolling forecast error (ForecastAccuracy)', () => {
  it('scores each forecast against the interval it was made for: MAE and upper-bound coverage', () => {
    const a = new ForecastAccuracy(10);
    a.predict(0, 10, 12);
    a.predict(I, 20, 25);
    a.predict(2 * I, 30, 31);
    a.observe(0, 11); // |10 - 11| = 1, covered
    a.observe(I, 26); // 6, not covered
    a.observe(2 * I, 30); // 0, covered
    expect(a.summary()).toEqual({ n: 3, maeRps: 7 / 3, meanObservedRps: 67 / 3, upperCoverageRatio: 2 / 3 });
  });

  it.each([
    ['no forecast was made for the interval', (a: ForecastAccuracy) => a.observe(5 * I, 10)],
    ['the forecast is not finite', (a: ForecastAccuracy) => (a.predict(0, Number.NaN, 1), a.observe(0, 1))],
    ['the observation is not finite', (a: ForecastAccuracy) => (a.predict(0, 1, 1), a.observe(0, Number.POSITIVE_INFINITY))],
  ])('scores nothing when %s (summary stays 0, never NaN)', (_name, act) => {
    const a = new ForecastAccuracy(5);
    act(a);
    expect(a.summary()).toEqual({ n: 0, maeRps: 0, meanObservedRps: 0, upperCoverageRatio: 0 });
  });

  it('keeps only the last `window` scored intervals', () => {
    const a = new ForecastAccuracy(2);
    for (let i = 0; i < 5; i++) {
      a.predict(i * I, 10, 10);
      a.observe(i * I, 10 + i); // errors 0, 1, 2, 3, 4
    }
    expect(a.summary()).toMatchObject({ n: 2, maeRps: 3.5, upperCoverageRatio: 0 });
  });

  it('a second forecast for the same interval replaces the first', () => {
    const a = new ForecastAccuracy(5);
    a.predict(0, 100, 200);
    a.predict(0, 10, 20);
    a.observe(0, 10);
    expect(a.summary()).toMatchObject({ n: 1, maeRps: 0, upperCoverageRatio: 1 });
  });

  it('drops forecasts for intervals that passed unobserved, and bounds the pending ones', () => {
    const a = new ForecastAccuracy(5, 3);
    a.predict(0, 1, 1);
    a.observe(I, 1); // interval 0 was skipped: its forecast is dropped, never scored later
    a.observe(0, 1);
    expect(a.summary().n).toBe(0);
    for (let i = 10; i < 20; i++) a.predict(i * I, 1, 1);
    a.observe(10 * I, 1); // only the 3 newest forecasts (17..19) were kept
    a.observe(17 * I, 1);
    expect(a.summary().n).toBe(1);
  });
});
