import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/forecast/store/atomic-file.js';
import { evaluateModels } from '../../src/forecast/store/evaluate.js';
import { loadModel, resolveStoredModel, saveModel } from '../../src/forecast/store/model-store.js';
import { readPointer, setCurrent } from '../../src/forecast/store/pointers.js';
import { rollback } from '../../src/forecast/store/rollback.js';
import { seriesSha256 } from '../../src/forecast/store/series-hash.js';
import { modelProblemOf } from '../../src/forecast/store/store-error.js';
import { buildModelMeta } from '../../src/forecast/train.js';
import type { ModelName } from '../../src/forecast/registry.js';

const intervalMs = 1_800_000; // 30 minutes: 48 per day keeps the backtest fast
const day = 48;
const startMs = Date.UTC(2025, 0, 6);
const requests = Array.from({ length: 4 * day }, (_, t) => Math.round(200 + 150 * Math.sin((2 * Math.PI * t) / day) + ((t * 7) % 11)));

/** A model saved the way `prescale train` saves it: evaluated on `requests`, meta built from it. */
function built(id: string, model: ModelName = 'seasonal-naive-daily') {
  const series = { source: 'test.csv', startMs, intervalMs, requests, missingIntervals: 0 };
  const evaluation = evaluateModels({ series, models: [model], horizonIntervals: 2, testDays: 1 });
  return buildModelMeta({ id, model, createdAtMs: startMs + 4 * day * intervalMs, series, evaluation, horizonIntervals: 2, testDays: 1 });
}

/** The rejection of `promise`, asserted to be a model-store PrescaleError. */
async function storeError(promise: Promise<unknown>): Promise<PrescaleError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PrescaleError);
  expect((err as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
  return err as PrescaleError;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-models-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model store: save and load', () => {
  it('round-trips a model: meta.json, its training series and a working model', async () => {
    const { meta, training } = built('snd-1');
    const modelDir = await saveModel(dir, meta, training);
    expect(modelDir).toBe(join(dir, 'snd-1'));
    const loaded = await loadModel(modelDir, { intervalSeconds: 1800 });
    expect(loaded.meta).toEqual(meta);
    expect(loaded.training.requests).toEqual(requests);
    expect(loaded.meta.data.sha256).toBe(seriesSha256(requests));
    expect(loaded.meta.backtest.horizons.map((h) => h.horizonMinutes)).toEqual([30, 60]);
    expect(loaded.model.name).toBe('seasonal-naive-daily');
    const forecast = loaded.model.forecast(loaded.training.requests, 2, 0.9);
    expect(forecast.point).toEqual([requests[3 * day], requests[3 * day + 1]]); // the same intervals yesterday
    expect(await readdir(dir)).toEqual(['snd-1']); // the temp directory was renamed, nothing left behind
  });

  it('refuses to overwrite an existing model id', async () => {
    const { meta, training } = built('snd-1');
    await saveModel(dir, meta, training);
    const err = await storeError(saveModel(dir, meta, training));
    expect(err.message).toContain('already exists');
  });

  it('fails clearly on a missing model directory', async () => {
    const err = await storeError(loadModel(join(dir, 'nope'), { intervalSeconds: 1800 }));
    expect(modelProblemOf(err)).toBe('missing');
    expect(err.message).toContain(join(dir, 'nope', 'meta.json'));
    expect(err.message).toContain('prescale train');
  });

  it('fails clearly on a meta.json that is not JSON', async () => {
    const { meta, training } = built('snd-1');
    const modelDir = await saveModel(dir, meta, training);
    await writeFile(join(modelDir, 'meta.json'), '{"formatVersion": 1, "id": "snd-1", "mod');
    const err = await storeError(loadModel(modelDir, { intervalSeconds: 1800 }));
    expect(modelProblemOf(err)).toBe('corrupt');
    expect(err.message).toMatch(/meta\.json is not valid JSON/);
  });

  it('names the field of a meta.json that fails the schema', async () => {
    const { meta, training } = built('snd-1');
    const modelDir = await saveModel(dir, meta, training);
    await writeFile(join(modelDir, 'meta.json'), JSON.stringify({ ...meta, model: 'prophet', params: { intervalsPerDay: 'many' } }));
    const err = await storeError(loadModel(modelDir, { intervalSeconds: 1800 }));
    expect(modelProblemOf(err)).toBe('corrupt');
    expect(err.message).toContain('model:');
    expect(err.message).toContain('params.intervalsPerDay');
  });

  it('fails clearly when the model was trained at another interval than the config runs', async () => {
    const { meta, training } = built('snd-1');
    const modelDir = await saveModel(dir, meta, training);
    const err = await storeError(loadModel(modelDir, { intervalSeconds: 10 }));
    expect(modelProblemOf(err)).toBe('mismatch');
    expect(err.message).toContain('1800-s intervals');
    expect(err.message).toContain('10 s');
  });

  it('refuses a meta.json of another format version', async () => {
    const { meta, training } = built('snd-1');
    const modelDir = await saveModel(dir, meta, training);
    await writeFile(join(modelDir, 'meta.json'), JSON.stringify({ ...meta, formatVersion: 2 }));
    const err = await storeError(loadModel(modelDir, { intervalSeconds: 1800 }));
    expect(modelProblemOf(err)).toBe('mismatch');
    expect(err.message).toContain('formatVersion 2');
  });

  it('detects a training series that no longer matches its hash', async () => {
    const { meta, training } = built('snd-1');
    const modelDir = await saveModel(dir, meta, training);
    const changed = { ...training, requests: training.requests.map((v, i) => (i === 5 ? v + 1 : v)) };
    await writeFile(join(modelDir, 'training.json'), JSON.stringify(changed));
    const err = await storeError(loadModel(modelDir, { intervalSeconds: 1800 }));
    expect(modelProblemOf(err)).toBe('corrupt');
    expect(err.message).toContain('data.sha256');
  });
});

