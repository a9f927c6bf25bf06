import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetrainer, decideSwap, type RetrainerOptions } from '../../src/forecast/retrain.js';
import type { ModelMeta } from '../../src/forecast/store/meta.js';
import { loadModel } from '../../src/forecast/store/model-store.js';
import { readPointer } from '../../src/forecast/store/pointers.js';
import { rollback } from '../../src/forecast/store/rollback.js';
import { TrafficLog } from '../../src/series/traffic-log.js';

const intervalMs = 1_800_000; // 30 minutes, 48 per day
const day = 48;
const startMs = Date.UTC(2025, 2, 3);
const days = 6;
const endMs = startMs + days * day * intervalMs;

/**
 * A sharp daily peak that repeats exactly each day (plus a small deterministic wobble): the
 * same interval yesterday (seasonal-naive-daily) is nearly right, the last value (naive) is
 * far off an hour ahead on every climb and fall. So one candidate is clearly better.
 */
const counts = Array.from({ length: days * day }, (_, t) => Math.round(50 + 800 * Math.exp(-(((t % day) - 20) ** 2) / 6) + ((t * 7) % 5)));

let dir: string;
let logDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-retrain-'));
  logDir = join(dir, 'traffic');
  const log = new TrafficLog({ dir: logDir });
  await log.append(counts.map((requests, i) => ({ startMs: startMs + i * intervalMs, intervalMs, requests, errors: 0, bytes: 0, latencyP50Ms: 0, latencyP99Ms: 0, maxConcurrency: 0, byBackend: {} })));
  await log.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function retrainer(modelsDir: string, options: Partial<RetrainerOptions> = {}) {
  const swaps: ModelMeta[] = [];
  const r = createRetrainer({
    modelsDir, logDir, intervalMs, horizonIntervals: 2, candidates: ['naive'],
    now: () => endMs + 60_000, onSwap: (meta) => void swaps.push(meta), ...options,
  });
  return { r, swaps };
}

