import { PrescaleError } from '../errors.js';
import { createBaseline } from './baselines.js';
import { FitCache, SIGNATURE_LENGTH, uniqueShift } from './fit-cache.js';
import type { MlpBackendOption } from './mlp-backend.js';
import { minimumHistory } from './mlp-fit.js';
import { inputReach } from './mlp-features.js';
import { predictNetwork, type MlpNetwork } from './mlp-network.js';
import { MlpTrainer, type MlpTrainReport, type TrainerSettings } from './mlp-trainer.js';
import { assertForecastArgs, assertPositiveInteger, safeForecast, type Forecast, type ForecastModel } from './model.js';
import { fromScoreScale, toScoreScale } from './scale-transform.js';

export { loadTensorFlow, type MlpBackendOption } from './mlp-backend.js';
export type { MlpTrainReport } from './mlp-trainer.js';

/** Options of `mlp`; counts are in intervals unless they say days. */
export interface MlpOptions {
  /** D: intervals in one day, integer >= 2 (1440 at 1-minute intervals). */
  intervalsPerDay: number;
  /** L: recent values the network sees; default one hour (D / 24, >= 4). */
  lagWindow?: number;
  /** Units of the hidden ReLU layer; default 32. */
  hidden?: number;
  /** Passes over the training rows; default 30. */
  epochs?: number;
  /** Seed of the initial weights and of the shuffles; default 1. */
  seed?: number;
  /** Outputs (steps ahead) a training run produces at least; default one hour (D / 24, >= 1). */
  horizon?: number;
  /** Also feed each target's value a day before (seasonal lags); default false (no better on
   *  the shared traces, and one input per step more). */
  seasonalLags?: boolean;
  /** Training window in days, calibration included; default 15 (two weeks before the
   *  calibration day, the least with which day-of-week inputs are used). */
  trainingDays?: number;
  /** Split-conformal calibration window at the end of the training window; default D. */
  calibrationIntervals?: number;
  /** Training rows at most (origins taken with a stride beyond that); default 6 000. */
  maxTrainingRows?: number;
  /** Mini-batch rows; default 64. */
  batchSize?: number;
  /** Adam step size; default 0.003. */
  learningRate?: number;
  /** Start a background training from `forecast` when the network is missing, a day old or too
   *  short for the horizon; default true (what the forecaster worker relies on). */
  autoTrain?: boolean;
  /** Retrain after this many newer intervals; default D. */
  retrainEveryIntervals?: number;
  /** A network older than this is not used; default 2·D. */
  maxNetworkAgeIntervals?: number;
  /** TensorFlow.js backend (mlp-backend.ts); default 'auto'. */
  backend?: MlpBackendOption;
}

/** The `mlp` ForecastModel plus its asynchronous training. */
export interface MlpModel extends ForecastModel {
  /**
   * Trains a network on the tail of `history` (copied at once) and makes it the one `forecast`
   * uses. Runs are queued, one at a time. Never rejects on data: a history that cannot train,
   * or a TensorFlow.js error, resolves with `trained: false` and a reason, keeping the old network.
   * @param horizon outputs at least; default the model's `horizon` option
   */
  train(history: readonly number[], horizon?: number): Promise<MlpTrainReport>;
  /** The last run's report, or undefined before the first run ends. */
  readonly lastTrain: MlpTrainReport | undefined;
}

const NAME = 'mlp';

