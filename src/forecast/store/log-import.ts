import { readTrafficLog } from '../../series/traffic-log-reader.js';
import type { ProgressCallback } from '../../runtime/progress-bar.js';
import { TrafficLog } from '../../series/traffic-log.js';
import type { Bucket } from '../../series/traffic-series.js';

/** What an import wrote into the traffic log. */
export interface ImportSummary {
  /** The trace file or Prometheus URL. */
  source: string;
  logDir: string;
  intervalMs: number;
  /** The imported range [fromMs, toMs) (empty when nothing was imported). */
  fromMs: number;
  toMs: number;
  /** Buckets appended. */
  written: number;
  /** Buckets not appended because the log already holds that interval (an import is idempotent). */
  skippedExisting: number;
  /** Other interval lengths (ms) already logged in the range; training uses one length at a time. */
  otherIntervalsInLog: number[];
  warnings: string[];
}

/** A bucket that knows only its request count (imports have no latency, bytes or backends). */
export function countBucket(startMs: number, intervalMs: number, requests: number): Bucket {
  return { startMs, intervalMs, requests, errors: 0, bytes: 0, latencyP50Ms: 0, latencyP99Ms: 0, maxConcurrency: 0, byBackend: {} };
}

/**
 * Append `buckets` (sorted by startMs, one interval length) to the traffic log in `logDir`
 * through TrafficLog.append, `batchSize` per call (each call is one durable write per UTC day).
 * Intervals the log already holds at the same length are skipped, so re-running an import
 * adds nothing. Cost: one read of the log over the range, plus the writes.
 * @throws PrescaleError PRESCALE_ERR_TRAFFIC_LOG (rejection) when the log cannot be read or written
 */
export async function appendNewBuckets(
  logDir: string,
  buckets: readonly Bucket[],
  options: { source: string; batchSize?: number; warnings?: string[]; onProgress?: ProgressCallback | undefined },
): Promise<ImportSummary> {
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  const intervalMs = first?.intervalMs ?? 0;
  const summary: ImportSummary = {
    source: options.source, logDir, intervalMs, fromMs: first?.startMs ?? 0, toMs: last === undefined ? 0 : last.startMs + last.intervalMs,
    written: 0, skippedExisting: 0, otherIntervalsInLog: [], warnings: [...(options.warnings ?? [])],
  };
  if (first === undefined) return summary;
  const existing = await readTrafficLog(logDir, { fromMs: summary.fromMs, toMs: summary.toMs });
  const logged = new Set(existing.buckets.filter((b) => b.intervalMs === intervalMs).map((b) => b.startMs));
  summary.otherIntervalsInLog = [...new Set(existing.buckets.map((b) => b.intervalMs).filter((ms) => ms !== intervalMs))];
  const fresh = buckets.filter((b) => !logged.has(b.startMs));
  summary.skippedExisting = buckets.length - fresh.length;
  const log = new TrafficLog({ dir: logDir });
  const batchSize = options.batchSize ?? 1440;
  try {
    for (let i = 0; i < fresh.length; i += batchSize) {
      const batch = fresh.slice(i, i + batchSize);
      await log.append(batch);
      summary.written += batch.length;
      options.onProgress?.(summary.written, fresh.length, 'writing');
    }
  } finally {
    await log.close();
  }
  return summary;
}

/** One line for the terminal. */
export function formatImportSummary(s: ImportSummary): string {
  const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
  const range = s.written + s.skippedExisting === 0 ? 'nothing to import' : `${iso(s.fromMs)} to ${iso(s.toMs)}`;
  const lines = [
    `${s.source} → ${s.logDir}: ${range}; ${s.written} buckets of ${s.intervalMs / 1000} s written, ${s.skippedExisting} already logged`,
  ];
  if (s.otherIntervalsInLog.length > 0) {
    lines.push(`warning: the log also holds ${s.otherIntervalsInLog.map((ms) => `${ms / 1000}-s`).join(', ')} buckets in this range; train with --interval to pick one`);
  }
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
