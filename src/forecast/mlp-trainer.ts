import { FitCache, SIGNATURE_LENGTH, type CacheHit } from './fit-cache.js';
import { loadTensorFlow, type MlpBackendOption } from './mlp-backend.js';
import { prepareWindow, trainNetwork, type MlpSettings, type PreparedWindow } from './mlp-fit.js';
import type { MlpNetwork } from './mlp-network.js';

/** What one training run did. */
export interface MlpTrainReport {
  trained: boolean;
  /** Why no network was trained (short history, TensorFlow.js error). */
  reason?: string;
  /** Backend the run used, and why it is not the one asked for. */
  backend?: string;
  backendFallback?: string;
  rows: number;
  epochs: number;
  /** Mean masked squared error of the last epoch on the standardised scale. */
  loss: number;
  /** Wall time of the run, ms. */
  trainMs: number;
}

/** MlpSettings plus what the trainer itself needs. */
export interface TrainerSettings extends MlpSettings {
  /** Outputs a run produces at least. */
  horizon: number;
  /** A network is found for a history at most this many intervals after its training data. */
  maxNetworkAgeIntervals: number;
  backend: MlpBackendOption;
}

/**
 * Holds the `mlp` model's trained networks and runs its trainings, one at a time, in the order
 * asked (a queue of promises). Each run cuts its window from the history at once (so the caller
 * may change the history while it trains), loads TensorFlow.js (mlp-backend.ts), trains
 * (mlp-fit.ts) and stores the network in a FitCache anchored on the last values of that
 * history, where `lookup` finds it again for a longer history with the shift (newer intervals)
 * that places its time-of-day inputs. A run never rejects: failures become a report with a
 * reason, and the previous network stays.
 */
export class MlpTrainer {
  private readonly networks: FitCache<MlpNetwork>;
  private queue: Promise<unknown> = Promise.resolve();
  private runs = 0;
  private last: MlpTrainReport | undefined;
  private succeeded = false;

  constructor(private readonly s: TrainerSettings) {
    this.networks = new FitCache<MlpNetwork>(s.maxNetworkAgeIntervals);
  }

  /** True while a run is queued or training. */
  get busy(): boolean {
    return this.runs > 0;
  }

  /** The last finished run's report. */
  get lastTrain(): MlpTrainReport | undefined {
    return this.last;
  }

  /** True once any run has produced a network. */
  get trainedOnce(): boolean {
    return this.succeeded;
  }

  /** The newest network usable for `history`, and how many intervals it is behind. */
  lookup(history: readonly number[]): CacheHit<MlpNetwork> | undefined {
    return this.networks.lookup(history);
  }

  /**
   * Queues a run on the tail of `history` with at least `horizon` outputs.
   * @param background yield with unref'd timers, so a run nobody awaits never keeps the
   *   process alive (a worker thread stays alive through its message port anyway)
   */
  train(history: readonly number[], horizon: number, background: boolean): Promise<MlpTrainReport> {
    const prepared = prepareWindow(history, Math.max(horizon, this.s.horizon), this.s);
    const anchor = history.slice(Math.max(0, history.length - SIGNATURE_LENGTH));
    this.runs++;
    const run = this.queue.then(async () => {
      const report = await this.runOnce(prepared, anchor, background);
      this.last = report;
      this.succeeded ||= report.trained;
      return report;
    });
    this.queue = run.finally(() => this.runs--);
    return run;
  }

  private async runOnce(prepared: PreparedWindow | string, anchor: readonly number[], background: boolean): Promise<MlpTrainReport> {
    const started = performance.now();
    const report = (fields: Partial<MlpTrainReport>): MlpTrainReport => ({ trained: false, rows: 0, epochs: 0, loss: Number.NaN, trainMs: performance.now() - started, ...fields });
    if (typeof prepared === 'string') return report({ reason: prepared });
    try {
      const runtime = await loadTensorFlow(this.s.backend);
      const meta = { backend: runtime.backend, ...(runtime.fallback === undefined ? {} : { backendFallback: runtime.fallback }) };
      const { network, loss, rows } = await trainNetwork(runtime.tf, prepared, this.s, background ? yieldUnref : yieldToLoop);
      if (!Number.isFinite(loss)) return report({ ...meta, reason: `training diverged (loss ${loss})`, rows, epochs: this.s.epochs, loss });
      this.networks.store(anchor, network);
      return report({ ...meta, trained: true, rows, epochs: this.s.epochs, loss });
    } catch (err) {
      return report({ reason: `training failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}

/** Yields to the event loop between epochs. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Same, without keeping the process alive. */
function yieldUnref(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0).unref());
}
