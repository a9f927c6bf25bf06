import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { PrometheusSeries } from '../../src/series/prometheus-source.js';
import { TrafficSeries } from '../../src/series/traffic-series.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { startServer } from '../helpers/servers.js';

const INTERVAL_MS = 1000;
/** The forecaster's query with a window of 3 scrapes (production uses [1m] at a 15 s scrape). */
const QUERY = 'sum(rate(prescale_request_duration_seconds_count{job="prescale"}[3s]))';
/** Stated tolerance of the summed series against the requests sent: rate() extrapolates at window edges. */
const TOLERANCE = 0.1;
/** Requests each replica serves before Prometheus first scrapes it. */
const WARM_UP = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** Instant query; the single value of the result, or undefined when it has no series. */
async function instant(prom: TestPrometheus, query: string): Promise<number | undefined> {
  const res = await request(`${prom.url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.body.json()) as { data: { result: Array<{ value: [number, string] }> } };
  const first = body.data.result[0];
  return first === undefined ? undefined : Number(first.value[1]);
}

/** Send `perTick` GETs to `port` every `everyMs` for `ticks` ticks; resolves the number answered 200. */
async function load(port: number, perTick: number, everyMs: number, ticks: number): Promise<number> {
  const pending: Array<Promise<number>> = [];
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < perTick; i++) pending.push(request(`http://127.0.0.1:${port}/work`).then(async (r) => (await r.body.dump(), r.statusCode)));
    await sleep(everyMs);
  }
  return (await Promise.all(pending)).filter((s) => s === 200).length;
}

