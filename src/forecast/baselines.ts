import { assertPositiveInteger, type ForecastModel } from './model.js';
import { createNaive } from './naive.js';
import { createSeasonalNaive } from './seasonal-naive.js';

/**
 * The three baseline models every comparison includes, under their configured names:
 *
 * | name                    | point forecast for interval t           | short history          |
 * |-------------------------|-----------------------------------------|------------------------|
 * | `naive`                 | last finite value                       | 0 when there is none   |
 * | `seasonal-naive-daily`  | y[t - 1 day] (same interval yesterday)  | `naive`                |
 * | `seasonal-naive-weekly` | y[t - 7 days] (same interval last week) | daily, then `naive`    |
 *
 * Each calibrates its per-step upper bound on its own errors over the last
 * `calibrationIntervals` (default one day), see naive.ts and seasonal-naive.ts. A fallback is
 * reported in `Forecast.fallback`, e.g. "history 2000 < season + 1 (10081); using
 * seasonal-naive-daily", and `Forecast.model` keeps the configured name.
 */
export const BASELINE_MODEL_NAMES = ['naive', 'seasonal-naive-daily', 'seasonal-naive-weekly'] as const;

export type BaselineModelName = (typeof BASELINE_MODEL_NAMES)[number];

/** Options of the baselines. */
export interface BaselineOptions {
  /** Intervals in one day, integer >= 1, e.g. 1440 at 1-minute intervals. */
  intervalsPerDay: number;
  /** Calibration window of the upper bound in intervals; default intervalsPerDay. */
  calibrationIntervals?: number;
}

/**
 * Builds a baseline by name.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for intervalsPerDay or calibrationIntervals that
 *   is not a positive integer (calibrationIntervals >= 2)
 */
export function createBaseline(name: BaselineModelName, options: BaselineOptions): ForecastModel {
  const { intervalsPerDay } = options;
  assertPositiveInteger(`${name} intervalsPerDay`, intervalsPerDay);
  const calibrationIntervals = options.calibrationIntervals ?? Math.max(2, intervalsPerDay);
  const naive = createNaive({ calibrationIntervals });
  if (name === 'naive') return naive;
  const daily = createSeasonalNaive({
    name: 'seasonal-naive-daily',
    seasonLength: intervalsPerDay,
    calibrationIntervals,
    shortHistory: naive,
  });
  if (name === 'seasonal-naive-daily') return daily;
  return createSeasonalNaive({
    name: 'seasonal-naive-weekly',
    seasonLength: 7 * intervalsPerDay,
    calibrationIntervals,
    shortHistory: daily,
  });
}
