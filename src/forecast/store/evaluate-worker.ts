/**
 * Worker-thread entry of evaluateInWorker (evaluate-thread.ts): evaluates the request in
 * `workerData` once, posts one EvaluationMessage and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PrescaleError } from '../../errors.js';
import { evaluateModels, type EvaluationRequest } from './evaluate.js';
import type { EvaluationMessage } from './evaluate-thread.js';

let message: EvaluationMessage;
try {
  message = { ok: true, evaluation: evaluateModels(workerData as EvaluationRequest) };
} catch (err) {
  message = err instanceof PrescaleError
    ? { ok: false, code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) }
    : { ok: false, message: err instanceof Error ? err.message : String(err) };
}
parentPort?.postMessage(message);