describe('scheduled retraining', () => {
  it('swaps only for a better model, keeps the replaced one for rollback, and rollback restores it', async () => {
    const modelsDir = join(dir, 'models');
    // 1. nothing stored yet: the best candidate becomes current
    const first = retrainer(modelsDir);
    const r1 = await first.r.runOnce();
    expect(r1).toMatchObject({ decision: 'swapped', reason: 'no-usable-current', current: null, horizonMinutes: 60, intervals: days * day });
    expect(r1.currentProblem).toContain('no current model');
    const naiveId = r1.swappedTo?.id as string;
    expect(naiveId).toBe('naive-20250309T000100Z');
    expect(first.swaps.map((m) => m.model)).toEqual(['naive']);

    // 2. a clearly better candidate: swapped, the old model is kept as previous
    const second = retrainer(modelsDir, { candidates: ['seasonal-naive-daily'], now: () => endMs + 120_000 });
    const r2 = await second.r.runOnce();
    expect(r2).toMatchObject({ decision: 'swapped', reason: 'candidate-better', current: { id: naiveId, model: 'naive' } });
    const [candidate, current] = r2.scores;
    expect(candidate).toMatchObject({ model: 'seasonal-naive-daily', role: 'candidate' });
    expect(current).toMatchObject({ model: 'naive', role: 'current' });
    expect((candidate?.mae as number) * 5).toBeLessThan(current?.mae as number);
    const sndId = r2.swappedTo?.id as string;
    expect([await readPointer(modelsDir, 'current'), await readPointer(modelsDir, 'previous')]).toEqual([sndId, naiveId]);
    expect(second.swaps).toHaveLength(1);
    expect(second.swaps[0]).toMatchObject({ id: sndId, model: 'seasonal-naive-daily', intervalSeconds: 1800, horizonIntervals: 2 });
    const stored = await loadModel(join(modelsDir, sndId), { intervalSeconds: 1800 });
    expect(stored.meta.backtest.horizonMinutes).toBe(60);
    expect(stored.meta.backtest.horizons.at(-1)?.mae).toBeCloseTo(candidate?.mae as number, 9);

    // 3. a clearly worse candidate: nothing changes
    const third = retrainer(modelsDir, { candidates: ['naive'], now: () => endMs + 180_000 });
    const r3 = await third.r.runOnce();
    expect(r3).toMatchObject({ decision: 'kept', reason: 'current-as-good', swappedTo: null, current: { id: sndId } });
    expect(r3.detail).toMatch(/best candidate naive MAE [\d.]+ does not beat current seasonal-naive-daily/);
    expect(third.swaps).toEqual([]);
    expect([await readPointer(modelsDir, 'current'), await readPointer(modelsDir, 'previous')]).toEqual([sndId, naiveId]);
    expect((await readdir(modelsDir)).sort()).toEqual([naiveId, sndId, 'current', 'previous'].sort());

    // 4. rollback restores the previous model
    expect(await rollback(modelsDir)).toEqual({ current: naiveId, previous: sndId });
    expect((await loadModel(join(modelsDir, naiveId), { intervalSeconds: 1800 })).meta.model).toBe('naive');
  });

  it('replaces a stored model that no longer loads, saying why', async () => {
    const modelsDir = join(dir, 'models-corrupt');
    const { r } = retrainer(modelsDir);
    const id = (await r.runOnce()).swappedTo?.id as string;
    await writeFile(join(modelsDir, id, 'meta.json'), '{ not json');
    const report = await retrainer(modelsDir, { candidates: ['seasonal-naive-daily'], now: () => endMs + 3_600_000 }).r.runOnce();
    expect(report).toMatchObject({ decision: 'swapped', reason: 'no-usable-current', current: null });
    expect(report.currentProblem).toContain('is not valid JSON');
    expect(await readPointer(modelsDir, 'previous')).toBe(id);
  });

  it('skips, without throwing, when there is too little logged traffic', async () => {
    const emptyLog = join(dir, 'empty-traffic');
    const report = await retrainer(join(dir, 'models-empty'), { logDir: emptyLog }).r.runOnce();
    expect(report).toMatchObject({ decision: 'skipped', reason: 'not-enough-history', swappedTo: null });
    expect(report.detail).toContain('no traffic logged yet');
    const short = await retrainer(join(dir, 'models-short'), { historyDays: 1.5 }).r.runOnce();
    expect(short).toMatchObject({ decision: 'skipped', reason: 'not-enough-history' });
    expect(short.detail).toContain('too little');
  });

  it('runs one retraining at a time and starts and stops its schedule', async () => {
    const { r } = retrainer(join(dir, 'models-once'));
    const [a, b] = [r.runOnce(), r.runOnce()];
    expect(a).toBe(b);
    await a;
    expect(r.schedule).toBe('0 3 * * *');
    r.start();
    await r.stop();
  });

  it('refuses an invalid schedule', () => {
    expect(() => retrainer(join(dir, 'x'), { schedule: '61 3 * * *' })).toThrow(/forecast.retrain.schedule: "61 3 \* \* \*" is not a cron expression/);
  });
});

describe('decideSwap', () => {
  it.each([
    ['no candidate scored', [null], { model: 'naive', mae: 5 }, 0, false, 'no-candidate-scored'],
    ['no current model', [7], null, 0, true, 'no-usable-current'],
    ['current not scorable', [7], { model: 'naive', mae: null }, 0, true, 'candidate-better'],
    ['lower MAE', [4.9], { model: 'naive', mae: 5 }, 0, true, 'candidate-better'],
    ['equal MAE', [5], { model: 'naive', mae: 5 }, 0, false, 'current-as-good'],
    ['higher MAE', [6], { model: 'naive', mae: 5 }, 0, false, 'current-as-good'],
    ['lower, but not by the required 5%', [4.9], { model: 'naive', mae: 5 }, 0.05, false, 'current-as-good'],
    ['lower by more than 5%', [4.7], { model: 'naive', mae: 5 }, 0.05, true, 'candidate-better'],
  ] as const)('%s', (_, maes, current, minImprovement, swap, reason) => {
    const candidates = maes.map((mae, i) => ({ model: `m${i}`, mae }));
    const decision = decideSwap({ candidates, current, minImprovement });
    expect(decision).toMatchObject({ swap, reason });
    expect(decision.detail.length).toBeGreaterThan(0);
  });

  it('picks the candidate with the lowest MAE, the first on a tie', () => {
    const candidates = [{ model: 'a', mae: 3 }, { model: 'b', mae: 2 }, { model: 'c', mae: 2 }];
    expect(decideSwap({ candidates, current: { model: 'x', mae: 9 }, minImprovement: 0 }).best).toBe('b');
  });
});
