import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { isModelId, META_FILE, type PointerName } from './meta.js';
import { isNotFound, messageOf, modelStoreError } from './store-error.js';

/**
 * The pointers of a models directory: `models/current` names the model in use and
 * `models/previous` the one before it, each a text file holding one model id and a newline.
 * Every write is atomic (atomic-file.ts), so a crash leaves each pointer whole, old or new.
 */

/**
 * The id a pointer names, or undefined when the pointer file does not exist.
 * @throws PrescaleError PRESCALE_ERR_CONFIG (problem `corrupt`) when the file does not hold a
 *   valid model id or cannot be read (a directory, or the models directory is a file)
 */
export async function readPointer(modelsDir: string, name: PointerName): Promise<string | undefined> {
  const path = join(modelsDir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    // e.g. the models directory is a file (ENOTDIR) or the pointer a directory (EISDIR)
    throw modelStoreError('corrupt', path, `cannot read model pointer ${path}: ${messageOf(err)}; fix or delete it, or check the models directory`, err);
  }
  const id = text.trim();
  if (!isModelId(id)) {
    throw modelStoreError('corrupt', path, `model pointer ${path} does not hold a model id (found ${JSON.stringify(text.slice(0, 40))}); fix it or delete it`);
  }
  return id;
}

/**
 * Make `id` the current model; the model that was current becomes `previous` (for rollback).
 * Setting the id that is already current changes nothing. Order: `previous` first, then
 * `current`, so a crash in between leaves `current` unchanged.
 * @throws PrescaleError PRESCALE_ERR_CONFIG (problem `missing`) when models/<id>/meta.json does
 *   not exist
 */
export async function setCurrent(modelsDir: string, id: string): Promise<{ current: string; previous: string | undefined }> {
  await assertModelExists(modelsDir, id);
  const current = await readPointer(modelsDir, 'current');
  if (current === id) return { current: id, previous: await readPointer(modelsDir, 'previous') };
  if (current !== undefined) await writeFileAtomic(join(modelsDir, 'previous'), `${current}\n`);
  await writeFileAtomic(join(modelsDir, 'current'), `${id}\n`);
  return { current: id, previous: current };
}

async function assertModelExists(modelsDir: string, id: string): Promise<void> {
  const meta = join(modelsDir, id, META_FILE);
  if (!isModelId(id)) throw modelStoreError('corrupt', join(modelsDir, id), `"${id}" is not a valid model id`);
  try {
    await stat(meta);
  } catch (err) {
    throw modelStoreError('missing', join(modelsDir, id), `model ${id} not found: cannot read ${meta} (${messageOf(err)})`, err);
  }
}
