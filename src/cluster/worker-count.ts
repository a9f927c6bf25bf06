import { availableParallelism } from 'node:os';

/**
 * The number of data-plane processes to run for the config's `workers` setting: an integer as
 * given, or `'auto'` for `os.availableParallelism()` (the CPUs this process may use, at least 1).
 * 1 means no cluster: one process runs both planes, as without the setting.
 * Defined answers: a non-integer or a value below 1 counts as 1.
 */
export function resolveWorkerCount(setting: number | 'auto'): number {
  const n = setting === 'auto' ? availableParallelism() : setting;
  return Number.isSafeInteger(n) && n > 1 ? n : 1;
}
