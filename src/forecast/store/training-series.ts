import { stat } from 'node:fs/promises';
import { PrescaleError } from '../../errors.js';
import { readTrace } from '../../series/trace.js';
import { readTrafficLog } from '../../series/traffic-log-reader.js';
import { isNotFound } from './store-error.js';

const DAY_MS = 86_400_000;

/** Counts per interval ready to train on: `requests[i]` counts [startMs + i·intervalMs, + intervalMs). */
export interface TrainingSeries {
  /** Where it came from (directory, file or URL), recorded in meta.json. */
  source: string;
  startMs: number;
  intervalMs: number;
  requests: number[];
  /** Intervals no input covered, counted as 0 requests (as app.ts seeds its history). */
  missingIntervals: number;
  /** Inputs whose interval does not divide `intervalMs` (not used). */
  skippedInputs: number;
  /** Lines the traffic log reader skipped (torn or invalid), "FILE:LINE: reason". */
  warnings: string[];
}

/** Options of `readTrainingSeries`. */
export interface ReadTrainingOptions {
  /** Interval of the result, ms; a whole multiple of the input's interval that divides a day.
   *  Default: the input's interval (the most common one in a traffic log). */
  intervalMs?: number;
  /** Only intervals that end at or before this time (epoch ms). */
  endMs?: number;
  /** Only the last `days` days before the end. */
  days?: number;
  /** 'traffic-log': `source` is a log directory, which may not exist yet (no traffic);
   *  default 'auto': a directory is a traffic log, a file a trace CSV, nothing an error. */
  kind?: 'auto' | 'traffic-log';
}

/** One input count: a traffic-log bucket or a trace row. */
interface Input {
  startMs: number;
  intervalMs: number;
  requests: number;
}

/**
 * Read the series to train on from a traffic log directory (TrafficLog, e.g. data/traffic) or
 * a trace CSV (trace.ts), summed into `intervalMs` intervals aligned to the epoch. Only whole
 * intervals are kept (a partial first or last one is dropped); an interval with no input counts
 * 0 requests and is counted in `missingIntervals`. Cost: O(inputs + intervals).
 * @throws PrescaleError PRESCALE_ERR_CONFIG (rejection) for a missing source, an interval that
 *   is not a multiple of the input's or does not divide a day, or no whole interval of data;
 *   PRESCALE_ERR_TRACE for a malformed CSV; PRESCALE_ERR_TRAFFIC_LOG for an unreadable log
 */
export async function readTrainingSeries(source: string, options: ReadTrainingOptions = {}): Promise<TrainingSeries> {
  let inputs: Input[];
  let warnings: string[] = [];
  if (options.kind === 'traffic-log' || (await isDirectory(source))) {
    const fromMs = options.endMs !== undefined && options.days !== undefined ? options.endMs - options.days * DAY_MS - DAY_MS : undefined;
    const log = await readTrafficLog(source, fromMs === undefined ? {} : { fromMs });
    inputs = log.buckets;
    warnings = log.warnings;
  } else {
    const trace = await readTrace(source);
    inputs = trace.requests.map((requests, i) => ({ startMs: trace.startMs + i * trace.intervalMs, intervalMs: trace.intervalMs, requests }));
  }
  if (inputs.length === 0) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `training data ${source}: no traffic logged yet (run "prescale serve" for a while or "prescale import")`);
  }
  return { source, warnings, ...resampleCounts(source, inputs, options) };
}

/**
 * Sum `inputs` into aligned intervals of `options.intervalMs` (see readTrainingSeries).
 * Inputs whose interval does not divide the target are skipped and counted.
 */
export function resampleCounts(
  source: string,
  inputs: readonly Input[],
  options: ReadTrainingOptions,
): Omit<TrainingSeries, 'source' | 'warnings'> {
  const fail = (message: string): never => {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `training data ${source}: ${message}`);
  };
  const native = mostCommonInterval(inputs);
  const target = options.intervalMs ?? native;
  if (!(Number.isInteger(target) && target > 0 && DAY_MS % target === 0)) fail(`the interval must be a whole number of ms that divides one day, got ${target} ms`);
  if (target % native !== 0) fail(`cannot train at ${target / 1000}-s intervals on ${native / 1000}-s data; use a multiple of ${native / 1000} s`);
  const used = inputs.filter((p) => target % p.intervalMs === 0);
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of used) {
    lo = Math.min(lo, p.startMs);
    hi = Math.max(hi, p.startMs + p.intervalMs);
  }
  let first = Math.ceil(lo / target) * target;
  let end = Math.floor(hi / target) * target;
  if (options.endMs !== undefined) end = Math.min(end, Math.floor(options.endMs / target) * target);
  if (options.days !== undefined) first = Math.max(first, end - Math.round(options.days * DAY_MS / target) * target);
  const n = Math.round((end - first) / target);
  if (n <= 0) fail(`no whole ${target / 1000}-s interval of data in the requested range`);
  const requests = new Array<number>(n).fill(0);
  const covered = new Uint8Array(n);
  for (const p of used) {
    const i = Math.floor((p.startMs - first) / target);
    if (i < 0 || i >= n) continue;
    requests[i] = (requests[i] as number) + p.requests;
    covered[i] = 1;
  }
  const missingIntervals = n - covered.reduce((sum, c) => sum + c, 0);
  return { startMs: first, intervalMs: target, requests, missingIntervals, skippedInputs: inputs.length - used.length };
}

/** Whether `source` is a directory (a traffic log) rather than a file (a trace CSV). */
async function isDirectory(source: string): Promise<boolean> {
  try {
    return (await stat(source)).isDirectory();
  } catch (err) {
    const reason = isNotFound(err) ? 'no such file or directory' : (err as Error).message;
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `training data ${source}: ${reason} (expected a traffic log directory like data/traffic or a timestamp,requests CSV)`, { cause: err });
  }
}

function mostCommonInterval(inputs: readonly Input[]): number {
  const counts = new Map<number, number>();
  for (const p of inputs) counts.set(p.intervalMs, (counts.get(p.intervalMs) ?? 0) + 1);
  let best = 0;
  let bestCount = -1;
  for (const [interval, count] of counts) {
    if (count > bestCount || (count === bestCount && interval < best)) {
      best = interval;
      bestCount = count;
    }
  }
  return best;
}
