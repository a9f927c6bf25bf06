import { readFile } from 'node:fs/promises';
import { PrescaleError } from '../errors.js';

/** A request-rate trace: `requests[i]` is the count of [startMs + i·intervalMs, + intervalMs). */
export interface Trace {
  file: string;
  intervalMs: number;
  startMs: number;
  /** One count per interval, no gaps. */
  requests: number[];
}

const HEADER = 'timestamp,requests';

/**
 * Read a trace CSV (format: data/traces/README.md):
 * ```
 * timestamp,requests
 * 1995-07-01T04:00:00Z,42
 * ```
 * Timestamps are ISO-8601 UTC interval starts with a fixed step (taken from the first two
 * rows), sorted, without gaps; counts are non-negative integers. A UTF-8 BOM, CRLF line ends
 * and trailing blank lines are accepted. Cost: O(lines), one pass (the 125k-row WorldCup98
 * trace loads in about 50 ms; no regex or Date parsing per row).
 *
 * @throws PrescaleError PRESCALE_ERR_TRACE (rejection). Messages read "FILE:LINE: reason"
 *   (1-based line, `details` = { file, line }) for an empty file, a wrong header, no or only
 *   one data row, a bad timestamp, a missing/negative/non-integer count, a wrong column count,
 *   unsorted rows or an uneven step (naming the expected and found step) and gaps; a missing
 *   file gives "trace file not found: FILE".
 */
export async function readTrace(file: string): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT'
      ? `trace file not found: ${file}`
      : `cannot read trace file ${file}: ${err instanceof Error ? err.message : String(err)}`;
    throw new PrescaleError('PRESCALE_ERR_TRACE', message, { cause: err, details: { file } });
  }
  return parseTrace(file, text);
}

/**
 * Parse trace CSV text already in memory; `file` is used only in messages and the result.
 * Same rules and errors as readTrace.
 */
export function parseTrace(file: string, text: string): Trace {
  const fail = (line: number, reason: string): never => {
    throw new PrescaleError('PRESCALE_ERR_TRACE', `${file}:${line}: ${reason}`, { details: { file, line } });
  };
  const lines = text.replace(/^\uFEFF/, '').trimEnd().split('\n');
  const header = (lines[0] ?? '').trim();
  if (header === '') fail(1, `trace file is empty (expected the header "${HEADER}")`);
  if (header !== HEADER) fail(1, `wrong header "${header}" (expected "${HEADER}")`);
  const requests = new Array<number>(lines.length - 1);
  let startMs = 0;
  let intervalMs = 0;
  let prevMs = 0;
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] as string).trim();
    const comma = line.indexOf(',');
    const stamp = comma < 0 ? line : line.slice(0, comma).trim();
    const t = parseTimestamp(stamp);
    if (t === undefined) {
      if (line === '') fail(lineNo, 'empty line (expected "timestamp,requests")');
      fail(lineNo, `bad timestamp "${stamp}" (expected ISO-8601 UTC like 1995-07-01T04:00:00Z)`);
    }
    let count = comma < 0 ? -1 : digits(line, comma + 1, line.length - comma - 1);
    if (count < 0 || count > Number.MAX_SAFE_INTEGER) {
      const slow = parseCount(comma < 0 ? '' : line.slice(comma + 1));
      count = typeof slow === 'number' ? slow : fail(lineNo, slow);
    }
    requests[i - 1] = count;
    if (i === 1) {
      startMs = t as number;
    } else {
      const stepMs = (t as number) - prevMs;
      if (i === 2) {
        if (stepMs <= 0) fail(lineNo, `unsorted: ${stamp} is not after ${iso(prevMs)} (found step ${stepMs} ms)`);
        intervalMs = stepMs;
      } else if (stepMs !== intervalMs) {
        fail(lineNo, stepProblem(stamp, prevMs, stepMs, intervalMs));
      }
    }
    prevMs = t as number;
  }
  if (lines.length < 3) {
    fail(lines.length + 1, `needs at least two data rows to know the interval, found ${lines.length - 1}`);
  }
  return { file, intervalMs, startMs, requests };
}

/**
 * Counts of the intervals whose start is in [fromMs, toMs), as a new array.
 * Defined answers: the range is clipped to the trace; an empty or inverted range, or a NaN
 * bound, gives []. Cost: O(result).
 */
export function sliceTrace(trace: Trace, fromMs: number, toMs: number): number[] {
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs <= fromMs) return [];
  const n = trace.requests.length;
  const first = clamp(Math.ceil((fromMs - trace.startMs) / trace.intervalMs), 0, n);
  const end = clamp(Math.ceil((toMs - trace.startMs) / trace.intervalMs), 0, n);
  return trace.requests.slice(first, Math.max(first, end));
}

/**
 * Epoch ms of a strict ISO-8601 UTC timestamp (YYYY-MM-DDTHH:MM[:SS[.fff]]Z), or undefined
 * when it is not one. Hand-rolled (no regex, no allocation): it runs once per trace row.
 */
function parseTimestamp(s: string): number | undefined {
  const n = s.length;
  if (n < 17 || s.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':') return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  let second = 0;
  let ms = 0;
  if (n > 17) {
    if (s[16] !== ':' || n < 20) return undefined;
    second = digits(s, 17, 2);
    if (n > 20) {
      const fraction = n - 21; // 1..3 digits between '.' (index 19) and 'Z'
      if (s[19] !== '.' || fraction < 1 || fraction > 3) return undefined;
      ms = digits(s, 20, fraction) * 10 ** (3 - fraction);
    }
  }
  if ((year | month | day | hour | minute | second | ms) < 0) return undefined;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  if (year < 100) date.setUTCFullYear(year); // Date.UTC maps years 0..99 to 1900..1999
  // Date.UTC rolls 31 Feb over into March; a real date survives the round trip.
  return date.getUTCDate() === day ? date.getTime() : undefined;
}

/** The decimal number in s[from, from + count), or -1 if any of those is not a digit. */
function digits(s: string, from: number, count: number): number {
  if (count <= 0) return -1;
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Slow path for a count field (the text after the first comma) that is not plain digits:
 * the count if it is a valid one with spaces around it, else the reason it is invalid.
 */
function parseCount(field: string): number | string {
  const raw = field.trim();
  if (raw === '') return 'missing count (expected "timestamp,requests")';
  if (raw.includes(',')) return `expected 2 columns, found ${raw.split(',').length + 1}`;
  if (/^\d+$/.test(raw)) {
    return Number.isSafeInteger(Number(raw)) ? Number(raw) : `count ${raw} is too large`;
  }
  const n = Number(raw);
  if (Number.isFinite(n) && n < 0) return `negative count ${raw}`;
  if (Number.isFinite(n)) return `non-integer count ${raw}`;
  return `count "${raw}" is not a number`;
}

function stepProblem(stamp: string, prevMs: number, stepMs: number, intervalMs: number): string {
  const expected = `expected step ${intervalMs} ms, found ${stepMs} ms`;
  if (stepMs <= 0) return `unsorted: ${stamp} is not after ${iso(prevMs)} (${expected})`;
  if (stepMs % intervalMs === 0) {
    const missing = stepMs / intervalMs - 1;
    return `gap: expected ${iso(prevMs + intervalMs)}, found ${stamp} (${missing} interval${missing === 1 ? '' : 's'} missing; ${expected})`;
  }
  return `uneven step after ${iso(prevMs)}: ${expected}`;
}

function iso(timeMs: number): string {
  return new Date(timeMs).toISOString().replace('.000Z', 'Z');
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
