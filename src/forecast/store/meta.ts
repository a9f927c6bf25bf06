import { z } from 'zod';
import type { HorizonMetrics } from '../backtest-metrics.js';
import { MODEL_NAMES } from '../registry.js';

/**
 * The contract of a stored model (STYLE.md §12): the schema of `models/<id>/meta.json`.
 *
 * prescale's models do not export fitted weights (ForecastModel has only `forecast`); each one
 * refits on the live history itself (once a day, fit-cache.ts). So a stored model is its
 * registry name plus the options `createModel` needs (`params`), the training series it was
 * scored on (`training.json`, hashed in `data.sha256`, from which every fit is reproducible:
 * the fits are deterministic), and its backtest scores. Bump FORMAT_VERSION when a field
 * changes meaning; a model of another version is refused, never guessed at.
 */
export const FORMAT_VERSION = 1;

/** File names inside `models/<id>/`. */
export const META_FILE = 'meta.json';
export const TRAINING_FILE = 'training.json';

/** A model id: a directory name under models/, never a pointer or a temp name. */
export const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Names in models/ that are pointers, not models. */
export const POINTER_NAMES = ['current', 'previous'] as const;
export type PointerName = (typeof POINTER_NAMES)[number];

const modelId = z
  .string()
  .regex(MODEL_ID, 'a model id is letters, digits, ".", "_" and "-", starting with a letter or digit')
  .refine((id) => !(POINTER_NAMES as readonly string[]).includes(id), 'a model id cannot be "current" or "previous"');

/** A metric that may be +Infinity in memory (MASE over a constant series); null in JSON. */
const metric = z.number().nullable();
const horizonMetrics = z.object({
  horizonMinutes: z.number().positive(),
  mae: metric,
  rmse: metric,
  smape: metric,
  mase: metric,
  coverageP90: metric,
  coverageP99: metric,
  n: z.number().int().min(0),
});

export const modelMetaSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  id: modelId,
  /** Registry name (registry.ts MODEL_NAMES). */
  model: z.enum(MODEL_NAMES),
  createdAt: z.iso.datetime(),
  /** Length of one interval of the series the model reads, seconds. */
  intervalSeconds: z.number().positive(),
  /** Steps ahead the model was chosen for (the scaler's horizon when trained by the retrainer). */
  horizonIntervals: z.number().int().min(1),
  /** Options of `createModel` (registry.ts) that rebuild the model. */
  params: z.object({
    intervalsPerDay: z.number().int().min(1),
    seasonLength: z.number().int().min(1),
    windowIntervals: z.number().int().min(3),
  }),
  /** What the model reads: requests per interval, at most `lookbackIntervals` (null: all). */
  features: z.object({
    input: z.literal('requests-per-interval'),
    lookbackIntervals: z.number().int().positive().nullable(),
  }),
  /** 'none': raw counts; 'per-fit-scale-transform': the model picks log, √ or raw per fit
   *  (scale-transform.ts); 'log1p': the model fits on log(1 + requests); 'model-internal': the
   *  model scales its inputs itself (see its doc comment). */
  normalisation: z.enum(['none', 'per-fit-scale-transform', 'log1p', 'model-internal']),
  fit: z.object({
    /** 'none': nothing is fitted (baselines); 'refit-from-data': parameters are fitted on the history. */
    parameters: z.enum(['none', 'refit-from-data']),
    /** Set when the model fell back on the full training series (e.g. history too short); says why. */
    fallback: z.string().nullable(),
  }),
  data: z.object({
    /** Traffic log directory, trace CSV or Prometheus URL the series came from. */
    source: z.string().min(1),
    file: z.literal(TRAINING_FILE),
    /** The series covers [fromMs, toMs). */
    fromMs: z.number().int(),
    toMs: z.number().int(),
    intervals: z.number().int().min(1),
    /** Intervals with no data that were counted as 0 requests. */
    missingIntervals: z.number().int().min(0),
    /** series-hash.ts: SHA-256 of the counts as little-endian float64, hex. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  /** runBacktest scores on the most recent data; `horizons` are this model's. */
  backtest: z.object({
    testDays: z.number().positive(),
    stepMinutes: z.number().positive(),
    testStartMs: z.number().int(),
    origins: z.number().int().min(0),
    /** The horizon that decides (horizonIntervals in minutes, rounded up to a scorable one). */
    horizonMinutes: z.number().positive(),
    horizons: z.array(horizonMetrics).min(1),
    baselines: z.record(z.string(), z.array(horizonMetrics)),
  }),
  libraries: z.object({ node: z.string(), prescale: z.string(), 'simple-statistics': z.string() }),
});

export type ModelMeta = z.output<typeof modelMetaSchema>;
export type StoredHorizonMetrics = z.output<typeof horizonMetrics>;

/** The training series file: `requests[i]` counts [startMs + i·intervalMs, + intervalMs). */
export const trainingFileSchema = z.object({
  startMs: z.number().int(),
  intervalMs: z.number().int().positive(),
  requests: z.array(z.number().min(0)),
});
export type TrainingFile = z.output<typeof trainingFileSchema>;

/** HorizonMetrics as stored: non-finite values become null (JSON has no Infinity). */
export function toStoredMetrics(m: HorizonMetrics): StoredHorizonMetrics {
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return {
    horizonMinutes: m.horizonMinutes,
    mae: finite(m.mae),
    rmse: finite(m.rmse),
    smape: finite(m.smape),
    mase: finite(m.mase),
    coverageP90: finite(m.coverageP90),
    coverageP99: finite(m.coverageP99),
    n: m.n,
  };
}

/** True when `id` can name a model directory. */
export function isModelId(id: string): boolean {
  return modelId.safeParse(id).success;
}
