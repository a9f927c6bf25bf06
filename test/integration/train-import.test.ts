import { execFile } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { importPrometheus } from '../../src/forecast/store/import-prometheus.js';
import { readTrafficLog } from '../../src/series/traffic-log.js';
import { deadPort, startServer } from '../helpers/servers.js';

const run = promisify(execFile);
const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;
const STEP_S = 60;
const fromMs = Date.UTC(2025, 2, 1);

/** Two series of per-second rates; "b" has no sample at every 7th time and a NaN at every 11th. */
function rateA(t: number): number {
  return 2 + ((t / STEP_S) % 10) / 10;
}
function sampleB(t: number): string | undefined {
  if ((t / STEP_S) % 7 === 0) return undefined;
  return (t / STEP_S) % 11 === 0 ? 'NaN' : '0.25';
}

/** What Prometheus answers for one GET /api/v1/query_range (https://prometheus.io/docs/prometheus/latest/querying/api/). */
function prometheus(calls: URLSearchParams[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== '/prom/api/v1/query_range') return json(404, { status: 'error', errorType: 'not_found', error: 'no such path' });
    const p = url.searchParams;
    calls.push(p);
    const query = p.get('query');
    if (query === 'sum(rate(http_requests_total[1m]') return json(400, { status: 'error', errorType: 'bad_data', error: '1:32: parse error: unclosed left parenthesis' });
    if (query === 'overloaded') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      return res.end('Service Unavailable');
    }
    if (query === 'absent_metric') return json(200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(p.get(k))) as [number, number, number];
    const a: [number, string][] = [];
    const b: [number, string][] = [];
    for (let t = start; t <= end; t += step) {
      a.push([t, String(rateA(t))]);
      const v = sampleB(t);
      if (v !== undefined) b.push([t, v]);
    }
    json(200, {
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { instance: 'a:8080' }, values: a }, { metric: { instance: 'b:8080' }, values: b }] },
    });
  };
}

let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
const calls: URLSearchParams[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-import-'));
  server = await startServer(prometheus(calls));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('import from a Prometheus range query', () => {
  it('sums the series, turns rates into requests per step and logs one bucket per step before each sample', async () => {
    const logDir = join(dir, 'traffic-sum');
    calls.length = 0;
    const toMs = fromMs + 3 * 3_600_000;
    const summary = await importPrometheus({ url: `${server.url}/prom`, query: 'sum by (instance) (rate(http_requests_total[1m]))', fromMs, toMs, stepMs: STEP_S * 1000, logDir });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.get('start')).toBe(String(fromMs / 1000 + STEP_S));
    expect(calls[0]?.get('end')).toBe(String(toMs / 1000));
    expect(calls[0]?.get('step')).toBe('60');
    expect(summary).toMatchObject({ written: 180, skippedExisting: 0, intervalMs: 60_000, fromMs, toMs });
    const { buckets } = await readTrafficLog(logDir);
    expect(buckets).toHaveLength(180);
    buckets.forEach((bucket, i) => {
      const t = (fromMs + (i + 1) * 60_000) / 1000; // the sample at t is the minute before t
      const b = sampleB(t);
      const rate = rateA(t) + (b === undefined || b === 'NaN' ? 0 : Number(b));
      expect(bucket).toMatchObject({ startMs: fromMs + i * 60_000, intervalMs: 60_000, requests: Math.round(rate * STEP_S) });
    });
    expect((await importPrometheus({ url: `${server.url}/prom`, query: 'up', fromMs, toMs, stepMs: 60_000, logDir })).written).toBe(0);
  });

  it('splits a long range into queries of at most 10 000 steps with no overlap', async () => {
    calls.length = 0;
    const toMs = fromMs + 8 * 86_400_000; // 11 520 steps: over the 11 000-point limit of one query
    const summary = await importPrometheus({ url: `${server.url}/prom/`, query: 'up', fromMs, toMs, stepMs: 60_000, logDir: join(dir, 'traffic-long') });
    expect(calls.map((p) => [Number(p.get('start')), Number(p.get('end'))])).toEqual([
      [fromMs / 1000 + 60, fromMs / 1000 + 600_000],
      [fromMs / 1000 + 600_060, toMs / 1000],
    ]);
    expect(summary.written).toBe(11_520);
  });

  it.each([
    ['an error answer', 'sum(rate(http_requests_total[1m]', /query failed \(HTTP 400\): bad_data: 1:32: parse error: unclosed left parenthesis/],
    ['a body that is not JSON', 'overloaded', /HTTP 503 with a body that is not JSON: "Service Unavailable"/],
    ['a query with no series', 'absent_metric', /returned no series .* check --query/],
  ])('fails clearly on %s', async (_, query, message) => {
    const promise = importPrometheus({ url: `${server.url}/prom`, query, fromMs, toMs: fromMs + 3_600_000, stepMs: 60_000, logDir: join(dir, 'traffic-err') });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrescaleError);
    expect((err as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
    expect((err as PrescaleError).message).toMatch(message);
    expect((await readTrafficLog(join(dir, 'traffic-err'))).buckets).toEqual([]);
  });

  it('fails clearly when Prometheus cannot be reached', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const promise = importPrometheus({ url, query: 'up', fromMs, toMs: fromMs + 3_600_000, stepMs: 60_000, logDir: join(dir, 'traffic-dead') });
    await expect(promise).rejects.toMatchObject({ code: 'PRESCALE_ERR_CONFIG', message: expect.stringMatching(/cannot reach the server .*ECONNREFUSED/) });
  });

  it('CLI: an error answer exits 2 and names the Prometheus error', async () => {
    const argv = [bin, 'import', '--prometheus', `${server.url}/prom`, '--query', 'sum(rate(http_requests_total[1m]', '--start', '2025-03-01T00:00:00Z', '--end', '2025-03-01T01:00:00Z', '--step', '60s', '--to', join(dir, 'cli-traffic')];
    const err = (await run(process.execPath, argv).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('bad_data: 1:32: parse error');
  });
});

describe('import from a trace CSV', () => {
  it('CLI: seeds the traffic log with one bucket per row', async () => {
    const csv = join(dir, 'trace.csv');
    const counts = [5, 0, 12, 7];
    await writeFile(csv, `timestamp,requests\n${counts.map((c, i) => `2025-03-01T00:0${i}:00Z,${c}`).join('\n')}\n`);
    const logDir = join(dir, 'cli-trace');
    const { stdout } = await run(process.execPath, [bin, 'import', '--trace', csv, '--to', logDir]);
    expect(stdout).toContain('4 buckets of 60 s written, 0 already logged');
    const { buckets } = await readTrafficLog(logDir);
    expect(buckets.map((b) => [b.startMs, b.requests])).toEqual(counts.map((c, i) => [fromMs + i * 60_000, c]));
  });
});