/**
 * A small multilayer perceptron (one hidden ReLU layer) that forecasts the next H intervals at
 * once (direct multi-output) from a lag window of recent values, the level, and time-of-day and
 * day-of-week sin/cos (mlp-features.ts: log(1 + y), standardised, relative to the recent level;
 * day of week only when two weeks precede the calibration window). Trained with TensorFlow.js
 * (mlp-train.ts; backend from mlp-backend.ts: tfjs-node if installed, else WASM, else CPU) on
 * the last `trainingDays`, at most `maxTrainingRows` rows, deterministic for a seed and
 * backend. Upper bound: split conformal per step on √ scale from the last
 * `calibrationIntervals`, held out of training (prediction-intervals.ts). Source: Hyndman &
 * Athanasopoulos, FPP3 §12.4 (NNAR); Taieb & Hyndman 2012 (direct multi-output).
 *
 * Training is asynchronous and takes seconds; `forecast` is synchronous. So `forecast` uses the
 * last trained network (plain arrays, mlp-network.ts), anchored to the history it was trained
 * on by content (fit-cache.ts), which also gives its time-of-day phase; `train` replaces it.
 * With `autoTrain` (the default) `forecast` starts a training in the background when it has no
 * network for this history, the network is `retrainEveryIntervals` old, or it has fewer outputs
 * than asked: at most one attempt per `retrainEveryIntervals`, and none while the last 64 values
 * repeat within that span (a flat zero tail at night cannot anchor a network in time). In the
 * service the Forecaster lives in a worker thread (forecast-worker.ts), so this training runs
 * in that worker, off the proxy's event loop, yielding between epochs so the worker keeps
 * answering forecasts meanwhile. A background run never keeps a process alive by itself.
 *
 * Fallback to `seasonal-naive-daily` (then `naive`), with a reason, e.g. "mlp not trained yet":
 * no network yet, a network that does not match the history (older than
 * `maxNetworkAgeIntervals`, or other data), or one with fewer outputs than `horizon`.
 * Cost of a forecast: O(inputs × hidden + hidden × H) plus the cache lookup
 * O(maxNetworkAgeIntervals). Training: see trainWeights (about 2.5 s for two weeks of minutes).
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a bad option (at creation) or a bad horizon or
 *   quantile (per call). Never on data.
 */
export function createMlp(options: MlpOptions): MlpModel {
  const s = resolveSettings(options);
  const day = s.intervalsPerDay;
  const retrainEvery = options.retrainEveryIntervals ?? day;
  assertPositiveInteger(`${NAME} retrainEveryIntervals`, retrainEvery);
  if (retrainEvery > s.maxNetworkAgeIntervals) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${NAME} retrainEveryIntervals (${retrainEvery}) must not exceed maxNetworkAgeIntervals (${s.maxNetworkAgeIntervals})`);
  }
  const autoTrain = options.autoTrain ?? true;
  const fallback = createBaseline('seasonal-naive-daily', { intervalsPerDay: day });
  const trainer = new MlpTrainer(s);
  const attempts = new FitCache<number>(retrainEvery, 1);

  /** Starts a background run when the network is missing, old or short, at most once per retrainEvery. */
  const maybeTrain = (history: readonly number[], horizon: number, hit: ReturnType<MlpTrainer['lookup']>): void => {
    const stale = hit === undefined || hit.shift >= retrainEvery || hit.entry.value.layout.horizon < horizon;
    if (!autoTrain || !stale || trainer.busy || history.length < minimumHistory(s, Math.max(horizon, s.horizon))) return;
    if (attempts.lookup(history) !== undefined) return;
    // A tail that repeats within a day (e.g. 64 zeros at night) could not place a network, nor
    // this attempt, in time later: wait for one that can, instead of retraining on every call.
    if (uniqueShift(history, history.slice(-SIGNATURE_LENGTH), retrainEvery - 1) === undefined) return;
    attempts.store(history, horizon);
    void trainer.train(history, horizon, true);
  };

  /** Why no network can forecast this history, or undefined when `network` can. */
  const unusable = (network: MlpNetwork | undefined, history: readonly number[], horizon: number): string | undefined => {
    if (network === undefined) {
      if (trainer.trainedOnce) return `the mlp network does not match this history (older than ${s.maxNetworkAgeIntervals} intervals, or other data)`;
      const needed = minimumHistory(s, Math.max(horizon, s.horizon));
      if (history.length < needed) return `mlp not trained yet (history ${history.length} < ${needed} needed to train)`;
      const failed = trainer.lastTrain?.reason;
      return failed === undefined ? 'mlp not trained yet' : `mlp not trained yet (${failed})`;
    }
    if (network.layout.horizon < horizon) return `the mlp network forecasts ${network.layout.horizon} steps, ${horizon} asked`;
    const reach = inputReach(network.layout);
    return history.length < reach ? `history ${history.length} < the network's input reach (${reach})` : undefined;
  };

  const forecast = (history: readonly number[], horizon: number, quantile: number): Forecast => {
    assertForecastArgs(horizon, quantile);
    if (horizon === 0) return safeForecast(NAME, [], [], quantile);
    const hit = trainer.lookup(history);
    maybeTrain(history, horizon, hit);
    const network = hit?.entry.value;
    const reason = unusable(network, history, horizon);
    if (reason !== undefined || network === undefined) {
      const inner = fallback.forecast(history, horizon, quantile);
      const why = [`${reason ?? 'no network'}${trainer.busy ? ' (training)' : ''}; using ${fallback.name}`, inner.fallback];
      return safeForecast(NAME, inner.point, inner.upper, quantile, why.filter(Boolean).join('; '));
    }
    const { point, allGaps } = predictNetwork(network, history, horizon, hit?.shift ?? 0);
    const offsets = network.offsets.offsets(horizon, quantile);
    const upper = point.map((value, i) => fromScoreScale(toScoreScale(value) + (offsets[i] as number)));
    return safeForecast(NAME, point, upper, quantile, allGaps ? 'the inputs are all gaps; forecasting from zeros' : undefined);
  };

  return {
    name: NAME,
    lookbackIntervals: Math.max(s.trainingIntervals, s.maxNetworkAgeIntervals + SIGNATURE_LENGTH),
    forecast,
    train(history, horizon = s.horizon) {
      assertPositiveInteger(`${NAME} training horizon`, horizon);
      return trainer.train(history, horizon, false);
    },
    get lastTrain() {
      return trainer.lastTrain;
    },
  };
}

