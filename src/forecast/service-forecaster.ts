import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { ForecasterThread, type ForecasterThreadOptions } from './forecaster-thread.js';
import type { ForecastResult } from './forecaster.js';
import type { ModelName } from './registry.js';
import { createRetrainer, type Retrainer } from './retrain.js';
import { resolveStoredModel, type ModelMeta } from './store/index.js';

/** How the service's forecaster reports the stored model it could not use (a warning metric). */
export type StoredModelProblem = 'missing' | 'corrupt' | 'mismatch' | null;

/**
 * The forecaster the service runs: a ForecasterThread (fits off the proxy's event loop) over
 * the stored model when one is pinned or current and usable, else over the configured
 * candidate models chosen by backtest. With `forecast.retrain.enabled` a node-cron retrainer
 * trains the candidates on the logged traffic and swaps the stored model only when it
 * backtests better; the running thread is then replaced without a gap. A stored model that is
 * missing, corrupt or does not match the config is reported through `onProblem` and the
 * statistical candidates keep forecasting.
 */
export class ServiceForecaster {
  private active: ForecasterThread;
  private version = 'candidates';
  private retrainer: Retrainer | undefined;

  private constructor(
    private readonly base: ForecasterThreadOptions,
    initial: ForecasterThread,
    private readonly logger: Logger,
  ) {
    this.active = initial;
  }

  static async start(config: Readonly<Config>, base: ForecasterThreadOptions, logger: Logger, onProblem: (problem: StoredModelProblem) => void): Promise<ServiceForecaster> {
    const f = config.forecast;
    const stored = await resolveStoredModel({ modelsDir: f.retrain.modelsDir, pinnedModel: f.pinnedModel, intervalSeconds: config.series.intervalMs / 1000 });
    let options = base;
    if (stored.ok) {
      options = ServiceForecaster.optionsFor(base, stored.loaded.meta);
      logger.info({ model: stored.loaded.meta.id, source: stored.source }, 'forecasting with the stored model');
      onProblem(null);
    } else {
      // before the first training "missing" is normal; a pinned or broken model is worth a warning
      if (stored.source === 'pinned' || stored.problem !== 'missing') logger.warn({ problem: stored.problem, source: stored.source }, stored.message);
      onProblem(stored.source === 'pinned' || stored.problem !== 'missing' ? stored.problem : null);
    }
    const service = new ServiceForecaster(base, new ForecasterThread(options), logger);
    if (stored.ok) service.version = stored.loaded.meta.id;
    if (f.retrain.enabled) {
      service.retrainer = createRetrainer({
        schedule: f.retrain.schedule,
        modelsDir: f.retrain.modelsDir,
        logDir: config.series.logDir,
        intervalMs: config.series.intervalMs,
        horizonIntervals: base.horizon,
        candidates: f.models,
        logger,
        onSwap: (meta) => {
          if (f.pinnedModel === undefined) service.swapTo(meta);
        },
      });
      service.retrainer.start();
    }
    return service;
  }

  /** `origin`: see Forecaster.forecast (online calibration of the upper bound). */
  forecast(history: readonly number[], origin?: number): Promise<ForecastResult> {
    return this.active.forecast(history, origin);
  }

  /** Forecast with a newly stored model from now on; the old thread closes after its last answer. */
  swapTo(meta: ModelMeta): void {
    const previous = this.active;
    this.active = new ForecasterThread(ServiceForecaster.optionsFor(this.base, meta));
    this.version = meta.id;
    this.logger.info({ model: meta.id }, 'forecaster swapped to the retrained model');
    setTimeout(() => void previous.close(), 5_000).unref();
  }

  /** Id of the stored model forecasting now (models/<id>), or "candidates" when the configured models are chosen by backtest. */
  get modelVersion(): string {
    return this.version;
  }

  async close(): Promise<void> {
    await this.retrainer?.stop();
    await this.active.close();
  }

  private static optionsFor(base: ForecasterThreadOptions, meta: ModelMeta): ForecasterThreadOptions {
    return { ...base, models: [meta.model as ModelName], seasonLength: meta.params.seasonLength, windowIntervals: meta.params.windowIntervals };
  }
}
