import { PrescaleError } from '../errors.js';
import { AdaptiveWidth } from './adaptive-width.js';
import { autoPicks } from './auto-policy.js';
import { MetricsAccumulator, seasonalNaiveScale, type HorizonMetrics } from './backtest-metrics.js';
import { BASELINE_MODEL_NAMES } from './baselines.js';
import type { ForecastModel } from './model.js';
import { createModel, MODEL_NAMES, type ModelName } from './registry.js';
import type { ProgressCallback } from '../runtime/progress-bar.js';

export { formatBacktestTable } from './backtest-table.js';
export type { HorizonMetrics } from './backtest-metrics.js';

/** The series to evaluate: `requests[i]` counts [startMs + i·intervalMs, + intervalMs). */
export interface BacktestTrace {
  intervalMs: number;
  startMs: number;
  requests: readonly number[];
  /** Shown in the result and the table when given. */
  file?: string;
}

/** Options of `runBacktest`. */
export interface RunBacktestOptions {
  /** Models to compare (registry names); the three baselines are always added in front. */
  models: readonly string[];
  /** Horizons to score, minutes, each a whole number of intervals >= 1, e.g. [5, 15]. */
  horizonsMinutes: readonly number[];
  /** Minutes between forecast origins, a whole number of intervals, e.g. 60. */
  stepMinutes: number;
  /** Days at the end of the trace that are scored, > 0; at least one day must remain before. */
  testDays: number;
  /** Past origins the `auto` policy averages over, integer >= 1; default two days of origins
   *  (48 at hourly origins: one day is only 24 heavy-tailed errors, too few to rank models). */
  selectionOrigins?: number;
  /** Called after each model's forecasts at every 24th origin and at its last: (done, total, model). */
  onProgress?: ProgressCallback;
}

/** What the `auto` policy picked at one horizon over the scored origins. */
export interface AutoChoice {
  horizonMinutes: number;
  /** The model picked at the last scored origin (what a service would run now). */
  latest: string;
  /** Scored origins at which each model was picked. */
  picks: Record<string, number>;
}

export interface BacktestResult {
  trace: { file?: string; startMs: number; intervals: number; testStartMs: number; origins: number };
  intervalSeconds: number;
  /** The selection policy's picks per horizon; its accuracy is the model named `auto`. */
  chosen: AutoChoice[];
  /** Baselines first, then the requested models, then `auto`. */
  models: { name: string; horizons: HorizonMetrics[] }[];
}

/** Name under which the selection policy's own accuracy is reported. */
export const AUTO_MODEL = 'auto';

/** One model at one horizon: a value per origin (NaN where the target lies beyond the trace). */
interface HorizonSeries {
  point: Float64Array;
  upper90: Float64Array;
  upper99: Float64Array;
}

/** One model: a HorizonSeries per horizon. */
type OriginForecasts = HorizonSeries[];

/**
 * Rolling-origin evaluation of forecast models on a trace (Tashman, IJF 16 (2000); FPP3 §5.10).
 *
 * Origins o (history lengths) run every `stepMinutes` over the last `testDays` days; at each
 * one every model sees only requests[0, o) (cut to its lookback) and forecasts max(horizon)
 * intervals at coverages 0.9 and 0.99; the target of horizon h minutes (s = h / interval
 * steps) is requests[o + s - 1]. Models are asked in time order, so the fitted ones refit only
 * when their cache says so (once per day of origins by default). Metrics are in
 * backtest-metrics.ts; MASE is scaled by the in-sample MAE of seasonal naive (daily) on the
 * part before the first scored origin.
 *
 * `auto` is the policy a service would run (auto-policy.ts): at each origin and horizon it
 * uses the model with the lowest MAE over the last `selectionOrigins` earlier origins whose
 * targets had already been observed (never hindsight). Its origins start one selection window
 * before the scored range (those forecasts are made but not scored), so it has a track record
 * at the first scored origin.
 *
 * Cost: models × origins × 2 forecasts (plus each model's refits). O(models × origins ×
 * selectionOrigins) for the policy.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for an unknown model, a horizon or step that is not
 *   a whole number of intervals, an interval that does not divide a day, or a test range that
 *   leaves less than one day before it
 */
