import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../runtime/module-entry.js';
import { ERROR_CODES, PrescaleError, type ErrorCode } from '../../errors.js';
import type { Evaluation, EvaluationRequest } from './evaluate.js';

/** The worker's one message: the evaluation, or the error it threw (PrescaleError fields kept). */
export type EvaluationMessage =
  | { ok: true; evaluation: Evaluation }
  | { ok: false; code?: string; message: string; details?: Record<string, unknown> };

/** What the worker receives: the request, and the nice value to run at (omitted: the process's). */
export interface EvaluationWorkerData {
  request: EvaluationRequest;
  nice?: number;
}

/**
 * evaluateModels (evaluate.ts) in a one-shot worker thread (evaluate-worker.ts), so a
 * backtest and the fits (seconds to minutes) never block the proxy's event loop or a progress
 * bar. The series is copied into the worker; the worker exits after answering. `options.nice`
 * (0..19) lowers the worker thread's priority so it yields the CPU to the proxy (the service's
 * scheduled retrain passes 10; the CLI leaves it).
 * @throws PrescaleError (rejection) with the worker's code when evaluateModels threw one;
 *   an Error for any other failure (a bug) or when the worker crashed
 */
export function evaluateInWorker(request: EvaluationRequest, options: { nice?: number } = {}): Promise<Evaluation> {
  return new Promise((resolve, reject) => {
    const entry = workerEntry('./evaluate-worker', import.meta.url);
    const worker = new Worker(entry.url, { argv: entry.argv, workerData: { request, ...options } satisfies EvaluationWorkerData });
    let settled = false;
    worker.once('message', (msg: EvaluationMessage) => {
      settled = true;
      if (msg.ok) {
        resolve(msg.evaluation);
        return;
      }
      if (msg.code === undefined || !(msg.code in ERROR_CODES)) {
        reject(new Error(`model evaluation failed: ${msg.message}`));
        return;
      }
      reject(new PrescaleError(msg.code as ErrorCode, msg.message, msg.details === undefined ? {} : { details: msg.details }));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (exitCode) => {
      if (!settled) reject(new Error(`model evaluation worker exited with code ${exitCode} before answering`));
    });
  });
}
