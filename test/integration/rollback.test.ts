/**
 * `prescale rollback` (real CLI, child processes) checks the model it rolls back to as the
 * service would load it: a previous model with a broken meta.json or training.json, or trained
 * at another interval than `--interval`, makes it exit 2 with one clear line, and both pointers
 * stay byte for byte as they were, so the current model keeps serving. A valid one is swapped in.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateModels } from '../../src/forecast/store/evaluate.js';
import { resolveStoredModel, saveModel } from '../../src/forecast/store/model-store.js';
import { setCurrent } from '../../src/forecast/store/pointers.js';
import { buildModelMeta } from '../../src/forecast/train.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { recordScenario } from '../helpers/reliability.js';

const intervalMs = 1_800_000; // 30-minute intervals: 48 a day keeps the backtest fast
const day = 48;
const startMs = Date.UTC(2025, 0, 6);
const requests = Array.from({ length: 4 * day }, (_, t) => Math.round(200 + 150 * Math.sin((2 * Math.PI * t) / day) + ((t * 7) % 11)));

function cli(...args: string[]): Promise<CliRun> {
  return runCli(args, { timeoutMs: 30_000 });
}

/** Saves models `a` (previous) and `b` (current) in `models` the way `prescale train` does. */
async function twoModels(models: string): Promise<void> {
  const series = { source: 'test.csv', startMs, intervalMs, requests, missingIntervals: 0 };
  for (const id of ['a', 'b']) {
    const evaluation = evaluateModels({ series, models: ['seasonal-naive-daily'], horizonIntervals: 2, testDays: 1 });
    const { meta, training } = buildModelMeta({ id, model: 'seasonal-naive-daily', createdAtMs: startMs + 4 * day * intervalMs, series, evaluation, horizonIntervals: 2, testDays: 1 });
    await saveModel(models, meta, training);
    await setCurrent(models, id);
  }
}

/** How the previous model `a` is broken, and the problem loading it must report. */
const BREAKAGES: Array<{ name: string; file: string; edit: (text: string) => string; says: RegExp }> = [
  { name: 'meta.json is not JSON', file: 'meta.json', edit: (t) => t.slice(0, t.length / 2), says: /meta\.json is not valid JSON/ },
  { name: 'a meta.json field is missing', file: 'meta.json', edit: (t) => JSON.stringify({ ...(JSON.parse(t) as object), model: undefined }), says: /meta\.json model: / },
  { name: 'meta.json is of another format version', file: 'meta.json', edit: (t) => t.replace('"formatVersion": 1', '"formatVersion": 2'), says: /formatVersion 2; this prescale reads 1/ },
  { name: 'meta.json names another model', file: 'meta.json', edit: (t) => t.replace('"id": "a"', '"id": "b"'), says: /names id "b", not "a"/ },
  { name: 'meta.json params do not fit its interval', file: 'meta.json', edit: (t) => t.replace('"intervalsPerDay": 48', '"intervalsPerDay": 24'), says: /params\.intervalsPerDay 24 does not match/ },
  { name: 'training.json does not match data.sha256', file: 'training.json', edit: (t) => t.replace(/\[(\d+)/, (_, n: string) => `[${Number(n) + 1}`), says: /does not match data\.sha256/ },
];

describe('prescale rollback validates the model it rolls back to', () => {
  let dir: string;
  let pristine: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prescale-rollback-'));
    pristine = join(dir, 'pristine');
    await twoModels(pristine);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pointers = async (models: string) => [await readFile(join(models, 'current'), 'utf8'), await readFile(join(models, 'previous'), 'utf8')];

  it('exits 2 naming the problem and leaves both pointers and the current model in place', { timeout: 60_000 }, async () => {
    const cases = await Promise.all(BREAKAGES.map(async (breakage, i) => {
      const models = join(dir, `broken-${i}`);
      await cp(pristine, models, { recursive: true });
      const path = join(models, 'a', breakage.file);
      const edited = breakage.edit(await readFile(path, 'utf8'));
      expect(edited, breakage.name).not.toBe(await readFile(join(pristine, 'a', breakage.file), 'utf8'));
      await writeFile(path, edited);
      return { breakage, models, before: await pointers(models) };
    }));
    // the same valid model, checked against the interval of a config it does not fit
    const wrongInterval = join(dir, 'wrong-interval');
    await cp(pristine, wrongInterval, { recursive: true });
    const all = [...cases.map((c) => ({ name: c.breakage.name, models: c.models, args: [], says: c.breakage.says })), { name: '--interval 1m for a 30-minute model', models: wrongInterval, args: ['--interval', '1m'], says: /trained on 1800-s intervals but the series interval is 60 s/ }];
    const runs = await Promise.all(all.map((c) => cli('rollback', '--models-dir', c.models, ...c.args)));
    for (const [i, c] of all.entries()) {
      const run = runs[i] as CliRun;
      expect(run.code, `${c.name}: ${run.stderr}`).toBe(2);
      expect(run.stdout, c.name).toBe('');
      expect(run.stderr, c.name).toMatch(new RegExp(`^prescale: PRESCALE_ERR_CONFIG: cannot roll back to model a: stored model ${join(c.models, 'a')}[: ]`));
      expect(run.stderr, c.name).toMatch(c.says);
      expect(run.stderr, c.name).toContain(`${join(c.models, 'current')} still names b`);
      expect(run.stderr, c.name).not.toMatch(/^\s+at /m); // no stack trace
      expect(await pointers(c.models), c.name).toEqual(['b\n', 'a\n']);
      // what the service loads at start is still model b
      expect(await resolveStoredModel({ modelsDir: c.models, intervalSeconds: 1800 }), c.name).toMatchObject({ ok: true, loaded: { meta: { id: 'b' } } });
    }
    recordScenario({ id: 'cli-rollback-invalid-model', group: 'hostile input', scenario: '`prescale rollback` to a previous model with a broken meta.json or training.json, or trained at another interval than `--interval`', load: 'one child process per command', faults: 'meta.json truncated, a field removed, another format version, another id, params that do not fit; training.json edited; interval mismatch', sent: runs.length, failed: 0, lost: 0, expectation: 'exit 2 naming the file and problem, no stack trace, both pointers unchanged, the current model still loads' });
  });

  it('swaps in a valid previous model, checked against --interval, and a second rollback undoes it', { timeout: 60_000 }, async () => {
    const models = join(dir, 'valid');
    await cp(pristine, models, { recursive: true });
    const first = await cli('rollback', '--models-dir', models, '--interval', '30m');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('current model: a (was b, now previous)\n');
    expect(await pointers(models)).toEqual(['a\n', 'b\n']);
    expect(await resolveStoredModel({ modelsDir: models, intervalSeconds: 1800 })).toMatchObject({ ok: true, loaded: { meta: { id: 'a' } } });
    const second = await cli('rollback', '--models-dir', models);
    expect(second.code).toBe(0);
    expect(await pointers(models)).toEqual(['b\n', 'a\n']);
  });
});
