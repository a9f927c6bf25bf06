import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createLinearRegression } from '../../src/forecast/linear-regression.js';
import type { Forecast, ForecastModel } from '../../src/forecast/model.js';
import { createSeasonalNaive } from '../../src/forecast/seasonal-naive.js';
import { backtest } from '../../src/forecast/select.js';
import { mulberry32 } from '../helpers/seeded-random.js';

/** A real (tiny) model that remembers every history it was shown; forecasts the last finite value. */
function recordingModel(name: string, lookbackIntervals?: number): ForecastModel & { seen: number[][] } {
  const seen: number[][] = [];
  return {
    name,
    seen,
    ...(lookbackIntervals === undefined ? {} : { lookbackIntervals }),
    forecast(history, horizon, quantile): Forecast {
      seen.push([...history]);
      const level = [...history].reverse().find((value) => Number.isFinite(value)) ?? 0;
      const point = new Array<number>(horizon).fill(level);
      return { model: name, point, upper: point, quantile };
    },
  };
}

const seasonLength = 48;
const models = [createSeasonalNaive({ seasonLength }), createLinearRegression({ windowIntervals: 30 })];
const uniform = mulberry32(5);
const ramp = Array.from({ length: 600 }, (_, t) => 50 + 0.5 * t + 2 * (uniform() - 0.5));
const sine = Array.from({ length: 600 }, (_, t) => 100 + 80 * Math.sin((2 * Math.PI * t) / seasonLength) + 4 * (uniform() - 0.5));
const spikes = Array.from({ length: 600 }, (_, t) => (t % seasonLength < 6 ? 400 : 20) + 4 * (uniform() - 0.5));

describe('rolling-origin backtest', () => {
  it.each([
    ['a steady ramp', ramp, 'linear-regression'],
    ['a strong daily sine with no trend', sine, 'seasonal-naive'],
    ['a repeating spike with no trend', spikes, 'seasonal-naive'],
  ] as const)('ranks the right model first on %s', (_label, history, best) => {
    const scores = backtest(models, Object.freeze([...history]), { horizon: 6, origins: 30 });
    expect(scores.map((score) => score.model)[0]).toBe(best);
    expect(scores[0]?.mae).toBeLessThan((scores[1]?.mae as number) / 3);
    expect(scores.every((score) => score.origins === 30)).toBe(true);
  });

  it.each([
    [['a', 'b']],
    [['b', 'a']],
  ])('keeps input order %j on a tie', (names) => {
    const candidates = names.map((name) => recordingModel(name));
    const scores = backtest(candidates, [3, 3, 3, 3, 3, 3], { horizon: 2, origins: 3 });
    expect(scores.map((score) => score.model)).toEqual(names);
    expect(scores.map((score) => score.mae)).toEqual([0, 0]);
  });

  it('shows each origin only the data before it, cut to the model lookback', () => {
    const history = Object.freeze(Array.from({ length: 50 }, (_, t) => t));
    const model = recordingModel('recorder', 5);
    const [score] = backtest([model], history, { horizon: 4, origins: 3, step: 2 });
    // origins 42, 44, 46 (oldest first): the model sees history[o - 5, o), its target is history[o + 3]
    expect(model.seen).toEqual([
      [37, 38, 39, 40, 41],
      [39, 40, 41, 42, 43],
      [41, 42, 43, 44, 45],
    ]);
    expect(score).toEqual({ model: 'recorder', mae: 4, origins: 3 });
  });

  it('gives a model without lookbackIntervals the whole prefix', () => {
    const model = recordingModel('prefix');
    backtest([model], [1, 2, 3, 4, 5], { horizon: 1, origins: 2 });
    expect(model.seen).toEqual([[1, 2, 3], [1, 2, 3, 4]]);
  });

  it('skips origins whose target is a gap and uses fewer origins on a short history', () => {
    const history = [1, 2, Number.NaN, 4, 5];
    const [score] = backtest([recordingModel('last')], history, { horizon: 1, origins: 10 });
    // origins 4, 3, 1 (origin 2 targets the gap; origin 0 has no data): errors |4-5|, |2-4|, |1-2|
    expect(score).toEqual({ model: 'last', mae: 4 / 3, origins: 3 });
  });

  it('counts a non-finite point forecast as an infinite error and ranks that model last', () => {
    const broken: ForecastModel = {
      name: 'broken',
      forecast: (_history, horizon, quantile) => {
        const point = new Array<number>(horizon).fill(Number.NaN);
        return { model: 'broken', point, upper: point, quantile };
      },
    };
    const scores = backtest([broken, recordingModel('last')], [1, 2, 3, 4], { horizon: 1, origins: 2 });
    expect(scores).toEqual([
      { model: 'last', mae: 1, origins: 2 },
      { model: 'broken', mae: Number.POSITIVE_INFINITY, origins: 2 },
    ]);
  });

  it('scores +Infinity with 0 origins when nothing can be scored', () => {
    expect(backtest([recordingModel('m')], [1, 2], { horizon: 5, origins: 3 })).toEqual([
      { model: 'm', mae: Number.POSITIVE_INFINITY, origins: 0 },
    ]);
    expect(backtest([], [1, 2, 3], { horizon: 1, origins: 3 })).toEqual([]);
  });

  it.each([
    { horizon: 0, origins: 3 },
    { horizon: 2, origins: 0 },
    { horizon: 2, origins: 3, step: 0 },
    { horizon: 1.5, origins: 3 },
  ])('rejects options %j with PRESCALE_ERR_CONFIG', (options) => {
    expect(() => backtest(models, ramp, options)).toThrow(PrescaleError);
  });
});
