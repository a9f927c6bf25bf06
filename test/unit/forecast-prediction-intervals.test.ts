import { describe, expect, it } from 'vitest';
import { createBaseline } from '../../src/forecast/baselines.js';
import { createHoltWinters } from '../../src/forecast/holt-winters.js';
import { createLinearRegressionFourier } from '../../src/forecast/linear-regression-fourier.js';
import type { ForecastModel } from '../../src/forecast/model.js';
import { forecastBounds, stepUpperOffsets } from '../../src/forecast/prediction-intervals.js';
import { poissonDraws } from '../helpers/seeded-random.js';

const day = 48;

describe('per-step prediction intervals', () => {
  it('takes the split-conformal quantile of each step’s own residuals', () => {
    const residuals = [
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    ];
    // rank ⌈(10 + 1)·0.5⌉ = 6 and ⌈11·0.9⌉ = 10
    expect(stepUpperOffsets(residuals, 2, 0.5)).toEqual([6, 60]);
    expect(stepUpperOffsets(residuals, 2, 0.9)).toEqual([10, 100]);
    expect(residuals[0]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // never reorders the caller's data
  });

  it('clamps negative quantiles at 0 and lets steps without residuals borrow √(h / h_last) times the last one', () => {
    expect(stepUpperOffsets([[-5, -4, -3]], 1, 0.5)).toEqual([0]);
    const offsets = stepUpperOffsets([[4, 4, 4]], 4, 0.9);
    expect(offsets[0]).toBe(4);
    expect(offsets[3]).toBeCloseTo(8, 9);
    expect(stepUpperOffsets([], 3, 0.9)).toEqual([0, 0, 0]);
  });

  it.each(['naive', 'seasonal-naive-daily', 'linear-regression-fourier', 'holt-winters'] as const)(
    '%s gives p50 <= p90 <= p99 bounds above its point forecast',
    (name) => {
      const draw = poissonDraws(4);
      const history = Array.from({ length: 16 * day }, (_, t) => draw(100 + 60 * Math.sin((2 * Math.PI * t) / day)));
      const model = build(name);
      const bounds = forecastBounds(model, history, 6);
      expect(bounds.model).toBe(name);
      for (let i = 0; i < 6; i++) {
        expect(bounds.p50[i]).toBeGreaterThanOrEqual(bounds.point[i] as number);
        expect(bounds.p90[i]).toBeGreaterThanOrEqual(bounds.p50[i] as number);
        expect(bounds.p99[i]).toBeGreaterThanOrEqual(bounds.p90[i] as number);
      }
      expect(bounds.p99[5]).toBeGreaterThan(bounds.point[5] as number);
    },
  );

  it.each(['linear-regression-fourier', 'holt-winters'] as const)(
    '%s: the p90 bound covers about 0.9 of what happens next on Poisson traffic with a daily cycle',
    (name) => {
      const draw = poissonDraws(17);
      const series = Array.from({ length: 30 * day }, (_, t) => draw(80 * (1 + 0.6 * Math.sin((2 * Math.PI * t) / day)) * (1 + t / (60 * day))));
      const model = build(name);
      let covered = 0;
      let scored = 0;
      for (let origin = 22 * day; origin + 3 <= series.length; origin += 1) {
        const result = model.forecast(series.slice(0, origin), 3, 0.9);
        for (let h = 0; h < 3; h++) {
          if ((series[origin + h] as number) <= (result.upper[h] as number)) covered++;
          scored++;
        }
      }
      // one day of calibration is only 48 residuals per step here: the conformal rank
      // ⌈49 · 0.9⌉ = 45 of 48 aims a little above 0.9 (about 0.92), by design
      expect(covered / scored).toBeGreaterThan(0.85);
      expect(covered / scored).toBeLessThan(0.96);
    },
  );
});

function build(name: 'naive' | 'seasonal-naive-daily' | 'linear-regression-fourier' | 'holt-winters'): ForecastModel {
  if (name === 'linear-regression-fourier') return createLinearRegressionFourier({ intervalsPerDay: day });
  if (name === 'holt-winters') return createHoltWinters({ intervalsPerDay: day });
  return createBaseline(name, { intervalsPerDay: day });
}
