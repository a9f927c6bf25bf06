import { request } from 'undici';
import { z } from 'zod';
import { PrescaleError } from '../errors.js';

/** One series of a range query: its labels and [unix seconds, "value"] samples. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

const sample = z.tuple([z.number(), z.string()]);
const success = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.string(),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sample).default([]) })),
  }),
  warnings: z.array(z.string()).optional(),
});
const failure = z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() });

/** Options of `queryRange`. */
export interface RangeQuery {
  /** Prometheus base URL, e.g. http://prometheus:9090 (a path prefix is kept). */
  url: string;
  /** PromQL expression. */
  query: string;
  /** Evaluation times start, start + step, … <= end; epoch ms. */
  startMs: number;
  endMs: number;
  stepMs: number;
  /** Per request: headers and body each; default 30 s. */
  timeoutMs?: number;
}

/**
 * One Prometheus range query: HTTP GET `<url>/api/v1/query_range` with query, start, end (unix
 * seconds) and step (seconds), answered in the Prometheus HTTP API format
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries): on success
 * `{status:"success", data:{resultType:"matrix", result:[{metric, values:[[t,"v"],…]}]}}`, on
 * failure `{status:"error", errorType, error}` with a 4xx/5xx status.
 * @throws PrescaleError PRESCALE_ERR_CONFIG (rejection) naming the URL for an unreachable
 *   server, an error answer (with its errorType and error), a body that is not that JSON, or a
 *   result that is not a matrix
 */
export async function queryRange(q: RangeQuery): Promise<{ series: RangeSeries[]; warnings: string[] }> {
  const endpoint = new URL('api/v1/query_range', q.url.endsWith('/') ? q.url : `${q.url}/`);
  endpoint.search = new URLSearchParams({ query: q.query, start: String(q.startMs / 1000), end: String(q.endMs / 1000), step: String(q.stepMs / 1000) }).toString();
  const fail = (message: string, cause?: unknown): never => {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `prometheus ${endpoint.origin}${endpoint.pathname}: ${message}`, { cause, details: { url: q.url } });
  };
  const timeoutMs = q.timeoutMs ?? 30_000;
  let statusCode = 0;
  let text = '';
  try {
    const response = await request(endpoint, { method: 'GET', headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    statusCode = response.statusCode;
    text = await response.body.text();
  } catch (err) {
    fail(`cannot reach the server (${err instanceof Error ? err.message : String(err)}); check the Prometheus URL`, err);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`HTTP ${statusCode} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const error = failure.safeParse(body);
  if (error.success) fail(`query failed (HTTP ${statusCode}): ${error.data.errorType ?? 'error'}: ${error.data.error ?? 'no message'}`);
  const ok = success.safeParse(body);
  if (!ok.success || statusCode < 200 || statusCode >= 300) fail(`HTTP ${statusCode} with an answer that is not a Prometheus API response`);
  const data = (ok.data as z.output<typeof success>).data;
  if (data.resultType !== 'matrix') fail(`expected a "matrix" result for a range query, got "${data.resultType}"`);
  return { series: data.result, warnings: (ok.data as z.output<typeof success>).warnings ?? [] };
}