export function runBacktest(trace: BacktestTrace, options: RunBacktestOptions): BacktestResult {
  const plan = planBacktest(trace, options);
  const names = [...new Set([...BASELINE_MODEL_NAMES, ...options.models.filter((name) => name !== AUTO_MODEL)])];
  const models = names.map((name) => buildModel(name, plan.intervalsPerDay));
  const total = models.length * plan.origins.length;
  const forecasts = models.map((model, m) =>
    forecastAtOrigins(model, trace.requests, plan, (k) => options.onProgress?.(m * plan.origins.length + k, total, names[m])),
  );
  const scale = seasonalNaiveScale(trace.requests, plan.intervalsPerDay, plan.testStart);
  const result: BacktestResult = {
    trace: {
      ...(trace.file === undefined ? {} : { file: trace.file }),
      startMs: trace.startMs,
      intervals: trace.requests.length,
      testStartMs: trace.startMs + plan.testStart * trace.intervalMs,
      origins: plan.origins.length - plan.firstScored,
    },
    intervalSeconds: trace.intervalMs / 1000,
    chosen: [],
    models: [],
  };
  for (let m = 0; m < models.length; m++) {
    const horizons = plan.steps.map((steps, j) => {
      const accumulator = new MetricsAccumulator();
      const series = (forecasts[m] as OriginForecasts)[j] as HorizonSeries;
      for (let k = plan.firstScored; k < plan.origins.length; k++) addOrigin(accumulator, trace.requests, plan, series, j, k);
      return accumulator.result(options.horizonsMinutes[j] as number, scale);
    });
    result.models.push({ name: names[m] as string, horizons });
  }
  const auto = plan.steps.map((_, j) => autoPolicy(names, forecasts, trace.requests, plan, j, scale, options.horizonsMinutes[j] as number));
  result.chosen = auto.map((entry) => entry.choice);
  result.models.push({ name: AUTO_MODEL, horizons: auto.map((entry) => entry.metrics) });
  return result;
}

interface Plan {
  intervalsPerDay: number;
  /** Steps (intervals ahead) of each horizon. */
  steps: number[];
  /** Origins in time order; the first `firstScored` only build the policy's track record. */
  origins: number[];
  firstScored: number;
  testStart: number;
  selectionOrigins: number;
}

function planBacktest(trace: BacktestTrace, options: RunBacktestOptions): Plan {
  const fail = (message: string): never => {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `backtest: ${message}`);
  };
  const { intervalMs } = trace;
  if (!(Number.isInteger(intervalMs) && intervalMs > 0 && 86_400_000 % intervalMs === 0)) {
    fail(`the trace interval must be a whole number of ms that divides one day, got ${intervalMs}`);
  }
  const intervalsPerDay = 86_400_000 / intervalMs;
  const toIntervals = (minutes: number, label: string): number => {
    const intervals = (minutes * 60_000) / intervalMs;
    return Number.isInteger(intervals) && intervals >= 1 ? intervals : fail(`${label} ${minutes} min is not a whole number (>= 1) of ${intervalMs / 1000}-s intervals`);
  };
  if (options.horizonsMinutes.length === 0) fail('horizonsMinutes must not be empty');
  const steps = options.horizonsMinutes.map((minutes) => toIntervals(minutes, 'horizon'));
  const step = toIntervals(options.stepMinutes, 'stepMinutes');
  if (!(options.testDays > 0)) fail(`testDays must be > 0, got ${options.testDays}`);
  const n = trace.requests.length;
  const testStart = n - Math.round(options.testDays * intervalsPerDay);
  if (testStart < intervalsPerDay) {
    fail(`testDays ${options.testDays} leaves ${Math.max(0, testStart)} intervals before the test range; need at least one day (${intervalsPerDay})`);
  }
  const selectionOrigins = options.selectionOrigins ?? Math.max(1, Math.round((2 * intervalsPerDay) / step));
  if (!(Number.isInteger(selectionOrigins) && selectionOrigins >= 1)) fail(`selectionOrigins must be an integer >= 1, got ${selectionOrigins}`);
  const origins: number[] = [];
  let firstScored = 0;
  for (let o = testStart - selectionOrigins * step; o < n; o += step) {
    if (o < 1) continue;
    if (o < testStart) firstScored++;
    origins.push(o);
  }
  return { intervalsPerDay, steps, origins, firstScored, testStart, selectionOrigins };
}

function buildModel(name: string, intervalsPerDay: number): ForecastModel {
  if (!(MODEL_NAMES as readonly string[]).includes(name)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `backtest: unknown forecast model "${name}"; expected one of ${MODEL_NAMES.join(', ')}`);
  }
  return createModel(name as ModelName, { seasonLength: intervalsPerDay, windowIntervals: 30, intervalsPerDay });
}

