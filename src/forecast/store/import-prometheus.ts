import type { ProgressCallback } from '../../runtime/progress-bar.js';
import { PrescaleError } from '../../errors.js';
import type { Bucket } from '../../series/traffic-series.js';
import { appendNewBuckets, countBucket, type ImportSummary } from './log-import.js';
import { queryRange, type RangeSeries } from '../../metrics/prometheus-range.js';

/** Prometheus refuses range queries of more than 11 000 points per series; stay below. */
const MAX_STEPS_PER_QUERY = 10_000;

/** Options of `importPrometheus`. */
export interface PrometheusImport {
  /** Prometheus base URL, e.g. http://prometheus:9090. */
  url: string;
  /** PromQL giving requests per second, e.g. `sum(rate(http_requests_total[1m]))`. */
  query: string;
  /** Range to import, epoch ms; aligned inwards to whole steps. */
  fromMs: number;
  toMs: number;
  /** Interval of the imported buckets, ms; a whole number of seconds. */
  stepMs: number;
  logDir: string;
  timeoutMs?: number;
  /** Called after each range query (stage "querying") and each written batch (stage "writing"). */
  onProgress?: ProgressCallback;
}

/**
 * `prescale import --prometheus URL --query PROMQL --start ISO --end ISO --step 60s`: seed the
 * traffic log from a Prometheus range query whose values are per-second rates.
 *
 * The range is aligned to whole steps [fromMs, toMs) and queried in chunks of at most 10 000
 * steps. The sample at time t describes the step before it, so it becomes the bucket starting
 * at t − step; the series of the result are summed per time (a series without a sample at a
 * time adds nothing; NaN and ±Inf samples are skipped), and requests = round(rate × step
 * seconds). Times with no sample in any series are not written (a gap: training counts it as 0
 * and reports it). Intervals the log already holds are skipped.
 * @throws PrescaleError PRESCALE_ERR_CONFIG (rejection) for a bad range or step, an
 *   unreachable server, an error answer or a query that returns no series;
 *   PRESCALE_ERR_TRAFFIC_LOG when the log cannot be written
 */
export async function importPrometheus(options: PrometheusImport): Promise<ImportSummary> {
  const { stepMs } = options;
  const fail = (message: string): never => {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `prometheus import: ${message}`);
  };
  if (!(Number.isInteger(stepMs / 1000) && stepMs >= 1000)) fail(`--step must be a whole number of seconds >= 1 s, got ${stepMs} ms`);
  const fromMs = Math.ceil(options.fromMs / stepMs) * stepMs;
  const toMs = Math.floor(options.toMs / stepMs) * stepMs;
  if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs > fromMs)) fail('--end must be at least one step after --start');
  const sums = new Map<number, number>();
  const warnings: string[] = [];
  let seriesSeen = 0;
  for (let chunkFrom = fromMs; chunkFrom < toMs; chunkFrom += MAX_STEPS_PER_QUERY * stepMs) {
    const chunkTo = Math.min(toMs, chunkFrom + MAX_STEPS_PER_QUERY * stepMs);
    const result = await queryRange({
      url: options.url, query: options.query, stepMs,
      startMs: chunkFrom + stepMs, endMs: chunkTo,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    seriesSeen += result.series.length;
    warnings.push(...result.warnings);
    addSeries(sums, result.series, stepMs, fromMs, toMs);
    options.onProgress?.(chunkTo - fromMs, toMs - fromMs, 'querying');
  }
  if (seriesSeen === 0) fail(`the query returned no series between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()}; check --query`);
  const buckets: Bucket[] = [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([startMs, rate]) => countBucket(startMs, stepMs, Math.round(rate * (stepMs / 1000))));
  return appendNewBuckets(options.logDir, buckets, { source: options.url, warnings: [...new Set(warnings)], onProgress: options.onProgress });
}

/** Add each finite sample's rate to the bucket of the step before its time, within [fromMs, toMs). */
function addSeries(sums: Map<number, number>, series: readonly RangeSeries[], stepMs: number, fromMs: number, toMs: number): void {
  for (const s of series) {
    for (const [seconds, text] of s.values) {
      const rate = Number(text);
      if (!Number.isFinite(rate)) continue;
      const startMs = Math.round((seconds * 1000) / stepMs) * stepMs - stepMs;
      if (startMs < fromMs || startMs >= toMs) continue;
      sums.set(startMs, (sums.get(startMs) ?? 0) + Math.max(0, rate));
    }
  }
}

/**
 * Epoch ms of an ISO-8601 time with a date, a time and a zone (`2025-03-10T00:00:00Z`,
 * `…+01:00`), as `--start` / `--end` take it.
 * @throws PrescaleError PRESCALE_ERR_CONFIG naming `label` for anything else
 */
export function parseInstant(label: string, text: string): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) || !Number.isFinite(ms)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${label} takes an ISO-8601 time with a zone like 2025-03-10T00:00:00Z, got "${text}"`);
  }
  return ms;
}
