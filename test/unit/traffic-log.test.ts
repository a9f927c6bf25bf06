import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrescaleError } from '../../src/errors.js';
import { TrafficLog, readTrafficLog } from '../../src/series/traffic-log.js';
import { TrafficSeries, type Bucket } from '../../src/series/traffic-series.js';
import { recordScenario } from '../helpers/reliability.js';

const MIN = 60_000;
const MIDNIGHT = Date.UTC(2025, 2, 10); // 2025-03-10T00:00:00Z

function bucket(startMs: number, requests: number, byBackend: Record<string, number> = {}): Bucket {
  return {
    startMs, intervalMs: MIN, requests, errors: 1, bytes: requests * 100,
    latencyP50Ms: 12.5, latencyP99Ms: 80.25, maxConcurrency: 4, byBackend,
  };
}

/** Plain-object copies, so buckets read back compare equal whatever their prototype. */
function plain(buckets: readonly Bucket[]): Bucket[] {
  return buckets.map((b) => ({ ...b, byBackend: { ...b.byBackend } }));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-traffic-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TrafficLog', () => {
  it('appends buckets as NDJSON lines with a "t" field and reads them back', async () => {
    const logDir = join(dir, 'nested', 'traffic'); // created on demand (mkdir -p)
    const log = new TrafficLog({ dir: logDir });
    const written = [bucket(MIDNIGHT + MIN, 10, { a: 6, b: 4 }), bucket(MIDNIGHT + 2 * MIN, 0)];
    await log.append(written);
    await log.append([bucket(MIDNIGHT + 3 * MIN, 3, { a: 3 })]);
    await log.close();

    const text = await readFile(join(logDir, '2025-03-10.ndjson'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ t: '2025-03-10T00:01:00.000Z', requests: 10 });

    const { buckets, warnings } = await readTrafficLog(logDir);
    expect(warnings).toEqual([]);
    expect(plain(buckets)).toEqual([...written, bucket(MIDNIGHT + 3 * MIN, 3, { a: 3 })]);
  });

  it('splits buckets across midnight UTC into one file per day', async () => {
    const log = new TrafficLog({ dir });
    const written = [-2, -1, 0, 1].map((i) => bucket(MIDNIGHT + i * MIN, 10 + i));
    await log.append(written);
    await log.close();
    expect((await readdir(dir)).sort()).toEqual(['2025-03-09.ndjson', '2025-03-10.ndjson']);
    const before = await readFile(join(dir, '2025-03-09.ndjson'), 'utf8');
    expect(before.trimEnd().split('\n').map((l) => JSON.parse(l).t)).toEqual([
      '2025-03-09T23:58:00.000Z', '2025-03-09T23:59:00.000Z',
    ]);
    const { buckets } = await readTrafficLog(dir);
    expect(buckets.map((b) => b.requests)).toEqual([8, 9, 10, 11]);
  });

  it('keeps call order when appends are not awaited one by one', async () => {
    const log = new TrafficLog({ dir });
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append([bucket(MIDNIGHT + i * MIN, i)])));
    await log.close();
    const text = await readFile(join(dir, '2025-03-10.ndjson'), 'utf8');
    expect(text.trimEnd().split('\n').map((l) => JSON.parse(l).requests)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('rejects with PRESCALE_ERR_TRAFFIC_LOG naming the file when it cannot write', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const log = new TrafficLog({ dir: blocker });
    const error = await log.append([bucket(MIDNIGHT, 1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrescaleError);
    expect((error as PrescaleError).code).toBe('PRESCALE_ERR_TRAFFIC_LOG');
    expect((error as PrescaleError).message).toContain(join(blocker, '2025-03-10.ndjson'));
    // A failed append does not poison later ones.
    const ok = new TrafficLog({ dir });
    await expect(ok.append([bucket(MIDNIGHT, 1)])).resolves.toBeUndefined();
    await ok.close();
  });

  it('rejects a bucket whose startMs is not a time', async () => {
    const log = new TrafficLog({ dir });
    await expect(log.append([bucket(Number.NaN, 1)])).rejects.toMatchObject({ code: 'PRESCALE_ERR_TRAFFIC_LOG' });
  });

  it('logs what a TrafficSeries closes and seeds a new series from it', async () => {
    const series = new TrafficSeries({ intervalMs: MIN, capacity: 100 });
    const log = new TrafficLog({ dir });
    series.closeUntil(MIDNIGHT); // starts the series at midnight, before any request
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < i; k++) {
        series.record({ startMs: MIDNIGHT + i * MIN + 5, latencyMs: 3, status: 200, bytes: 1, backend: 'x' });
      }
      await log.append(series.closeUntil(MIDNIGHT + (i + 1) * MIN));
    }
    await log.close();
    const { buckets } = await readTrafficLog(dir);
    expect(plain(buckets)).toEqual(plain(series.buckets()));
    const restarted = new TrafficSeries({ intervalMs: MIN, capacity: 100 });
    restarted.seed(buckets.map((b) => b.requests), MIDNIGHT + 5 * MIN);
    expect(restarted.values()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('readTrafficLog', () => {
  it('gives no buckets and no warnings for a missing directory', async () => {
    await expect(readTrafficLog(join(dir, 'absent'))).resolves.toEqual({ buckets: [], warnings: [] });
  });

  it('skips a torn last line with a "FILE:LINE: reason" warning, and the next append is clean', async () => {
    const log = new TrafficLog({ dir });
    await log.append([bucket(MIDNIGHT, 1), bucket(MIDNIGHT + MIN, 2)]);
    await log.close();
    const file = join(dir, '2025-03-10.ndjson');
    const third = JSON.stringify({ t: 'x', ...bucket(MIDNIGHT + 2 * MIN, 3) });
    await appendFile(file, third.slice(0, 40)); // crash mid-write

    const torn = await readTrafficLog(dir);
    expect(torn.buckets.map((b) => b.requests)).toEqual([1, 2]);
    expect(torn.warnings).toHaveLength(1);
    expect(torn.warnings[0]).toMatch(new RegExp(`^${escape(file)}:3: `));

    const again = new TrafficLog({ dir });
    await again.append([bucket(MIDNIGHT + 3 * MIN, 4)]);
    await again.close();
    const after = await readTrafficLog(dir);
    expect(after.buckets.map((b) => b.requests)).toEqual([1, 2, 4]);
    expect(after.warnings).toEqual([torn.warnings[0]]);
    recordScenario({ id: 'traffic-log-torn-line', group: 'state and shutdown', scenario: 'a crash mid-append leaves a torn last line in the traffic log; read back, then appended to', load: '2 closed buckets, 1 torn, 1 appended after restart', faults: 'last line cut at 40 bytes (write interrupted)', sent: 4, failed: 1, lost: 0, expectation: 'closed buckets all read back; only the torn (open) one skipped, with a FILE:LINE warning' });
  });

  it('skips lines that are JSON but not buckets, naming file and line', async () => {
    const file = join(dir, '2025-03-10.ndjson');
    const good = JSON.stringify(bucket(MIDNIGHT, 5));
    await writeFile(file, [good, '[1,2]', JSON.stringify({ ...bucket(MIDNIGHT + MIN, 1), requests: -1 }), '', good.replace('"requests":5', '"requests":6')].join('\n'));
    const { buckets, warnings } = await readTrafficLog(dir);
    expect(warnings[0]).toBe(`${file}:2: not a JSON object`);
    expect(warnings[1]).toBe(`${file}:3: requests is not a non-negative number`);
    expect(warnings[2]).toMatch(new RegExp(`^${escape(file)}:1: duplicate bucket .* replaced by ${escape(file)}:5$`));
    expect(buckets.map((b) => b.requests)).toEqual([6]);
  });

  it('returns only buckets starting in [fromMs, toMs), in time order, ignoring other files', async () => {
    const log = new TrafficLog({ dir });
    const day = 86_400_000;
    await log.append([0, 1, 2].map((d) => bucket(MIDNIGHT + d * day, d)));
    await log.close();
    await mkdir(join(dir, 'archive'));
    await writeFile(join(dir, 'notes.txt'), 'not a log');
    const all = await readTrafficLog(dir);
    expect(all.buckets.map((b) => b.requests)).toEqual([0, 1, 2]);
    const some = await readTrafficLog(dir, { fromMs: MIDNIGHT + day, toMs: MIDNIGHT + 2 * day });
    expect(some.buckets.map((b) => b.requests)).toEqual([1]);
    const from = await readTrafficLog(dir, { fromMs: MIDNIGHT + 1 });
    expect(from.buckets.map((b) => b.requests)).toEqual([1, 2]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
