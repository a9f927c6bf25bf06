import { describe, expect, it } from 'vitest';
import { Forecaster, createModel } from '../../src/forecast/forecaster.js';
import type { Forecast } from '../../src/forecast/model.js';

const NaN_ = Number.NaN;
const options = { seasonLength: 24, windowIntervals: 30 };
const zeros = new Array<number>(100).fill(0);
const constant = new Array<number>(100).fill(7);
const withGaps = Array.from({ length: 100 }, (_, t) => (t % 9 === 4 || t === 99 ? NaN_ : 20 + (t % 24)));
const allGaps = new Array<number>(100).fill(NaN_);
const infinities = Array.from({ length: 60 }, (_, t) => (t % 2 === 0 ? Number.POSITIVE_INFINITY : 5));

function expectContract(result: Forecast, horizon: number): void {
  expect(result.point).toHaveLength(horizon);
  expect(result.upper).toHaveLength(horizon);
  for (let i = 0; i < horizon; i++) {
    expect(Number.isFinite(result.point[i])).toBe(true);
    expect(Number.isFinite(result.upper[i])).toBe(true);
    expect(result.point[i]).toBeGreaterThanOrEqual(0);
    expect(result.upper[i]).toBeGreaterThanOrEqual(result.point[i] as number);
  }
}

describe('degenerate input gets a finite, non-negative answer and a reason', () => {
  it.each([
    ['seasonal-naive', 'empty', [], 0, /^history 0 < season \+ 1 \(25\); using last value; no residuals/],
    ['seasonal-naive', 'one point', [5], 5, /^history 1 < season \+ 1 \(25\); using last value; no residuals/],
    ['seasonal-naive', 'all zeros', zeros, 0, undefined],
    ['seasonal-naive', 'constant', constant, 7, undefined],
    // history[76] (one season back) is a gap, filled with history[75]
    ['seasonal-naive', 'NaN inside and at the end', withGaps, 20 + (75 % 24), undefined],
    ['seasonal-naive', 'all gaps', allGaps, 0, /last season \(24 intervals\) is all gaps; using last value/],
    ['seasonal-naive', 'half Infinity', infinities, 5, undefined],
    ['linear-regression', 'empty', [], 0, /^0 finite values in the last 30 intervals < 3; using last value/],
    ['linear-regression', 'one point', [5], 5, /^1 finite values in the last 30 intervals < 3; using last value/],
    ['linear-regression', 'two points', [5, 9], 9, /^2 finite values in the last 30 intervals < 3; using last value$/],
    ['linear-regression', 'all zeros', zeros, 0, undefined],
    ['linear-regression', 'constant', constant, 7, undefined],
    ['linear-regression', 'all gaps', allGaps, 0, /^0 finite values/],
    ['linear-regression', 'half Infinity', infinities, 5, undefined],
  ] as const)('%s, %s', (name, _label, history, first, reason) => {
    const frozen = Object.freeze([...history]);
    const result = createModel(name, options).forecast(frozen, 6, 0.9);
    expectContract(result, 6);
    expect(result.model).toBe(name);
    expect(result.point[0]).toBeCloseTo(first, 9);
    if (reason === undefined) expect(result.fallback).toBeUndefined();
    else expect(result.fallback).toMatch(reason);
  });

  it('linear regression over a series with NaN inside still fits a line', () => {
    const result = createModel('linear-regression', options).forecast(withGaps, 6, 0.9);
    expectContract(result, 6);
    expect(result.fallback).toBeUndefined();
  });

  it.each(['seasonal-naive', 'linear-regression'] as const)('%s returns empty arrays for horizon 0', (name) => {
    const result = createModel(name, options).forecast([1, 2, 3], 0, 0.9);
    expect(result.point).toEqual([]);
    expect(result.upper).toEqual([]);
  });

  it.each([
    ['empty', [], /^empty history; forecasting 0$/],
    ['one point', [4], /^history 1 < horizon \+ 2 \(8\); no backtest, using seasonal-naive; history 1 < season \+ 1/],
    ['all gaps', allGaps, /no backtest origin could be scored; using seasonal-naive; last season/],
  ] as const)('the forecaster answers %s history with a reason', (_label, history, reason) => {
    const forecaster = new Forecaster({
      models: [createModel('seasonal-naive', options), createModel('linear-regression', options)],
      horizon: 6,
      quantile: 0.9,
      backtestOrigins: 10,
      reselectEvery: 5,
    });
    const result = forecaster.forecast(Object.freeze([...history]));
    expectContract(result, 6);
    expect(result.chosen).toBe('seasonal-naive');
    expect(result.fallback).toMatch(reason);
  });
});

