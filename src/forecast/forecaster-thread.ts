import { Worker } from 'node:worker_threads';
import { workerEntry } from '../runtime/module-entry.js';
import { PrescaleError } from '../errors.js';
import type { ForecastResult } from './forecaster.js';
import type { ModelName } from './registry.js';

export interface ForecasterThreadOptions {
  models: readonly ModelName[];
  /** Intervals per day (the season of the seasonal models). */
  seasonLength: number;
  windowIntervals: number;
  horizon: number;
  quantile: number;
  backtestOrigins: number;
  reselectEvery: number;
}

/**
 * A Forecaster running in a worker thread (src/forecast/forecast-worker.ts), so fitting and
 * backtesting never block the proxy. `forecast(history)` copies the history (counts per
 * interval) into the worker and resolves with the same ForecastResult the in-process
 * Forecaster returns. Requests are answered in order.
 * @throws PrescaleError PRESCALE_ERR_CONFIG (rejects) when the worker reports an error.
 */
export class ForecasterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: ForecastResult) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(options: ForecasterThreadOptions) {
    const entry = workerEntry('./forecast-worker', import.meta.url);
    this.worker = new Worker(entry.url, { argv: entry.argv, workerData: options });
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; result?: ForecastResult; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined || msg.result === undefined) p.reject(new PrescaleError('PRESCALE_ERR_CONFIG', `forecaster: ${msg.error ?? 'no result'}`));
      else p.resolve(msg.result);
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`forecaster worker exited with code ${code}`)));
  }

  /** `origin`: see Forecaster.forecast (online calibration of the upper bound). */
  forecast(history: readonly number[], origin?: number): Promise<ForecastResult> {
    const id = this.nextId++;
    const copy = Float64Array.from(history);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'forecast', id, history: copy, origin }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