function forecastAtOrigins(model: ForecastModel, requests: readonly number[], plan: Plan, progress: (originsDone: number) => void): OriginForecasts {
  const horizon = Math.max(...plan.steps);
  const count = plan.origins.length;
  const make = (): Float64Array => new Float64Array(count).fill(Number.NaN);
  const result: OriginForecasts = plan.steps.map(() => ({ point: make(), upper90: make(), upper99: make() }));
  const lookback = model.lookbackIntervals;
  plan.origins.forEach((origin, k) => {
    const history = requests.slice(lookback === undefined ? 0 : Math.max(0, origin - lookback), origin);
    const at90 = model.forecast(history, horizon, 0.9);
    const at99 = model.forecast(history, horizon, 0.99);
    plan.steps.forEach((steps, j) => {
      const series = result[j] as HorizonSeries;
      series.point[k] = at90.point[steps - 1] as number;
      series.upper90[k] = at90.upper[steps - 1] as number;
      series.upper99[k] = at99.upper[steps - 1] as number;
    });
    if ((k + 1) % 24 === 0 || k === count - 1) progress(k + 1);
  });
  return result;
}

function addOrigin(acc: MetricsAccumulator, requests: readonly number[], plan: Plan, f: HorizonSeries, j: number, k: number): void {
  const target = (plan.origins[k] as number) + (plan.steps[j] as number) - 1;
  if (target >= requests.length) return;
  acc.add(requests[target] as number, f.point[k] as number, f.upper90[k] as number, f.upper99[k] as number);
}

/** The `auto` policy at horizon j (auto-policy.ts): its picks and the accuracy of the picked forecasts. */
function autoPolicy(
  names: readonly string[],
  forecasts: readonly OriginForecasts[],
  requests: readonly number[],
  plan: Plan,
  j: number,
  scale: number,
  horizonMinutes: number,
): { choice: AutoChoice; metrics: HorizonMetrics } {
  const steps = plan.steps[j] as number;
  const series = forecasts.map((f) => f[j] as HorizonSeries);
  const errors = series.map((f) =>
    plan.origins.map((origin, k) => {
      const target = origin + steps - 1;
      return target < requests.length ? Math.abs((requests[target] as number) - (f.point[k] as number)) : Number.NaN;
    }),
  );
  const chosen = autoPicks(errors, plan.origins, steps, plan.selectionOrigins);
  const calibrated = calibrateAuto(series, chosen, requests, plan.origins, steps);
  const picks: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  const accumulator = new MetricsAccumulator();
  let latest = names[0] as string;
  for (let k = plan.firstScored; k < plan.origins.length; k++) {
    latest = names[chosen[k] as number] as string;
    picks[latest] = (picks[latest] as number) + 1;
    addOrigin(accumulator, requests, plan, calibrated, j, k);
  }
  return { choice: { horizonMinutes, latest, picks }, metrics: accumulator.result(horizonMinutes, scale) };
}

/**
 * The auto policy's forecasts (the picked model's at each origin) with its p90 and p99 bounds
 * calibrated online by adaptive conformal inference (adaptive-width.ts), as the service does:
 * the width at origin k learns only from origins whose targets were observed before k.
 */
function calibrateAuto(series: readonly HorizonSeries[], chosen: readonly number[], requests: readonly number[], origins: readonly number[], steps: number): HorizonSeries {
  const count = origins.length;
  const out: HorizonSeries = { point: new Float64Array(count), upper90: new Float64Array(count), upper99: new Float64Array(count) };
  const width90 = new AdaptiveWidth(0.9);
  const width99 = new AdaptiveWidth(0.99);
  let observed = 0;
  for (let k = 0; k < count; k++) {
    const origin = origins[k] as number;
    for (; observed < k && (origins[observed] as number) + steps - 1 < origin; observed++) {
      const actual = requests[(origins[observed] as number) + steps - 1] as number;
      if (!Number.isFinite(actual)) continue;
      width90.observe(actual <= (out.upper90[observed] as number));
      width99.observe(actual <= (out.upper99[observed] as number));
    }
    const picked = series[chosen[k] as number] as HorizonSeries;
    const point = picked.point[k] as number;
    out.point[k] = point;
    out.upper90[k] = width90.bound(point, picked.upper90[k] as number);
    out.upper99[k] = Math.max(out.upper90[k] as number, width99.bound(point, picked.upper99[k] as number));
  }
  return out;
}