describe('a real Prometheus scrapes two prescale replicas; the forecast reads the summed series back', () => {
  let prom: TestPrometheus;
  let backends: Array<Awaited<ReturnType<typeof startServer>>>;
  let reader: App; // series.source prometheus: its forecast history is the total of both replicas
  let other: App;
  let sentReader = 0;
  let sentOther = 0;

  beforeAll(async () => {
    prom = await startPrometheus(1000);
    backends = await Promise.all([0, 1].map(() => startServer((req, res) => (req.resume(), res.end('ok')))));
    const config = (extra: object) => ({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { backends: backends.map((b) => ({ url: b.url })), healthCheck: { intervalMs: 100, rise: 1 } },
      series: { intervalMs: INTERVAL_MS, capacity: 120, logDir: freshLogDir(), ...extra },
      scaler: { capacityPerBackendRps: 1000, leadTimeMs: '2s' },
    });
    [reader, other] = await Promise.all([
      startConfiguredApp(config({ source: 'prometheus', prometheus: { url: prom.url, query: QUERY, timeoutMs: '2s' } }), { readyBackends: 2 }),
      startConfiguredApp(config({}), { readyBackends: 2 }),
    ]);
    // counters well above 0 before the first scrape: rate() does not extrapolate a counter below 0,
    // which would bias windows at the start of the load low (the warm-up itself is never an increase)
    await Promise.all([load(reader.proxyPort, 10, 0, WARM_UP / 10), load(other.proxyPort, 10, 0, WARM_UP / 10)]);
    await prom.setTargets([`127.0.0.1:${reader.adminPort}`, `127.0.0.1:${other.adminPort}`]);
    const deadline = Date.now() + 15_000;
    while ((await instant(prom, 'count(up{job="prescale"} == 1)')) !== 2 && Date.now() < deadline) await sleep(200);
  });

  afterAll(async () => {
    await reader?.stop();
    await other?.stop();
    await prom?.close();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  it('the series read with the forecaster\'s code sums what both replicas served', async () => {
    expect(await instant(prom, 'count(up{job="prescale"} == 1)'), prom.log()).toBe(2);
    // 30 rps through one replica and 15 rps through the other, for 6 s
    [sentReader, sentOther] = await Promise.all([load(reader.proxyPort, 3, 100, 60), load(other.proxyPort, 3, 200, 30)]);
    const sent = sentReader + sentOther;
    expect(sentReader).toBe(180);
    expect(sentOther).toBe(90);
    // Prometheus has the final counts of both replicas: exactly what was sent
    const deadline = Date.now() + 10_000;
    let scraped: number | undefined;
    while ((scraped = await instant(prom, 'sum(prescale_request_duration_seconds_count{job="prescale"})')) !== sent + 2 * WARM_UP && Date.now() < deadline) await sleep(200);
    expect(scraped).toBe(sent + 2 * WARM_UP);
    await sleep(3_500); // let the 3 s rate windows pass the last increase

    const source = new PrometheusSeries({ url: prom.url, query: QUERY, timeoutMs: 2000, capacity: 120, local: new TrafficSeries({ intervalMs: INTERVAL_MS, capacity: 120 }) });
    await source.refresh(Date.now());
    expect(source.fallback).toBe(false);
    const history = source.values();
    expect(history).toHaveLength(120);
    const total = sum(history);
    expect(Math.abs(total - sent) / sent, `summed series ${total.toFixed(1)} vs ${sent} sent`).toBeLessThanOrEqual(TOLERANCE);
    // the peak interval carries the load of both replicas (45 rps), more than either alone (30 rps)
    expect(Math.max(...history)).toBeGreaterThan(36);
  });

  it('the replica with series.source prometheus forecasts from the total, not from its own share', async () => {
    const source = reader.historySource as PrometheusSeries;
    // the control loop refreshes it every tick
    expect(Date.now() - source.lastSuccessMs).toBeLessThan(3 * INTERVAL_MS);
    await source.refresh(Date.now());
    expect(source.fallback).toBe(false);
    const sent = sentReader + sentOther;
    const live = sum(source.values());
    expect(Math.abs(live - sent) / sent, `live series ${live.toFixed(1)} vs ${sent} sent`).toBeLessThanOrEqual(TOLERANCE);
    // its own local series holds only its share
    expect(sum(reader.series.values())).toBeLessThanOrEqual(WARM_UP + sentReader);
    const metrics = await (await request(`http://127.0.0.1:${reader.adminPort}/metrics`)).body.text();
    expect(metrics).toMatch(/^prescale_history_source_fallback 0$/m);
    expect(metrics).toMatch(/^prescale_history_source_last_success_timestamp_seconds [1-9]/m);
  });

  it('a query with no series or a query Prometheus rejects falls back to the local series and is counted', async () => {
    const local = new TrafficSeries({ intervalMs: INTERVAL_MS, capacity: 10 });
    local.seed([1, 2, 3], Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS);
    const empty = new PrometheusSeries({ url: prom.url, query: 'sum(rate(prescale_no_such_metric_total[3s]))', timeoutMs: 2000, capacity: 10, local });
    await empty.refresh(Date.now());
    expect(empty.fallback).toBe(true);
    expect(empty.errors).toEqual({ request: 0, empty: 1 });
    expect(empty.values()).toEqual(local.values());
    const rejected = new PrometheusSeries({ url: prom.url, query: 'sum(rate(', timeoutMs: 2000, capacity: 10, local });
    await rejected.refresh(Date.now());
    expect(rejected.errors).toEqual({ request: 1, empty: 0 });
    expect(rejected.values()).toEqual([1, 2, 3]);
  });

  it('when Prometheus goes down the replica falls back to its local series, counts it, and the metric shows it', async () => {
    const source = reader.historySource as PrometheusSeries;
    await prom.close();
    const before = source.errors.request;
    await source.refresh(Date.now());
    expect(source.fallback).toBe(true);
    expect(source.errors.request).toBeGreaterThan(before);
    expect(source.values()).toEqual(reader.series.values());
    const metrics = await (await request(`http://127.0.0.1:${reader.adminPort}/metrics`)).body.text();
    expect(metrics).toMatch(/^prescale_history_source_fallback 1$/m);
    expect(metrics).toMatch(/^prescale_history_source_errors_total\{reason="request"\} [1-9]/m);
  });
});
