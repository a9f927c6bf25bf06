import type { ProgressCallback } from '../../runtime/progress-bar.js';
import { readTrace } from '../../series/trace.js';
import { appendNewBuckets, countBucket, type ImportSummary } from './log-import.js';

/**
 * `prescale import --trace FILE.csv --to data/traffic`: seed the traffic log from a trace CSV,
 * one bucket per row (requests = the row's count; errors, bytes, latency and backends 0), so
 * `prescale train --from data/traffic` and `serve`'s history start with real data. Rows the
 * log already holds are skipped. Cost: O(rows) plus the writes.
 * @throws PrescaleError PRESCALE_ERR_TRACE (rejection) for a missing or malformed CSV;
 *   PRESCALE_ERR_TRAFFIC_LOG when the log cannot be written
 */
export async function importTrace(options: { file: string; logDir: string; batchSize?: number; onProgress?: ProgressCallback }): Promise<ImportSummary> {
  const trace = await readTrace(options.file);
  const buckets = trace.requests.map((requests, i) => countBucket(trace.startMs + i * trace.intervalMs, trace.intervalMs, requests));
  return appendNewBuckets(options.logDir, buckets, {
    source: options.file,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    onProgress: options.onProgress,
  });
}
