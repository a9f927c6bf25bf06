/**
 * Worker-thread entry of ForecasterThread: holds one Forecaster and answers forecast requests,
 * so model fits (Holt-Winters, Fourier regression: up to about a second once a day) never run on
 * the proxy's event loop. The thread runs at nice SERVICE_THREAD_NICE, so a fit yields the core to
 * the event loop whenever both want it (src/runtime/thread-priority.ts).
 *
 * Messages in: `{ type: 'forecast', id, history: Float64Array }`; out: `{ id, result }` or
 * `{ id, error }`. The Forecaster is built from `workerData` (ForecasterThreadOptions).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Forecaster } from './forecaster.js';
import { createModel, type ModelName } from './registry.js';
import type { ForecasterThreadOptions } from './forecaster-thread.js';
import { lowerThreadPriority, SERVICE_THREAD_NICE } from '../runtime/thread-priority.js';

lowerThreadPriority(SERVICE_THREAD_NICE);

const o = workerData as ForecasterThreadOptions;
const forecaster = new Forecaster({
  models: o.models.map((name: ModelName) => createModel(name, { seasonLength: o.seasonLength, windowIntervals: o.windowIntervals, intervalsPerDay: o.seasonLength })),
  horizon: o.horizon,
  quantile: o.quantile,
  backtestOrigins: o.backtestOrigins,
  reselectEvery: o.reselectEvery,
});

parentPort?.on('message', (msg: { type: 'forecast'; id: number; history: Float64Array; origin?: number }) => {
  try {
    const result = forecaster.forecast(Array.from(msg.history), msg.origin);
    parentPort?.postMessage({ id: msg.id, result });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
