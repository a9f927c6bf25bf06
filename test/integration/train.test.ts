import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/forecast/store/model-store.js';
import { readPointer } from '../../src/forecast/store/pointers.js';
import { importTrace } from '../../src/forecast/store/import-trace.js';
import { seriesSha256 } from '../../src/forecast/store/series-hash.js';
import { trainModel } from '../../src/forecast/train.js';
import { readTrafficLog } from '../../src/series/traffic-log.js';

const run = promisify(execFile);
const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;
const intervalMs = 1_800_000; // 30-minute rows, 48 per day: a week trains in about a second
const day = 48;
const startMs = Date.UTC(2025, 2, 3);
const counts = Array.from({ length: 7 * day }, (_, t) => Math.round(300 + 200 * Math.sin((2 * Math.PI * t) / day) + 40 * Math.cos((4 * Math.PI * t) / day) + ((t * 13) % 17)));
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

let dir: string;
let csv: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-train-'));
  csv = join(dir, 'trace.csv');
  await writeFile(csv, `timestamp,requests\n${counts.map((c, i) => `${iso(startMs + i * intervalMs)},${c}`).join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('prescale train', () => {
  it('writes meta.json with the hash of the training series and the backtest scores', async () => {
    const out = join(dir, 'models', 'hw-1');
    const result = await trainModel({ from: csv, model: 'holt-winters', out, horizonMs: 60 * 60_000, now: () => Date.UTC(2025, 2, 10, 3) });
    const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
    expect(meta).toEqual(result.meta);
    expect(meta).toMatchObject({
      formatVersion: 1,
      id: 'hw-1',
      model: 'holt-winters',
      createdAt: '2025-03-10T03:00:00.000Z',
      intervalSeconds: 1800,
      horizonIntervals: 2,
      params: { intervalsPerDay: 48, seasonLength: 48, windowIntervals: 30 },
      normalisation: 'per-fit-scale-transform',
      fit: { parameters: 'refit-from-data', fallback: null },
      data: { source: csv, file: 'training.json', fromMs: startMs, toMs: startMs + 7 * day * intervalMs, intervals: 7 * day, missingIntervals: 0, sha256: seriesSha256(counts) },
      backtest: { testDays: 1, stepMinutes: 60, horizonMinutes: 60, testStartMs: startMs + 6 * day * intervalMs, origins: 24 },
      libraries: { node: process.version, prescale: '0.1.0', 'simple-statistics': '7.12.1' },
    });
    expect(meta.backtest.horizons.map((h: { horizonMinutes: number }) => h.horizonMinutes)).toEqual([30, 60]);
    for (const h of meta.backtest.horizons) {
      expect(h.n).toBe(24);
      expect(Number.isFinite(h.mae) && h.mae >= 0).toBe(true);
    }
    expect(Object.keys(meta.backtest.baselines).sort()).toEqual(['naive', 'seasonal-naive-daily', 'seasonal-naive-weekly']);
    // a smooth daily cycle: the fitted model beats forecasting the last value
    expect(meta.backtest.horizons[1].mae).toBeLessThan(meta.backtest.baselines.naive[1].mae);
    const loaded = await loadModel(out, { intervalSeconds: 1800 });
    expect(loaded.training.requests).toEqual(counts);
    expect(await readPointer(join(dir, 'models'), 'current')).toBeUndefined(); // only with setCurrent
  });

  it('trains from the traffic log an imported trace seeded, on the same data (same hash)', async () => {
    const logDir = join(dir, 'traffic');
    const summary = await importTrace({ file: csv, logDir, batchSize: 100 });
    expect(summary).toMatchObject({ written: 7 * day, skippedExisting: 0, intervalMs, fromMs: startMs, toMs: startMs + 7 * day * intervalMs });
    const { buckets, warnings } = await readTrafficLog(logDir);
    expect(warnings).toEqual([]);
    expect(buckets.map((b) => b.requests)).toEqual(counts);
    expect(buckets.map((b) => b.startMs)).toEqual(counts.map((_, i) => startMs + i * intervalMs));
    expect(buckets.every((b) => b.intervalMs === intervalMs)).toBe(true);
    expect(await importTrace({ file: csv, logDir })).toMatchObject({ written: 0, skippedExisting: 7 * day }); // idempotent
    expect((await readTrafficLog(logDir)).warnings).toEqual([]); // no duplicate lines were added

    const out = join(dir, 'models', 'snd-from-log');
    const result = await trainModel({ from: logDir, model: 'seasonal-naive-daily', out, horizonMs: 30 * 60_000, setCurrent: true });
    expect(result.meta.data).toMatchObject({ source: logDir, sha256: seriesSha256(counts), intervals: 7 * day });
    expect(result.meta.normalisation).toBe('none');
    expect(await readPointer(join(dir, 'models'), 'current')).toBe('snd-from-log');
  });

  it('trains at a coarser interval by summing the data into it', async () => {
    const out = join(dir, 'models', 'hourly');
    const result = await trainModel({ from: csv, model: 'naive', out, horizonMs: 60 * 60_000, intervalMs: 3_600_000 });
    const hourly = counts.reduce<number[]>((acc, c, i) => (i % 2 === 0 ? [...acc, c] : [...acc.slice(0, -1), (acc[acc.length - 1] as number) + c]), []);
    expect(result.meta.intervalSeconds).toBe(3600);
    expect(result.meta.data.sha256).toBe(seriesSha256(hourly));
  });

  it('CLI: trains, prints a summary without a progress bar when stdout is not a terminal', async () => {
    const out = join(dir, 'cli-models', 'lr');
    const { stdout } = await run(process.execPath, [bin, 'train', '--from', csv, '--model', 'linear-regression', '--out', out, '--horizon', '1h', '--set-current']);
    expect(stdout).toContain(`${out}: linear-regression at 1800-s intervals`);
    expect(stdout).toContain(`sha256 ${seriesSha256(counts).slice(0, 16)}`);
    expect(stdout).toMatch(/at 60 min MAE [\d.]+ \(baselines: naive [\d.]+/);
    expect(stdout).toContain('current model: lr');
    expect(stdout).not.toContain('training [');
    expect(await readdir(join(dir, 'cli-models'))).toEqual(['current', 'lr']);
  });

  it.each([
    ['too little data', { days: 1.5 }, 'too little; need at least 2'],
    ['an interval that is not a multiple of the data', { intervalMs: 45 * 60_000 }, 'use a multiple of 1800 s'],
    ['an interval that does not divide a day', { intervalMs: 7 * 3_600_000 }, 'divides one day'],
    ['an existing model', { out: join(tmpdir()) }, 'already exists'],
    ['a model id that is a pointer name', { out: '/tmp/models/current' }, 'must be a model id'],
  ])('refuses %s with a clear message', async (_, options, message) => {
    const training = trainModel({ from: csv, model: 'naive', out: join(dir, 'bad', 'x'), horizonMs: 3_600_000, ...options });
    await expect(training).rejects.toMatchObject({ code: 'PRESCALE_ERR_CONFIG', message: expect.stringContaining(message) });
  });

  it.each([
    ['a missing source', ['--from', '/nonexistent/trace.csv', '--model', 'naive'], 'no such file or directory'],
    ['an unknown model', ['--model', 'prophet'], 'unknown forecast model'],
  ])('CLI: exits 2 with a clear message for %s', async (_, args, message) => {
    const argv = [bin, 'train', '--from', csv, '--out', join(dir, 'bad', 'x'), ...args];
    const err = (await run(process.execPath, argv).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('PRESCALE_ERR_CONFIG');
    expect(err.stderr).toContain(message);
  });
});
