import { PrescaleError } from '../errors.js';
import { BASELINE_MODEL_NAMES, createBaseline, type BaselineModelName } from './baselines.js';
import { createHoltWinters } from './holt-winters.js';
import { createLinearRegressionFourier } from './linear-regression-fourier.js';
import { createLinearRegression } from './linear-regression.js';
import type { ForecastModel } from './model.js';
import { createMlp } from './mlp.js';
import { createMstl } from './mstl.js';
import { createSeasonalNaive } from './seasonal-naive.js';

/** Every name `createModel` accepts. */
export const MODEL_NAMES = [
  'seasonal-naive',
  'linear-regression',
  ...BASELINE_MODEL_NAMES,
  'linear-regression-fourier',
  'holt-winters',
  'mstl',
  'mlp',
] as const;

/** Names accepted by `createModel`. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** Options of `createModel`; each model reads the ones it needs. */
export interface ModelOptions {
  /** Season in intervals (seasonal-naive). */
  seasonLength: number;
  /** Regression window in intervals (linear-regression). */
  windowIntervals: number;
  /** Intervals in one day (the baselines, linear-regression-fourier, holt-winters). */
  intervalsPerDay?: number;
}

/**
 * Builds a model by its configured name, with the models' default settings.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for an unknown name, a bad option, or a model that
 *   needs `intervalsPerDay` when it is missing
 */
export function createModel(name: ModelName, options: ModelOptions): ForecastModel {
  switch (name) {
    case 'seasonal-naive':
      return createSeasonalNaive({ seasonLength: options.seasonLength });
    case 'linear-regression':
      return createLinearRegression({ windowIntervals: options.windowIntervals });
    case 'linear-regression-fourier':
      return createLinearRegressionFourier({ intervalsPerDay: needDay(name, options) });
    case 'holt-winters':
      return createHoltWinters({ intervalsPerDay: needDay(name, options) });
    case 'mstl':
      return createMstl({ intervalsPerDay: needDay(name, options) });
    case 'mlp':
      return createMlp({ intervalsPerDay: needDay(name, options) });
    default:
      if ((BASELINE_MODEL_NAMES as readonly string[]).includes(name)) {
        return createBaseline(name as BaselineModelName, { intervalsPerDay: needDay(name, options) });
      }
      throw new PrescaleError(
        'PRESCALE_ERR_CONFIG',
        `unknown forecast model "${String(name)}"; expected one of ${MODEL_NAMES.join(', ')}`,
        { details: { name } },
      );
  }
}

function needDay(name: string, options: ModelOptions): number {
  if (options.intervalsPerDay === undefined) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `forecast model "${name}" needs intervalsPerDay (intervals in one day)`, {
      details: { name },
    });
  }
  return options.intervalsPerDay;
}
