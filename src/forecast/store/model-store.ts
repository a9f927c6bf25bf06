import { chmod, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ForecastModel } from '../model.js';
import { createModel } from '../registry.js';
import { syncDir, TEMP_MARKER, writeFileSynced } from './atomic-file.js';
import { FORMAT_VERSION, META_FILE, modelMetaSchema, TRAINING_FILE, trainingFileSchema, type ModelMeta, type TrainingFile } from './meta.js';
import { readPointer } from './pointers.js';
import { seriesSha256 } from './series-hash.js';
import { isNotFound, messageOf, modelProblemOf, modelStoreError, pathExists, type ModelProblem } from './store-error.js';

/** A stored model that matched the configuration: its contract, its data and the model built from it. */
export interface LoadedModel {
  dir: string;
  meta: ModelMeta;
  training: TrainingFile;
  /** createModel(meta.model, meta.params): the same model the backtest scored. */
  model: ForecastModel;
}

/**
 * Write a new model directory `<modelsDir>/<meta.id>/` holding meta.json and training.json.
 * Both files are written and fsynced inside a hidden temp directory, which is then renamed to
 * its id (atomic) and the models directory fsynced: the model appears whole or not at all.
 * @returns the model directory
 * @throws PrescaleError PRESCALE_ERR_CONFIG when the meta fails the schema, its hash does not
 *   match `training`, or the id exists; the node:fs error when a write fails
 */
