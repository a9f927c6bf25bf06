import { basename, dirname } from 'node:path';
import { PrescaleError } from '../errors.js';
import { BASELINE_MODEL_NAMES } from './baselines.js';
import { MODEL_NAMES, type ModelName } from './registry.js';
import { backtestModelOptions, type Evaluation, type EvaluationRequest } from './store/evaluate.js';
import { evaluateInWorker } from './store/evaluate-thread.js';
import { FORMAT_VERSION, isModelId, toStoredMetrics, TRAINING_FILE, type ModelMeta, type TrainingFile } from './store/meta.js';
import { saveModel } from './store/model-store.js';
import { setCurrent } from './store/pointers.js';
import { seriesSha256 } from './store/series-hash.js';
import { pathExists } from './store/store-error.js';
import { readTrainingSeries, type TrainingSeries } from './store/training-series.js';
import { libraryVersions } from './store/versions.js';

/** Stages reported to `onProgress`, in order. */
export const TRAIN_STAGES = ['read data', 'backtest and fit', 'write model'] as const;
export type TrainStage = (typeof TRAIN_STAGES)[number];

/** Options of `trainModel`. */
export interface TrainOptions {
  /** A traffic log directory (data/traffic) or a timestamp,requests CSV. */
  from: string;
  /** A registry name (registry.ts MODEL_NAMES). */
  model: string;
  /** The model directory to create, `<modelsDir>/<id>`; must not exist. */
  out: string;
  /** Interval to train at, ms; default the data's own. */
  intervalMs?: number;
  /** Horizon the model is scored at, ms (rounded up to whole intervals); e.g. 15 min. */
  horizonMs: number;
  /** Scored days at the end of the data; default 1. */
  testDays?: number;
  /** Use only the last `days` days of data; default all. */
  days?: number;
  /** Also point `<modelsDir>/current` at the new model (the old one becomes `previous`). */
  setCurrent?: boolean;
  /** Clock for `createdAt`, epoch ms; default Date.now. */
  now?: () => number;
  /** Where the backtest runs; default a worker thread (evaluate-thread.ts). */
  evaluate?: (request: EvaluationRequest) => Promise<Evaluation>;
  onProgress?: (stage: TrainStage, index: number, total: number) => void;
}

export interface TrainResult {
  dir: string;
  meta: ModelMeta;
  /** Things the user should know: skipped log lines, missing intervals, a model fallback. */
  warnings: string[];
}

/**
 * `prescale train`: read the data (training-series.ts), backtest the model against the
 * baselines on the last `testDays` days with runBacktest and fit it on the whole series
 * (store/evaluate.ts, in a worker), then write `<out>/meta.json` and `training.json`
 * atomically (store/model-store.ts). Cost: that of the backtest.
 * @throws PrescaleError PRESCALE_ERR_CONFIG (rejection) for a bad id, an existing model, a
 *   missing source, too little data (runBacktest needs one day plus `testDays`); PRESCALE_ERR_TRACE
 *   for a malformed CSV
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const id = basename(options.out);
  const modelsDir = dirname(options.out);
  if (!isModelId(id)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `--out ${options.out}: the last part must be a model id (letters, digits, ".", "_", "-"; not "current" or "previous")`);
  }
  if (!(MODEL_NAMES as readonly string[]).includes(options.model)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `--model ${options.model}: unknown forecast model; expected one of ${MODEL_NAMES.join(', ')}`);
  }
  const model = options.model as ModelName;
  if (await pathExists(options.out)) throw new PrescaleError('PRESCALE_ERR_CONFIG', `--out ${options.out} already exists; choose a new model id`);
  const progress = (stage: TrainStage): void => options.onProgress?.(stage, TRAIN_STAGES.indexOf(stage), TRAIN_STAGES.length);
  progress('read data');
  const series = await readTrainingSeries(options.from, {
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.days === undefined ? {} : { days: options.days }),
  });
  progress('backtest and fit');
  const horizonIntervals = Math.max(1, Math.ceil(options.horizonMs / series.intervalMs));
  const testDays = options.testDays ?? 1;
  const evaluate = options.evaluate ?? evaluateInWorker;
  const evaluation = await evaluate({ series: { ...series, file: series.source }, models: [model], horizonIntervals, testDays });
  progress('write model');
  const createdAtMs = (options.now ?? Date.now)();
  const { meta, training } = buildModelMeta({ id, model, createdAtMs, series, evaluation, horizonIntervals, testDays });
  const dir = await saveModel(modelsDir, meta, training);
  if (options.setCurrent) await setCurrent(modelsDir, id);
  return { dir, meta, warnings: trainingWarnings(series, meta) };
}

/** Everything buildModelMeta needs. */
export interface MetaInput {
  id: string;
  model: ModelName;
  createdAtMs: number;
  series: Pick<TrainingSeries, 'source' | 'startMs' | 'intervalMs' | 'requests' | 'missingIntervals'>;
  evaluation: Evaluation;
  horizonIntervals: number;
  testDays: number;
}

type ModelTraits = { parameters: ModelMeta['fit']['parameters']; normalisation: ModelMeta['normalisation'] };

/**
 * What each model fits and on which scale, for meta.json. A model not listed here is recorded
 * as fitted on a scale of its own ('model-internal'); add its entry when it is added to
 * MODEL_NAMES so its meta.json says exactly what it does.
 */
