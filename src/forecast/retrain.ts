import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createTask, validate, type ScheduledTask } from 'node-cron';
import { PrescaleError } from '../errors.js';
import type { ModelName } from './registry.js';
import type { Evaluation, EvaluationRequest } from './store/evaluate.js';
import { SERVICE_THREAD_NICE } from '../runtime/thread-priority.js';
import { evaluateInWorker } from './store/evaluate-thread.js';
import type { ModelMeta } from './store/meta.js';
import { resolveStoredModel, saveModel } from './store/model-store.js';
import { setCurrent } from './store/pointers.js';
import { isNotFound, messageOf } from './store/store-error.js';
import { decideSwap, type RetrainReason } from './store/swap-decision.js';
import { readTrainingSeries, type TrainingSeries } from './store/training-series.js';
import { buildModelMeta } from './train.js';

export { decideSwap, type RetrainReason, type SwapDecision } from './store/swap-decision.js';

/** The logger the retrainer writes to; pino's Logger fits. */
export interface RetrainLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RetrainerOptions {
  /** Cron expression (node-cron: 5 or 6 fields); default '0 3 * * *' (03:00 every day). */
  schedule?: string;
  /** IANA time zone of the schedule; default the process's. */
  timezone?: string;
  /** The models directory (models/<id>/, models/current, models/previous). */
  modelsDir: string;
  /** The traffic log directory (data/traffic). */
  logDir: string;
  /** Interval of the series the service forecasts (series.intervalMs). */
  intervalMs: number;
  /** The scaler's horizon in intervals: the MAE at this horizon decides. */
  horizonIntervals: number;
  /** Model names to train on each run (e.g. config forecast.models). */
  candidates: readonly ModelName[];
  /** Called after `current` points at a new model (rebuild the forecaster with it). */
  onSwap?: (meta: ModelMeta) => void | Promise<void>;
  logger?: RetrainLogger;
  /** Clock, epoch ms; default Date.now. */
  now?: () => number;
  /** Days of logged traffic read per run; default 28 (the fitted models look back 21). */
  historyDays?: number;
  /** Scored days at the end (the most recent data); default 1. */
  testDays?: number;
  /** Fraction by which a candidate's MAE must beat the current's; default 0 (any lower MAE). */
  minImprovement?: number;
  /** Where the backtest runs; default a worker thread, off the proxy's event loop. */
  evaluate?: (request: EvaluationRequest) => Promise<Evaluation>;
}

/** One model's MAE at the deciding horizon in this run (null: not scored). */
export interface RetrainScore {
  model: string;
  role: 'candidate' | 'current';
  mae: number | null;
}

/** What one run did and why (STYLE.md §3): the report is a log line and what tests assert on. */
export interface RetrainReport {
  atMs: number;
  decision: 'swapped' | 'kept' | 'skipped';
  reason: RetrainReason;
  detail: string;
  /** Intervals of logged traffic the run read. */
  intervals: number;
  horizonMinutes: number | null;
  scores: RetrainScore[];
  /** The model that was current when the run started, if usable. */
  current: { id: string; model: string } | null;
  /** Why `current` was not usable (missing, corrupt, other interval), if it was not. */
  currentProblem: string | null;
  /** The new current model when decision is 'swapped'. */
  swappedTo: { id: string; dir: string; model: string } | null;
}

export interface Retrainer {
  readonly schedule: string;
  /** Start the cron schedule. */
  start(): void;
  /** Stop the schedule and wait for a run in progress. */
  stop(): Promise<void>;
  /** Run now (what the schedule runs); a call during a run returns that run's report. */
  runOnce(): Promise<RetrainReport>;
}

/**
 * Scheduled retraining. Each run reads the last `historyDays` days of logged traffic, backtests
 * every candidate and the current model together on the most recent `testDays` day(s)
 * (store/evaluate.ts: runBacktest, same origins for all, in a worker), and when the best
 * candidate's MAE at the scaler's horizon is lower than the current model's (decideSwap), saves
 * it as a new model directory and points `current` at it; the replaced model stays as
 * `previous` (pointers.ts rollback). A run never throws: problems become a 'skipped' report.
 * @throws PrescaleError PRESCALE_ERR_CONFIG at creation for an invalid cron expression, no
 *   candidates or a bad number
 */
export function createRetrainer(options: RetrainerOptions): Retrainer {
  const schedule = options.schedule ?? '0 3 * * *';
  if (!validate(schedule)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `forecast.retrain.schedule: "${schedule}" is not a cron expression like "0 3 * * *"`);
  }
  if (options.candidates.length === 0) throw new PrescaleError('PRESCALE_ERR_CONFIG', 'retraining needs at least one candidate model');
  if (!(Number.isInteger(options.horizonIntervals) && options.horizonIntervals >= 1)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `retraining horizonIntervals must be an integer >= 1, got ${options.horizonIntervals}`);
  }
  const logger = options.logger;
  let inflight: Promise<RetrainReport> | undefined;
  let task: ScheduledTask | undefined;

  const runOnce = (): Promise<RetrainReport> => {
    inflight ??= runRetrain(options).finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  return {
    schedule,
    start() {
      if (task !== undefined) return;
      task = createTask(schedule, async () => {
        const report = await runOnce();
        const level = report.reason === 'error' ? 'error' : 'info';
        logger?.[level]({ retrain: report }, `model retraining: ${report.decision} (${report.reason})`);
      }, { name: 'prescale-retrain', noOverlap: true, ...(options.timezone === undefined ? {} : { timezone: options.timezone }) });
      void task.start();
    },
    async stop() {
      await task?.destroy();
      task = undefined;
      await inflight?.catch(() => undefined);
    },
    runOnce,
  };
}