export async function saveModel(modelsDir: string, meta: ModelMeta, training: TrainingFile): Promise<string> {
  const dir = join(modelsDir, meta.id);
  const parsed = modelMetaSchema.safeParse(meta);
  if (!parsed.success) throw modelStoreError('corrupt', dir, `cannot save model ${meta.id}: ${issues(parsed.error.issues)}`);
  if (seriesSha256(training.requests) !== meta.data.sha256 || training.requests.length !== meta.data.intervals) {
    throw modelStoreError('corrupt', dir, `cannot save model ${meta.id}: data.sha256 / data.intervals do not describe the training series`);
  }
  await mkdir(modelsDir, { recursive: true });
  if (await pathExists(dir)) throw modelStoreError('mismatch', dir, `model ${dir} already exists; choose another id`);
  const temp = await mkdtemp(join(modelsDir, `.${meta.id}${TEMP_MARKER}`));
  try {
    await writeFileSynced(join(temp, TRAINING_FILE), JSON.stringify(training));
    await writeFileSynced(join(temp, META_FILE), `${JSON.stringify(parsed.data, null, 2)}\n`);
    await chmod(temp, 0o755); // mkdtemp makes it 0700; a model is as readable as any other file
    await syncDir(temp);
    await rename(temp, dir);
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(modelsDir);
  return dir;
}

/**
 * Read and check the model in `dir` against the running configuration: meta.json must exist,
 * be JSON, pass the schema (meta.ts) at this FORMAT_VERSION, be made for `intervalSeconds`
 * (skipped when `expected` is omitted: `prescale rollback` without `--interval`),
 * and its training.json must match `data.sha256`; then the model is built with createModel.
 * Cost: O(training intervals) (the hash).
 * @throws PrescaleError PRESCALE_ERR_CONFIG with details.problem `missing`, `corrupt` or
 *   `mismatch` (store-error.ts) and a message naming the file and the fix. The caller falls
 *   back to the statistical models.
 */
export async function loadModel(dir: string, expected?: { intervalSeconds: number }): Promise<LoadedModel> {
  const meta = parseMeta(dir, await readJson(dir, META_FILE, `train one with "prescale train --out ${dir}"`));
  if (expected !== undefined && meta.intervalSeconds !== expected.intervalSeconds) {
    throw modelStoreError(
      'mismatch',
      dir,
      `stored model ${dir} was trained on ${meta.intervalSeconds}-s intervals but the series interval is ${expected.intervalSeconds} s; ` +
        `retrain it with "prescale train --interval ${expected.intervalSeconds}s" or change series.intervalMs`,
    );
  }
  const training = trainingFileSchema.safeParse(await readJson(dir, TRAINING_FILE, 'retrain the model'));
  if (!training.success) throw modelStoreError('corrupt', dir, `stored model ${dir}: ${TRAINING_FILE} ${issues(training.error.issues)}`);
  const data = training.data;
  if (meta.params.intervalsPerDay * meta.intervalSeconds !== 86_400) {
    throw modelStoreError('corrupt', dir, `stored model ${dir}: params.intervalsPerDay ${meta.params.intervalsPerDay} does not match ${meta.intervalSeconds}-s intervals; retrain the model`);
  }
  if (data.requests.length !== meta.data.intervals || seriesSha256(data.requests) !== meta.data.sha256 || data.intervalMs !== meta.intervalSeconds * 1000) {
    throw modelStoreError('corrupt', dir, `stored model ${dir}: ${TRAINING_FILE} does not match data.sha256 / data.intervals / intervalSeconds in ${META_FILE}; retrain the model`);
  }
  let model: ForecastModel;
  try {
    model = createModel(meta.model, meta.params);
  } catch (err) {
    throw modelStoreError('corrupt', dir, `stored model ${dir}: cannot build ${meta.model} from params: ${messageOf(err)}`, err);
  }
  return { dir, meta, training: data, model };
}

/** What `resolveStoredModel` found: a usable model, or why there is none. */
export type StoredModelChoice =
  | { ok: true; source: 'pinned' | 'current'; loaded: LoadedModel }
  | { ok: false; source: 'pinned' | 'current'; problem: ModelProblem; message: string };

/**
 * The model the service should run: `pinnedModel` (an id under `modelsDir`) when set, else the
 * one `models/current` names, loaded with loadModel. Never throws for a store problem: it
 * returns the problem (a metric label) and the message (a log line) so the caller can fall back
 * to the statistical models and warn. Other errors (a programming mistake) are rethrown.
 */
export async function resolveStoredModel(options: { modelsDir: string; pinnedModel?: string | undefined; intervalSeconds: number }): Promise<StoredModelChoice> {
  const source = options.pinnedModel === undefined ? 'current' : 'pinned';
  try {
    const id = options.pinnedModel ?? (await readPointer(options.modelsDir, 'current'));
    if (id === undefined) {
      return { ok: false, source, problem: 'missing', message: `no current model in ${options.modelsDir} (train one with "prescale train --set-current", or enable forecast.retrain)` };
    }
    const loaded = await loadModel(join(options.modelsDir, id), { intervalSeconds: options.intervalSeconds });
    return { ok: true, source, loaded };
  } catch (err) {
    const problem = modelProblemOf(err);
    if (problem === undefined) throw err;
    return { ok: false, source, problem, message: messageOf(err) };
  }
}

async function readJson(dir: string, file: string, fix: string): Promise<unknown> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) throw modelStoreError('missing', dir, `stored model ${dir}: ${path} not found; ${fix}`, err);
    throw modelStoreError('corrupt', dir, `stored model ${dir}: cannot read ${path}: ${messageOf(err)}`, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw modelStoreError('corrupt', dir, `stored model ${dir}: ${path} is not valid JSON (${messageOf(err)}); retrain it or roll back with "prescale rollback"`, err);
  }
}

function parseMeta(dir: string, value: unknown): ModelMeta {
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof value === 'object' && value !== null && version !== FORMAT_VERSION) {
    throw modelStoreError('mismatch', dir, `stored model ${dir}: ${META_FILE} has formatVersion ${JSON.stringify(version)}; this prescale reads ${FORMAT_VERSION}; retrain the model`);
  }
  const parsed = modelMetaSchema.safeParse(value);
  if (!parsed.success) throw modelStoreError('corrupt', dir, `stored model ${dir}: ${META_FILE} ${issues(parsed.error.issues)}`);
  if (parsed.data.id !== basename(dir)) {
    throw modelStoreError('corrupt', dir, `stored model ${dir}: ${META_FILE} names id "${parsed.data.id}", not "${basename(dir)}"; a model directory must keep its id`);
  }
  return parsed.data;
}

function issues(list: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return list.slice(0, 5).map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}

