import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { autoPicks } from '../../src/forecast/auto-policy.js';
import { formatBacktestTable, runBacktest, type BacktestResult } from '../../src/forecast/backtest.js';
import { mulberry32, poissonDraws } from '../helpers/seeded-random.js';

const intervalMs = 1_800_000; // 30 minutes
const day = 48;
const startMs = Date.UTC(2024, 0, 1);

function metrics(result: BacktestResult, name: string, horizonMinutes: number) {
  const model = result.models.find((m) => m.name === name);
  const found = model?.horizons.find((h) => h.horizonMinutes === horizonMinutes);
  if (found === undefined) throw new Error(`no ${name} at ${horizonMinutes} min`);
  return found;
}

describe('rolling-origin backtest of forecast models', () => {
  const draw = poissonDraws(3);
  const requests = Array.from({ length: 28 * day }, (_, t) => draw((100 + (3 * t) / day) * (1 + 0.5 * Math.sin((2 * Math.PI * t) / day))));
  const options = { models: ['linear-regression-fourier', 'holt-winters'], horizonsMinutes: [30, 90], stepMinutes: 120, testDays: 4 };
  const result = runBacktest({ intervalMs, startMs, requests }, options);

  it('reports the baselines, the requested models and auto, with every metric finite', () => {
    expect(result.models.map((m) => m.name)).toEqual([
      'naive',
      'seasonal-naive-daily',
      'seasonal-naive-weekly',
      'linear-regression-fourier',
      'holt-winters',
      'auto',
    ]);
    expect(result.intervalSeconds).toBe(1800);
    expect(result.trace.origins).toBe(4 * 12);
    expect(result.trace.testStartMs).toBe(startMs + 24 * day * intervalMs);
    for (const model of result.models) {
      expect(model.horizons.map((h) => h.horizonMinutes)).toEqual([30, 90]);
      for (const h of model.horizons) {
        for (const value of [h.mae, h.rmse, h.smape, h.mase, h.coverageP90, h.coverageP99]) expect(Number.isFinite(value)).toBe(true);
        expect(h.n).toBeGreaterThanOrEqual(47);
      }
    }
  });

  it.each([30, 90])('gives the regression, the right model for trend + daily cycle + noise, MASE < 1 at %i min', (horizonMinutes) => {
    const regression = metrics(result, 'linear-regression-fourier', horizonMinutes);
    expect(regression.mase).toBeLessThan(1);
    expect(regression.mae).toBeLessThan(metrics(result, 'naive', horizonMinutes).mae);
    expect(regression.mae).toBeLessThan(metrics(result, 'seasonal-naive-daily', horizonMinutes).mae);
    expect(metrics(result, 'auto', horizonMinutes).mase).toBeLessThan(1);
  });

  it('auto chooses from past errors only: it follows a regime change that hindsight would average away', () => {
    // 17 days of an exact, spiky daily pattern (seasonal naive is perfect, the last value is
    // badly wrong), then 3 days of a gentle random walk far above it (the last value is best).
    // The test range is the last 4 days, so one scored day is still periodic; over the whole
    // range hindsight prefers naive. A short selection window (3 origins) keeps the switch quick.
    const uniform = mulberry32(11);
    let level = 1000;
    const series = Array.from({ length: 20 * day }, (_, t) => {
      if (t < 17 * day) return t % 3 === 0 ? 400 : 100;
      level = Math.max(0, level + Math.round(30 * (uniform() - 0.5)));
      return level;
    });
    const run = runBacktest({ intervalMs, startMs, requests: series }, { models: [], horizonsMinutes: [30], stepMinutes: 120, testDays: 4, selectionOrigins: 3 });
    const naive = metrics(run, 'naive', 30);
    const seasonal = metrics(run, 'seasonal-naive-daily', 30);
    const auto = metrics(run, 'auto', 30);
    expect(naive.mae).toBeLessThan(seasonal.mae); // the hindsight choice
    const choice = run.chosen[0];
    expect(choice?.picks['seasonal-naive-daily']).toBeGreaterThanOrEqual(12); // the periodic day
    expect(choice?.picks.naive).toBeGreaterThan(12);
    expect(choice?.latest).toBe('naive');
    // switching on past evidence beats every fixed choice, including the hindsight one
    expect(auto.mae).toBeLessThan(naive.mae);
  });

  it('formats a terminal table with a row per model and horizon and what auto picked', () => {
    const table = formatBacktestTable(result);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^trace: 1344 intervals of 1800 s, 48 scored origins from 2024-01-25T00:00:00.000Z$/);
    expect(lines[1]).toMatch(/^model\s+h min\s+MAE\s+RMSE\s+sMAPE %\s+MASE\s+vs best base\s+cov p90\s+cov p99\s+n$/);
    expect(lines.filter((line) => /^auto\s+\d/.test(line))).toHaveLength(2);
    // column 6 is "vs best base": exactly one baseline per horizon is the best, at 1.000
    const cells = lines.slice(2).map((line) => line.split(/\s+/));
    const bestBaselines = (horizon: string) =>
      cells.filter((row) => row[1] === horizon && /^(naive|seasonal-naive-)/.test(row[0] as string) && row[6] === '1.000');
    expect(bestBaselines('30')).toHaveLength(1);
    expect(bestBaselines('90')).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^auto at 90 min: now \S+; picked /);
  });

  it.each([
    ['a horizon that is not a whole number of intervals', { horizonsMinutes: [45] }, /horizon 45 min is not a whole number/],
    ['no horizons', { horizonsMinutes: [] }, /horizonsMinutes must not be empty/],
    ['a step that is not a whole number of intervals', { stepMinutes: 20 }, /stepMinutes 20 min/],
    ['a test range that leaves less than a day', { testDays: 27.5 }, /leaves 24 intervals before the test range; need at least one day \(48\)/],
    ['testDays 0', { testDays: 0 }, /testDays must be > 0/],
    ['an unknown model', { models: ['prophet'] }, /unknown forecast model "prophet"/],
  ])('rejects %s with PRESCALE_ERR_CONFIG', (_label, overrides, message) => {
    const run = () => runBacktest({ intervalMs, startMs, requests }, { ...options, ...overrides });
    expect(run).toThrow(PrescaleError);
    expect(run).toThrow(message);
  });

  it('rejects an interval that does not divide a day', () => {
    expect(() => runBacktest({ intervalMs: 7 * 60_000, startMs, requests }, options)).toThrow(/divides one day/);
  });
});