const DEFAULT_TRAITS: ModelTraits = { parameters: 'refit-from-data', normalisation: 'model-internal' };
const MODEL_TRAITS: Partial<Record<ModelName, ModelTraits>> = {
  'naive': { parameters: 'none', normalisation: 'none' },
  'seasonal-naive': { parameters: 'none', normalisation: 'none' },
  'seasonal-naive-daily': { parameters: 'none', normalisation: 'none' },
  'seasonal-naive-weekly': { parameters: 'none', normalisation: 'none' },
  'linear-regression': { parameters: 'refit-from-data', normalisation: 'none' },
  'linear-regression-fourier': { parameters: 'refit-from-data', normalisation: 'per-fit-scale-transform' },
  'holt-winters': { parameters: 'refit-from-data', normalisation: 'per-fit-scale-transform' },
  'mstl': { parameters: 'refit-from-data', normalisation: 'log1p' },
};

/**
 * The meta.json of `input.model` (store/meta.ts) from an evaluation that included it, plus the
 * training file it describes. O(series) (the hash).
 */
export function buildModelMeta(input: MetaInput): { meta: ModelMeta; training: TrainingFile } {
  const { series, evaluation, model } = input;
  const { backtest } = evaluation;
  const scores = backtest.models.find((m) => m.name === model);
  if (scores === undefined) throw new PrescaleError('PRESCALE_ERR_CONFIG', `the evaluation did not score ${model}`);
  const baselines = Object.fromEntries(
    backtest.models
      .filter((m) => m.name !== model && (BASELINE_MODEL_NAMES as readonly string[]).includes(m.name))
      .map((m) => [m.name, m.horizons.map(toStoredMetrics)]),
  );
  const fit = evaluation.fits[model] ?? { lookbackIntervals: null, fallback: null };
  const meta: ModelMeta = {
    formatVersion: FORMAT_VERSION,
    id: input.id,
    model,
    createdAt: new Date(input.createdAtMs).toISOString(),
    intervalSeconds: series.intervalMs / 1000,
    horizonIntervals: input.horizonIntervals,
    params: backtestModelOptions(series.intervalMs),
    features: { input: 'requests-per-interval', lookbackIntervals: fit.lookbackIntervals },
    normalisation: (MODEL_TRAITS[model] ?? DEFAULT_TRAITS).normalisation,
    fit: { parameters: (MODEL_TRAITS[model] ?? DEFAULT_TRAITS).parameters, fallback: fit.fallback },
    data: {
      source: series.source,
      file: TRAINING_FILE,
      fromMs: series.startMs,
      toMs: series.startMs + series.requests.length * series.intervalMs,
      intervals: series.requests.length,
      missingIntervals: series.missingIntervals,
      sha256: seriesSha256(series.requests),
    },
    backtest: {
      testDays: input.testDays,
      stepMinutes: evaluation.stepMinutes,
      testStartMs: backtest.trace.testStartMs,
      origins: backtest.trace.origins,
      horizonMinutes: evaluation.horizonMinutes,
      horizons: scores.horizons.map(toStoredMetrics),
      baselines,
    },
    libraries: libraryVersions(),
  };
  return { meta, training: { startMs: series.startMs, intervalMs: series.intervalMs, requests: [...series.requests] } };
}

/** The scores of a model at its deciding horizon (meta.backtest.horizonMinutes). */
export function decidingScore(meta: ModelMeta): ModelMeta['backtest']['horizons'][number] {
  const { horizons, horizonMinutes } = meta.backtest;
  return horizons.find((h) => h.horizonMinutes === horizonMinutes) ?? (horizons[horizons.length - 1] as ModelMeta['backtest']['horizons'][number]);
}

/** A few lines for the terminal: what was trained on what, and how it scored against the baselines. */
export function formatTrainSummary(result: TrainResult): string {
  const { meta } = result;
  const h = decidingScore(meta);
  const fmt = (v: number | null): string => (v === null ? '-' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  const baselines = Object.entries(meta.backtest.baselines)
    .map(([name, list]) => `${name} ${fmt(list.find((b) => b.horizonMinutes === h.horizonMinutes)?.mae ?? null)}`)
    .join(', ');
  const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
  return [
    `${result.dir}: ${meta.model} at ${meta.intervalSeconds}-s intervals`,
    `data: ${meta.data.source}, ${iso(meta.data.fromMs)} to ${iso(meta.data.toMs)}, ${meta.data.intervals} intervals, sha256 ${meta.data.sha256.slice(0, 16)}…`,
    `backtest: last ${meta.backtest.testDays} day(s), ${meta.backtest.origins} origins; at ${h.horizonMinutes} min MAE ${fmt(h.mae)} (baselines: ${baselines}), MASE ${fmt(h.mase)}, p90 coverage ${fmt(h.coverageP90)}`,
    ...result.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

function trainingWarnings(series: TrainingSeries, meta: ModelMeta): string[] {
  const warnings = series.warnings.slice(0, 5);
  if (series.warnings.length > 5) warnings.push(`${series.warnings.length - 5} more traffic log lines skipped`);
  if (series.missingIntervals > 0) warnings.push(`${series.missingIntervals} intervals had no data and were counted as 0 requests`);
  if (series.skippedInputs > 0) warnings.push(`${series.skippedInputs} buckets of another interval length were not used`);
  if (meta.fit.fallback !== null) warnings.push(`${meta.model} fell back on the full series: ${meta.fit.fallback}`);
  return warnings;
}