describe('model store: current, previous, rollback and the pinned model', () => {
  it('keeps the replaced model as previous and rollback swaps them back and forth', async () => {
    for (const id of ['a', 'b']) await saveModel(dir, built(id).meta, built(id).training);
    await setCurrent(dir, 'a');
    expect(await readPointer(dir, 'current')).toBe('a');
    expect(await readPointer(dir, 'previous')).toBeUndefined();
    await setCurrent(dir, 'b');
    expect([await readPointer(dir, 'current'), await readPointer(dir, 'previous')]).toEqual(['b', 'a']);
    expect(await rollback(dir)).toEqual({ current: 'a', previous: 'b' });
    expect([await readPointer(dir, 'current'), await readPointer(dir, 'previous')]).toEqual(['a', 'b']);
    await rollback(dir);
    expect(await readPointer(dir, 'current')).toBe('b');
  });

  it('cannot roll back without a previous model, or point at a model that does not exist', async () => {
    await saveModel(dir, built('a').meta, built('a').training);
    await setCurrent(dir, 'a');
    expect((await storeError(rollback(dir))).message).toContain('no previous model');
    expect(modelProblemOf(await storeError(setCurrent(dir, 'ghost')))).toBe('missing');
  });

  it('resolves the pinned model over current, and reports (not throws) an unusable one', async () => {
    for (const id of ['a', 'b']) await saveModel(dir, built(id).meta, built(id).training);
    expect(await resolveStoredModel({ modelsDir: dir, intervalSeconds: 1800 })).toMatchObject({ ok: false, problem: 'missing', source: 'current' });
    await setCurrent(dir, 'a');
    expect(await resolveStoredModel({ modelsDir: dir, intervalSeconds: 1800 })).toMatchObject({ ok: true, source: 'current', loaded: { meta: { id: 'a' } } });
    expect(await resolveStoredModel({ modelsDir: dir, pinnedModel: 'b', intervalSeconds: 1800 })).toMatchObject({ ok: true, source: 'pinned', loaded: { meta: { id: 'b' } } });
    const wrong = await resolveStoredModel({ modelsDir: dir, intervalSeconds: 60 });
    expect(wrong).toMatchObject({ ok: false, problem: 'mismatch' });
    await writeFile(join(dir, 'current'), '../../etc/passwd\n');
    expect(await resolveStoredModel({ modelsDir: dir, intervalSeconds: 1800 })).toMatchObject({ ok: false, problem: 'corrupt' });
  });
});

describe('atomic writes', () => {
  it('a temp file left by a crashed write is never read as the pointer', async () => {
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'meta.json'), '{}');
    await writeFile(join(dir, 'b', 'meta.json'), '{}');
    await setCurrent(dir, 'a');
    // a writer that died after writing half of "b\n" to its temp file, before the rename
    await writeFile(join(dir, `.current.tmp-99999-deadbeef`), 'b');
    expect(await readPointer(dir, 'current')).toBe('a');
    await setCurrent(dir, 'b');
    expect(await readPointer(dir, 'current')).toBe('b');
    const temps = (await readdir(dir)).filter((name) => name.includes('.tmp-'));
    expect(temps).toEqual(['.current.tmp-99999-deadbeef']); // only the crashed one; ours were renamed
  });

  it('a failed write removes its temp file and leaves the old content whole', async () => {
    await mkdir(join(dir, 'target')); // renaming a file over a directory fails
    await expect(writeFileAtomic(join(dir, 'target'), 'new')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['target']);
    await writeFile(join(dir, 'file'), 'old content');
    await writeFileAtomic(join(dir, 'file'), 'new content');
    expect(await readFile(join(dir, 'file'), 'utf8')).toBe('new content');
    expect(await readdir(dir)).toEqual(['file', 'target']);
  });
});