describe('the baselines and fitted models never return NaN or a negative rate on degenerate input', () => {
  const day = 24;
  const long = 20 * day;
  const inputs: [string, readonly number[]][] = [
    ['empty', []],
    ['one point', [5]],
    ['shorter than a day', [3, 0, 7, 2, 9]],
    ['all zeros', new Array<number>(long).fill(0)],
    ['constant', new Array<number>(long).fill(7)],
    ['NaN inside and at the end', Array.from({ length: long }, (_, t) => (t % 9 === 4 || t === long - 1 ? NaN_ : 20 + (t % day)))],
    ['all gaps', new Array<number>(long).fill(NaN_)],
    ['half Infinity', Array.from({ length: long }, (_, t) => (t % 2 === 0 ? Number.POSITIVE_INFINITY : 5))],
    ['a huge spike', Array.from({ length: long }, (_, t) => (t === long - 3 ? 1e12 : 10 + (t % day)))],
    ['a fall to zero', Array.from({ length: long }, (_, t) => (t < long - 30 ? 500 + 100 * Math.sin((2 * Math.PI * t) / day) : 0))],
  ];
  const names = ['naive', 'seasonal-naive-daily', 'seasonal-naive-weekly', 'linear-regression-fourier', 'holt-winters'] as const;
  const cases = names.flatMap((name) => inputs.map(([label, history]) => [name, label, history] as const));

  it.each(cases)('%s, %s', (name, _label, history) => {
    const model = createModel(name, { seasonLength: day, windowIntervals: 30, intervalsPerDay: day });
    for (const quantile of [0.5, 0.9, 0.99]) {
      const result = model.forecast(Object.freeze([...history]), 6, quantile);
      expectContract(result, 6);
      expect(result.model).toBe(name);
    }
  });

  it.each([
    ['linear-regression-fourier', [5], /^history 1 < calibration \+ one day \+ lags \+ horizon \(\d+\); using seasonal-naive-daily; history 1 < season \+ 1 \(25\); using naive; no residuals, upper = point$/],
    ['holt-winters', [5], /^history 1 < calibration \+ two seasons \(72\); using seasonal-naive-daily; history 1 < season \+ 1 \(25\); using naive; no residuals, upper = point$/],
    ['linear-regression-fourier', new Array<number>(long).fill(NaN_), /^the last 480 intervals are all gaps; using seasonal-naive-daily; last season \(24 intervals\) is all gaps/],
    ['holt-winters', new Array<number>(long).fill(NaN_), /^the last 480 intervals are all gaps; using seasonal-naive-daily/],
  ] as const)('%s says why it fell back (%j)', (name, history, reason) => {
    const model = createModel(name, { seasonLength: 24, windowIntervals: 30, intervalsPerDay: 24 });
    expect(model.forecast(history, 6, 0.9).fallback).toMatch(reason);
  });

  it.each(['linear-regression-fourier', 'holt-winters'] as const)('%s forecasts exactly 0 for a series of zeros', (name) => {
    const model = createModel(name, { seasonLength: 24, windowIntervals: 30, intervalsPerDay: 24 });
    const result = model.forecast(new Array<number>(20 * 24).fill(0), 6, 0.9);
    expect(result.fallback).toBeUndefined();
    expect(result.point).toEqual([0, 0, 0, 0, 0, 0]);
    expect(result.upper).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
