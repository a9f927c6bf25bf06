import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { Forecaster, createModel, type ForecasterOptions } from '../../src/forecast/forecaster.js';
import type { ForecastModel } from '../../src/forecast/model.js';
import { seededRandom } from '../../src/runtime/seeded-random.js';

const seasonLength = 48;
const modelOptions = { seasonLength, windowIntervals: 30 };
const ramp = Object.freeze(Array.from({ length: 600 }, (_, t) => 50 + 0.5 * t));
const sine = Object.freeze(Array.from({ length: 600 }, (_, t) => 100 + 80 * Math.sin((2 * Math.PI * t) / seasonLength)));

/** Wraps a real model and counts how often it is asked to forecast. */
function counted(model: ForecastModel): ForecastModel & { calls: number } {
  const wrapper = {
    name: model.name,
    lookbackIntervals: model.lookbackIntervals,
    calls: 0,
    forecast(history: readonly number[], horizon: number, quantile: number) {
      wrapper.calls++;
      return model.forecast(history, horizon, quantile);
    },
  };
  return wrapper;
}

function options(models: readonly ForecastModel[], overrides: Partial<ForecasterOptions> = {}): ForecasterOptions {
  return { models, horizon: 6, quantile: 0.9, backtestOrigins: 10, reselectEvery: 3, ...overrides };
}

const both = () => [createModel('seasonal-naive', modelOptions), createModel('linear-regression', modelOptions)];

describe('forecaster', () => {
  it.each([
    ['a ramp', ramp, 'linear-regression'],
    ['a repeating pattern', sine, 'seasonal-naive'],
  ] as const)('chooses the model with the lowest backtest MAE on %s', (_label, history, best) => {
    const result = new Forecaster(options(both())).forecast(history);
    expect(result.chosen).toBe(best);
    expect(result.model).toBe(best);
    expect(result.fallback).toBeUndefined();
    expect(result.scores.map((score) => score.model)[0]).toBe(best);
    expect(result.scores[0]?.mae).toBeLessThanOrEqual(result.scores[1]?.mae as number);
    expect(result.point).toHaveLength(6);
    result.upper.forEach((value, i) => expect(value).toBeGreaterThanOrEqual(result.point[i] as number));
  });

  it('keeps its choice between re-selections and re-selects every `reselectEvery` calls', () => {
    const forecaster = new Forecaster(options(both(), { reselectEvery: 3 }));
    const chosen = [ramp, sine, sine, sine, sine].map((history) => forecaster.forecast(history).chosen);
    expect(chosen).toEqual(['linear-regression', 'linear-regression', 'linear-regression', 'seasonal-naive', 'seasonal-naive']);
  });

  it('runs the backtest only on re-selection calls', () => {
    const models = both().map(counted);
    const forecaster = new Forecaster(options(models, { backtestOrigins: 4, reselectEvery: 3 }));
    for (let call = 0; call < 4; call++) forecaster.forecast(ramp);
    // calls 1 and 4 backtest (4 origins per model); every call forecasts once with the chosen model
    expect(models.map((model) => model.calls)).toEqual([8, 8 + 4]);
  });

  it('uses the first model and says why when history is too short to backtest', () => {
    const result = new Forecaster(options(both())).forecast([10, 12, 11, 13, 12, 14, 13]);
    expect(result.chosen).toBe('seasonal-naive');
    expect(result.scores).toEqual([]);
    expect(result.fallback).toBe('history 7 < horizon + 2 (8); no backtest, using seasonal-naive; history 7 < season + 1 (49); using last value');
    expect(result.point).toEqual(new Array(6).fill(13));
  });

  it('returns zeros and a reason for an empty history', () => {
    const result = new Forecaster(options(both())).forecast([]);
    expect(result).toEqual({
      model: 'seasonal-naive',
      chosen: 'seasonal-naive',
      point: [0, 0, 0, 0, 0, 0],
      upper: [0, 0, 0, 0, 0, 0],
      quantile: 0.9,
      fallback: 'empty history; forecasting 0',
      scores: [],
    });
  });

  it('hands out copies of its cached scores', () => {
    const forecaster = new Forecaster(options(both()));
    const first = forecaster.forecast(ramp);
    first.scores.length = 0;
    expect(forecaster.forecast(ramp).scores).toHaveLength(2);
  });

  it.each([
    ['no models', { models: [] }, /at least one model/],
    ['duplicate names', { models: [createModel('seasonal-naive', modelOptions), createModel('seasonal-naive', modelOptions)] }, /unique names/],
    ['horizon 0', { horizon: 0 }, /horizon/],
    ['quantile 2', { quantile: 2 }, /quantile/],
    ['backtestOrigins 0', { backtestOrigins: 0 }, /backtestOrigins/],
    ['reselectEvery 1.5', { reselectEvery: 1.5 }, /reselectEvery/],
  ] as const)('rejects %s with PRESCALE_ERR_CONFIG', (_label, overrides, message) => {
    expect(() => new Forecaster(options(both(), overrides))).toThrow(message);
    expect(() => new Forecaster(options(both(), overrides))).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG' }));
  });
});

describe('createModel', () => {
  it.each(['seasonal-naive', 'linear-regression'] as const)('builds %s by name', (name) => {
    expect(createModel(name, modelOptions).name).toBe(name);
  });

  it('rejects an unknown name with PRESCALE_ERR_CONFIG', () => {
    const build = () => createModel('prophet' as 'seasonal-naive', modelOptions);
    expect(build).toThrow(PrescaleError);
    expect(build).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG', message: expect.stringMatching(/unknown forecast model "prophet"/) }));
  });
});

describe('Forecaster online calibration (origin given)', () => {
  it('covers more after a shift to larger residuals than the raw bound, and repeats of an origin learn nothing', () => {
    const random = seededRandom(3);
    const values: number[] = Array.from({ length: 200 }, () => 100 + 2 * (random() - 0.5));
    const make = () => new Forecaster({ models: [createModel('naive', { seasonLength: 24, windowIntervals: 30, intervalsPerDay: 24 })], horizon: 1, quantile: 0.9, backtestOrigins: 20, reselectEvery: 10 });
    const calibrated = make();
    const raw = make();
    const hits = { calibrated: 0, raw: 0 };
    for (let t = 100; t < 200; t++) {
      values[t] = 100 + 40 * (random() - 0.5); // residuals now 20x larger than the calibration sample's
      const history = values.slice(0, t);
      const first = calibrated.forecast(history, t);
      expect(calibrated.forecast(history, t).upper).toEqual(first.upper);
      expect(first.upper[0]).toBeGreaterThanOrEqual(first.point[0] as number);
      if ((values[t] as number) <= (first.upper[0] as number)) hits.calibrated++;
      if ((values[t] as number) <= (raw.forecast(history).upper[0] as number)) hits.raw++;
    }
    expect(hits.calibrated).toBeGreaterThan(hits.raw);
  });
});