function resolveSettings(options: MlpOptions): TrainerSettings {
  const day = options.intervalsPerDay;
  assertPositiveInteger(`${NAME} intervalsPerDay`, day, 2);
  const settings: TrainerSettings = {
    intervalsPerDay: day,
    lagWindow: options.lagWindow ?? Math.max(4, Math.round(day / 24)),
    horizon: options.horizon ?? Math.max(1, Math.round(day / 24)),
    seasonalLags: options.seasonalLags ?? false,
    trainingIntervals: Math.round((options.trainingDays ?? 15) * day),
    calibrationIntervals: options.calibrationIntervals ?? day,
    maxTrainingRows: options.maxTrainingRows ?? 6000,
    maxNetworkAgeIntervals: options.maxNetworkAgeIntervals ?? 2 * day,
    hidden: options.hidden ?? 32,
    epochs: options.epochs ?? 30,
    batchSize: options.batchSize ?? 64,
    learningRate: options.learningRate ?? 0.003,
    seed: options.seed ?? 1,
    backend: options.backend ?? 'auto',
  };
  for (const key of ['lagWindow', 'horizon', 'calibrationIntervals', 'maxTrainingRows', 'maxNetworkAgeIntervals', 'hidden', 'epochs', 'batchSize'] as const) {
    assertPositiveInteger(`${NAME} ${key}`, settings[key]);
  }
  assertPositiveInteger(`${NAME} seed`, settings.seed, 0);
  const needed = minimumHistory(settings, settings.horizon);
  assertPositiveInteger(`${NAME} training window (trainingDays × intervalsPerDay, >= lags + 2 days + horizon)`, settings.trainingIntervals, needed);
  if (!(settings.learningRate > 0 && Number.isFinite(settings.learningRate))) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${NAME} learningRate must be a finite number > 0, got ${settings.learningRate}`);
  }
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(settings.backend)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${NAME} backend must be auto, tensorflow, wasm or cpu, got ${String(settings.backend)}`);
  }
  return settings;
}
