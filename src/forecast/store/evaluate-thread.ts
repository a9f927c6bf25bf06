import { Worker } from 'node:worker_threads';
import { ERROR_CODES, PrescaleError, type ErrorCode } from '../../errors.js';
import type { Evaluation, EvaluationRequest } from './evaluate.js';

/** The worker's one message: the evaluation, or the error it threw (PrescaleError fields kept). */
export type EvaluationMessage =
  | { ok: true; evaluation: Evaluation }
  | { ok: false; code?: string; message: string; details?: Record<string, unknown> };

/**
 * evaluateModels (evaluate.ts) in a one-shot worker thread (evaluate-worker.ts), so a
 * backtest and the fits (seconds to minutes) never block the proxy's event loop or a progress
 * bar. The series is copied into the worker; the worker exits after answering.
 * @throws PrescaleError (rejection) with the worker's code when evaluateModels threw one;
 *   an Error for any other failure (a bug) or when the worker crashed
 */
export function evaluateInWorker(request: EvaluationRequest): Promise<Evaluation> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./evaluate-worker-boot.mjs', import.meta.url), { workerData: request });
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
