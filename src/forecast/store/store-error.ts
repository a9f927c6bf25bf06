import { stat } from 'node:fs/promises';
import { PrescaleError } from '../../errors.js';

/**
 * Why a stored model cannot be used; a bounded set, fit for a metric label:
 * `missing` (no directory, meta.json or pointer), `corrupt` (bad JSON, a field that fails the
 * schema, a training series whose hash does not match), `mismatch` (valid, but made for another
 * interval or meta.json format than this prescale runs).
 */
export type ModelProblem = 'missing' | 'corrupt' | 'mismatch';

/**
 * The error of the model store: PRESCALE_ERR_CONFIG (the stored model does not fit the running
 * configuration; the service falls back to the statistical models) with `details` = { path,
 * problem }. The message names the path and the fix.
 */
export function modelStoreError(problem: ModelProblem, path: string, message: string, cause?: unknown): PrescaleError {
  return new PrescaleError('PRESCALE_ERR_CONFIG', message, { cause, details: { path, problem } });
}

/** The ModelProblem of an error thrown by the store, or undefined for any other error. */
export function modelProblemOf(err: unknown): ModelProblem | undefined {
  if (!(err instanceof PrescaleError)) return undefined;
  const problem = err.details?.['problem'];
  return problem === 'missing' || problem === 'corrupt' || problem === 'mismatch' ? problem : undefined;
}

/** True when `path` exists; false when it does not; other errors (permissions, I/O) are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
