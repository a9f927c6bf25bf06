import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PrescaleError } from '../errors.js';
import type { Bucket } from './traffic-series.js';

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
const DAY_MS = 86_400_000;
/** Largest |epoch ms| a JavaScript Date can hold (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;
const NUMBER_FIELDS = [
  'requests', 'errors', 'bytes', 'latencyP50Ms', 'latencyP99Ms', 'maxConcurrency',
] as const;

interface Entry { bucket: Bucket; where: string }

/**
 * Read every bucket of the traffic log in `dir` (files `YYYY-MM-DD.ndjson`, see TrafficLog)
 * in time order, optionally only those with startMs in [fromMs, toMs). Day files wholly
 * outside the range are not opened; other files in the directory are ignored.
 *
 * Defined answers: a missing directory gives `{ buckets: [], warnings: [] }`. A torn or
 * unparseable line (e.g. the last line after a crash) or one that is not a valid bucket is
 * skipped with a warning `"FILE:LINE: reason"`; blank lines are skipped silently. When two
 * lines hold the same startMs (e.g. a replayed append) the later line wins, with a warning.
 *
 * Cost: O(lines) plus a sort that is linear when the log is already in order.
 * @throws PrescaleError PRESCALE_ERR_TRAFFIC_LOG (rejection) when the directory or a file
 *   exists but cannot be read.
 */
export async function readTrafficLog(
  dir: string,
  range: { fromMs?: number; toMs?: number } = {},
): Promise<{ buckets: Bucket[]; warnings: string[] }> {
  const fromMs = range.fromMs ?? -Infinity;
  const toMs = range.toMs ?? Infinity;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return { buckets: [], warnings: [] };
    throw readError(dir, err);
  }
  const days = names
    .map((name) => ({ name, dayMs: Date.parse(DAY_FILE.exec(name)?.[1] ?? '') }))
    .filter(({ dayMs }) => Number.isFinite(dayMs) && dayMs < toMs && dayMs + DAY_MS > fromMs)
    .sort((a, b) => a.dayMs - b.dayMs);
  const entries: Entry[] = [];
  const warnings: string[] = [];
  for (const { name } of days) {
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isNotFound(err)) continue; // removed while we were reading (e.g. retention)
      throw readError(file, err);
    }
    parseLines(file, text, fromMs, toMs, entries, warnings);
  }
  entries.sort((a, b) => a.bucket.startMs - b.bucket.startMs); // stable: later lines stay later
  return { buckets: dedupe(entries, warnings), warnings };
}

function parseLines(
  file: string, text: string, fromMs: number, toMs: number, entries: Entry[], warnings: string[],
): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    const parsed = parseBucket(line);
    if (typeof parsed === 'string') {
      warnings.push(`${where}: ${parsed}`);
    } else if (parsed.startMs >= fromMs && parsed.startMs < toMs) {
      entries.push({ bucket: parsed, where });
    }
  }
}

/** The bucket on one line, or the reason it is not one. */
function parseBucket(line: string): Bucket | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `unparseable JSON (torn write?): ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'not a JSON object';
  }
  const o = value as Record<string, unknown>;
  if (!isFiniteNumber(o.startMs) || Math.abs(o.startMs) > MAX_DATE_MS) return 'startMs is not a valid epoch ms time';
  if (!isFiniteNumber(o.intervalMs) || o.intervalMs <= 0) return 'intervalMs is not a positive number';
  for (const field of NUMBER_FIELDS) {
    const v = o[field];
    if (!isFiniteNumber(v) || v < 0) return `${field} is not a non-negative number`;
  }
  const byBackend = parseByBackend(o.byBackend);
  if (byBackend === undefined) return 'byBackend is not an object of non-negative counts';
  return {
    startMs: o.startMs,
    intervalMs: o.intervalMs,
    requests: o.requests as number,
    errors: o.errors as number,
    bytes: o.bytes as number,
    latencyP50Ms: o.latencyP50Ms as number,
    latencyP99Ms: o.latencyP99Ms as number,
    maxConcurrency: o.maxConcurrency as number,
    byBackend,
  };
}

function parseByBackend(v: unknown): Record<string, number> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out = Object.create(null) as Record<string, number>;
  for (const [id, count] of Object.entries(v)) {
    if (!isFiniteNumber(count) || count < 0) return undefined;
    out[id] = count;
  }
  return out;
}

/** Keep the last entry of each startMs (entries are sorted, stable). */
function dedupe(entries: Entry[], warnings: string[]): Bucket[] {
  const out: Bucket[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    const next = entries[i + 1];
    if (next !== undefined && next.bucket.startMs === entry.bucket.startMs) {
      warnings.push(`${entry.where}: duplicate bucket for ${new Date(entry.bucket.startMs).toISOString()}, replaced by ${next.where}`);
      continue;
    }
    out.push(entry.bucket);
  }
  return out;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function readError(path: string, err: unknown): PrescaleError {
  const message = err instanceof Error ? err.message : String(err);
  return new PrescaleError('PRESCALE_ERR_TRAFFIC_LOG', `cannot read traffic log ${path}: ${message}`, {
    cause: err,
    details: { file: path },
  });
}