describe('auto policy', () => {
  const origins = [10, 11, 12, 13, 14, 15];
  const errors = [
    [1, 1, 1, 1, 1, 1],
    [9, 9, 9, 0, 0, 0],
  ];

  it('picks by the mean error of the latest observed origins, model 0 before there are any', () => {
    expect(autoPicks(errors, origins, 1, 1)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(autoPicks(errors, origins, 1, 3)).toEqual([0, 0, 0, 0, 0, 0]); // mean of 9, 9, 0 is 6; of 9, 0, 0 is 3
  });

  it('ignores origins whose target is not observed yet', () => {
    // 3 steps ahead: at origin 15 the targets of origins 13 and 14 (15 and 16) are still unknown
    expect(autoPicks(errors, origins, 3, 1)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('never changes an earlier pick when later errors change', () => {
    const base = autoPicks(errors, origins, 2, 2);
    for (let k = 0; k < origins.length; k++) {
      const changed = errors.map((series) => series.map((value, i) => (i >= k ? 100 * mulberry32(k)() : value)));
      expect(autoPicks(changed, origins, 2, 2).slice(0, k + 1)).toEqual(base.slice(0, k + 1));
    }
  });

  it('skips NaN errors (targets beyond the data)', () => {
    expect(autoPicks([[Number.NaN, 5], [Number.NaN, 1]], [1, 2], 1, 5)).toEqual([0, 0]);
    expect(autoPicks([[5, Number.NaN, 0], [1, 0, 0]], [1, 2, 3], 1, 5)).toEqual([0, 1, 1]);
  });
});
