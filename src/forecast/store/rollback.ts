import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { loadModel } from './model-store.js';
import { readPointer } from './pointers.js';
import { messageOf, modelProblemOf, modelStoreError } from './store-error.js';

/** What a rollback did: the model now current and the one kept as previous. */
export interface RollbackResult {
  current: string;
  previous: string | undefined;
}

/**
 * `prescale rollback`: swap `models/current` and `models/previous`, so the previous model is
 * current again and the replaced one is kept as previous (a second rollback undoes the first).
 * The previous model is checked first exactly as the service loads it (loadModel: meta.json
 * exists, is JSON, passes the schema at this format version and names its own directory,
 * training.json matches data.sha256, the model builds from its params; and the interval when
 * `intervalSeconds` is given). Only then are the pointers written (atomically, `previous`
 * first), so a failed rollback changes no pointer: the current model stays in place.
 * Cost: O(training intervals of the previous model) (the hash).
 * @throws PrescaleError PRESCALE_ERR_CONFIG with details { path, problem }: `missing` when there
 *   is no previous pointer or model, `corrupt` / `mismatch` as loadModel reports them, with a
 *   message "cannot roll back to model <id>: <why>; models/current still names <id>"
 */
export async function rollback(modelsDir: string, options: { intervalSeconds?: number } = {}): Promise<RollbackResult> {
  const previous = await readPointer(modelsDir, 'previous');
  if (previous === undefined) {
    throw modelStoreError('missing', join(modelsDir, 'previous'), `no previous model to roll back to in ${modelsDir} (${join(modelsDir, 'previous')} does not exist)`);
  }
  const current = await readPointer(modelsDir, 'current');
  const dir = join(modelsDir, previous);
  try {
    await loadModel(dir, options.intervalSeconds === undefined ? undefined : { intervalSeconds: options.intervalSeconds });
  } catch (err) {
    const problem = modelProblemOf(err);
    if (problem === undefined) throw err;
    const kept = current === undefined ? 'no pointer was changed' : `${join(modelsDir, 'current')} still names ${current}`;
    throw modelStoreError(problem, dir, `cannot roll back to model ${previous}: ${messageOf(err)}; ${kept}`, err);
  }
  if (current !== undefined) await writeFileAtomic(join(modelsDir, 'previous'), `${current}\n`);
  await writeFileAtomic(join(modelsDir, 'current'), `${previous}\n`);
  return { current: previous, previous: current };
}