async function runRetrain(options: RetrainerOptions): Promise<RetrainReport> {
  const atMs = (options.now ?? Date.now)();
  const report: RetrainReport = {
    atMs, decision: 'skipped', reason: 'error', detail: '', intervals: 0, horizonMinutes: null, scores: [], current: null, currentProblem: null, swappedTo: null,
  };
  try {
    await retrainInto(report, options);
  } catch (err) {
    report.decision = 'skipped';
    report.reason = 'error';
    report.detail = messageOf(err);
    options.logger?.error({ err }, 'model retraining failed');
  }
  return report;
}

async function retrainInto(report: RetrainReport, options: RetrainerOptions): Promise<void> {
  const stored = await resolveStoredModel({ modelsDir: options.modelsDir, intervalSeconds: options.intervalMs / 1000 });
  const current = stored.ok ? stored.loaded.meta : null;
  if (stored.ok) report.current = { id: stored.loaded.meta.id, model: stored.loaded.meta.model };
  else report.currentProblem = stored.message;
  const scored = await readAndEvaluate(report, options, current?.model);
  if (scored === undefined) return;
  const { series, evaluation } = scored;
  const maeOf = (model: string): number | null => {
    const h = evaluation.backtest.models.find((m) => m.name === model)?.horizons.find((x) => x.horizonMinutes === evaluation.horizonMinutes);
    return h !== undefined && h.n > 0 && Number.isFinite(h.mae) ? h.mae : null;
  };
  const candidates = [...new Set(options.candidates)].map((model) => ({ model, mae: maeOf(model) }));
  const currentScore = current === null ? null : { model: current.model, mae: maeOf(current.model) };
  report.scores = [
    ...candidates.map((c) => ({ ...c, role: 'candidate' as const })),
    ...(currentScore === null ? [] : [{ ...currentScore, role: 'current' as const }]),
  ];
  const decision = decideSwap({ candidates, current: currentScore, minImprovement: options.minImprovement ?? 0 });
  Object.assign(report, { reason: decision.reason, detail: decision.detail });
  if (!decision.swap || decision.best === undefined) {
    report.decision = decision.reason === 'current-as-good' ? 'kept' : 'skipped';
    return;
  }
  await swapIn(report, options, decision.best as ModelName, series, evaluation);
}

/** The logged traffic and its evaluation, or undefined (report filled in) when there is too little. */
async function readAndEvaluate(
  report: RetrainReport,
  options: RetrainerOptions,
  currentModel: ModelName | undefined,
): Promise<{ series: TrainingSeries; evaluation: Evaluation } | undefined> {
  const { intervalMs } = options;
  const models = [...new Set([...options.candidates, ...(currentModel === undefined ? [] : [currentModel])])];
  const evaluate = options.evaluate ?? ((request: EvaluationRequest) => evaluateInWorker(request, { nice: SERVICE_THREAD_NICE }));
  try {
    const endMs = Math.floor(report.atMs / intervalMs) * intervalMs;
    const series = await readTrainingSeries(options.logDir, { kind: 'traffic-log', intervalMs, endMs, days: options.historyDays ?? 28 });
    report.intervals = series.requests.length;
    const evaluation = await evaluate({ series: { ...series, file: series.source }, models, horizonIntervals: options.horizonIntervals, testDays: options.testDays ?? 1 });
    report.horizonMinutes = evaluation.horizonMinutes;
    return { series, evaluation };
  } catch (err) {
    // no or too little logged traffic (or an interval runBacktest cannot use): wait for more data
    if (!(err instanceof PrescaleError && err.code === 'PRESCALE_ERR_CONFIG')) throw err;
    Object.assign(report, { decision: 'skipped', reason: 'not-enough-history', detail: err.message });
    return undefined;
  }
}

/** Save `model` as a new model directory, point `current` at it and tell onSwap. */
async function swapIn(report: RetrainReport, options: RetrainerOptions, model: ModelName, series: TrainingSeries, evaluation: Evaluation): Promise<void> {
  const { modelsDir } = options;
  const id = await freshId(modelsDir, model, report.atMs);
  const testDays = options.testDays ?? 1;
  const built = buildModelMeta({ id, model, createdAtMs: report.atMs, series, evaluation, horizonIntervals: options.horizonIntervals, testDays });
  const dir = await saveModel(modelsDir, built.meta, built.training);
  await setCurrent(modelsDir, id);
  report.decision = 'swapped';
  report.swappedTo = { id, dir, model };
  try {
    await options.onSwap?.(built.meta);
  } catch (err) {
    options.logger?.error({ err, id }, 'retraining swapped the current model but onSwap failed');
  }
}

/** `<model>-<UTC time>` (e.g. holt-winters-20250310T030000Z), with -2, -3… if it exists. */
async function freshId(modelsDir: string, model: string, atMs: number): Promise<string> {
  const base = `${model}-${new Date(atMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    try {
      await stat(join(modelsDir, id));
    } catch (err) {
      if (isNotFound(err)) return id;
      throw err;
    }
  }
}
