/**
 * Worker-thread entry of evaluateInWorker (evaluate-thread.ts): evaluates the request in
 * `workerData` once, posts one EvaluationMessage and ends. With `nice`, the thread first lowers its
 * own priority (src/runtime/thread-priority.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PrescaleError } from '../../errors.js';
import { lowerThreadPriority } from '../../runtime/thread-priority.js';
import { evaluateModels } from './evaluate.js';
import type { EvaluationMessage, EvaluationWorkerData } from './evaluate-thread.js';

const { request, nice } = workerData as EvaluationWorkerData;
if (nice !== undefined) lowerThreadPriority(nice);

let message: EvaluationMessage;
try {
  message = { ok: true, evaluation: evaluateModels(request) };
} catch (err) {
  message = err instanceof PrescaleError
    ? { ok: false, code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) }
    : { ok: false, message: err instanceof Error ? err.message : String(err) };
}
parentPort?.postMessage(message);
