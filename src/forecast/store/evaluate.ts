import { PrescaleError } from '../../errors.js';
import { runBacktest, type BacktestResult } from '../backtest.js';
import { createModel, type ModelName, type ModelOptions } from '../registry.js';

/**
 * The options runBacktest builds every model with (backtest.ts `buildModel`): a stored model
 * records them as its `params`, so it is rebuilt exactly as it was scored.
 */
export function backtestModelOptions(intervalMs: number): Required<ModelOptions> {
  const intervalsPerDay = 86_400_000 / intervalMs;
  return { intervalsPerDay, seasonLength: intervalsPerDay, windowIntervals: 30 };
}

/** What to evaluate: a series, the models, the horizon that decides and the scored range. */
export interface EvaluationRequest {
  series: { startMs: number; intervalMs: number; requests: readonly number[]; file?: string };
  models: readonly ModelName[];
  /** Steps ahead that decide, integer >= 1 (the scaler's horizon). */
  horizonIntervals: number;
  /** Days at the end that are scored, > 0. */
  testDays: number;
  /** Minutes between forecast origins; default 60. */
  stepMinutes?: number;
}

/** runBacktest's result, the deciding horizon, and how each requested model fits the whole series. */
export interface Evaluation {
  backtest: BacktestResult;
  /** horizonIntervals in minutes (rounded up to a horizon runBacktest can score exactly). */
  horizonMinutes: number;
  stepMinutes: number;
  /** Per requested model, fitted on the whole series: its lookback and fallback reason (null = none). */
  fits: Record<string, { lookbackIntervals: number | null; fallback: string | null }>;
}

/** Standard horizons scored besides the deciding one, minutes (as `prescale backtest`). */
const STANDARD_HORIZONS_MINUTES = [1, 5, 15, 30, 60];

/**
 * Rolling-origin backtest (backtest.ts runBacktest: the baselines, `models` and `auto`) over
 * the last `testDays` days, at the standard horizons up to the deciding one and the deciding
 * one itself; then each requested model forecasts once from the whole series, which makes it
 * fit the latest data and tells whether it had to fall back (e.g. too little history).
 * Pure and synchronous; cost of runBacktest plus one fit per model (seconds for a fitted
 * model on weeks of minutes, so run it in a worker: evaluate-thread.ts).
 * @throws PrescaleError PRESCALE_ERR_CONFIG for less than testDays + 1 days of data, or from
 *   runBacktest (an interval that does not divide a day)
 */
export function evaluateModels(request: EvaluationRequest): Evaluation {
  const { series, horizonIntervals, testDays } = request;
  const intervalsPerDay = 86_400_000 / series.intervalMs;
  if (series.requests.length < Math.round((testDays + 1) * intervalsPerDay)) {
    const days = (series.requests.length / intervalsPerDay).toFixed(2);
    const source = series.file === undefined ? 'the series' : series.file;
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${source}: ${days} days of data is too little; need at least ${testDays + 1} (${testDays} scored + 1 before)`);
  }
  const horizonMinutes = scorableHorizonMinutes(series.intervalMs, horizonIntervals);
  const stepMinutes = request.stepMinutes ?? 60;
  const intervalMinutes = series.intervalMs / 60_000;
  const standard = STANDARD_HORIZONS_MINUTES.filter((m) => m < horizonMinutes && Number.isInteger(m / intervalMinutes));
  const backtest = runBacktest(
    { ...series, ...(series.file === undefined ? {} : { file: series.file }) },
    { models: request.models, horizonsMinutes: [...standard, horizonMinutes], stepMinutes, testDays },
  );
  const options = backtestModelOptions(series.intervalMs);
  const fits: Evaluation['fits'] = {};
  for (const name of new Set(request.models)) {
    const model = createModel(name, options);
    const forecast = model.forecast(series.requests, horizonIntervals, 0.9);
    fits[name] = { lookbackIntervals: model.lookbackIntervals ?? null, fallback: forecast.fallback ?? null };
  }
  return { backtest, horizonMinutes, stepMinutes, fits };
}

/**
 * The smallest horizon of at least `horizonIntervals` intervals whose length in minutes maps
 * back to a whole number of intervals in floating point (runBacktest takes minutes): 31 × 10 s
 * is 5.1667 min and maps back exactly; 13 × 10 s does not, so 14 is used.
 * @throws PrescaleError PRESCALE_ERR_CONFIG when none is found within 60 intervals
 */
export function scorableHorizonMinutes(intervalMs: number, horizonIntervals: number): number {
  for (let k = Math.max(1, Math.ceil(horizonIntervals)); k < horizonIntervals + 60; k++) {
    const minutes = (k * intervalMs) / 60_000;
    if ((minutes * 60_000) / intervalMs === k) return minutes;
  }
  throw new PrescaleError('PRESCALE_ERR_CONFIG', `no scorable horizon near ${horizonIntervals} intervals of ${intervalMs} ms`);
}
