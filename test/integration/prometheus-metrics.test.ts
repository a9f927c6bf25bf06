import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { promtool } from '../helpers/prometheus.js';
import { startServer } from '../helpers/servers.js';

/** The value of one sample line of the exposition, e.g. `prescale_x{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('/metrics of a running prescale under load', () => {
  let app: App;
  let good: Awaited<ReturnType<typeof startServer>>;
  let broken: Awaited<ReturnType<typeof startServer>>;
  const scrape = async () => (await request(`http://127.0.0.1:${app.adminPort}/metrics`)).body.text();
  let underLoad = '';

  beforeAll(async () => {
    good = await startServer((req, res) => {
      req.resume();
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 600);
      else res.end('ok');
    });
    // passes its health checks, but breaks the connection of every real request
    broken = await startServer((req, res) => {
      if (req.url === '/healthz') res.end('ok');
      else req.socket.destroy();
    });
    app = await startConfiguredApp({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: {
        algorithm: 'round-robin',
        backends: [{ url: good.url }, { url: broken.url }],
        maxConnsPerBackend: 2,
        healthCheck: { intervalMs: 50, rise: 1 },
      },
      series: { intervalMs: 200, logDir: freshLogDir() },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '400ms' },
    }, { readyBackends: 2 });
    // the broken backend fails a request: retried on the good one, and ejected (max_fails 1)
    for (let i = 0; i < 6; i++) await (await request(`http://127.0.0.1:${app.proxyPort}/x`)).body.dump();
  });

  afterAll(async () => {
    await app?.stop();
    await good?.close();
    await broken?.close();
  });

  it('reports retries, ejection, backend state and the queue while requests wait for a slot', async () => {
    // 8 concurrent slow requests, 2 slots on the only backend left: 6 wait
    const slow = Array.from({ length: 8 }, () => request(`http://127.0.0.1:${app.proxyPort}/slow`).then((r) => r.body.text()));
    let queued = 0;
    const deadline = Date.now() + 1500;
    while (queued < 6 && Date.now() < deadline) {
      underLoad = await scrape();
      queued = sample(underLoad, 'prescale_requests_queued{pool="default"}') ?? 0;
      await sleep(20);
    }
    expect(queued).toBe(6);
    expect(sample(underLoad, 'prescale_requests_in_flight')).toBe(2);
    expect(await Promise.all(slow)).toEqual(Array(8).fill('slow'));
    const text = await scrape();
    expect(sample(text, 'prescale_requests_queued{pool="default"}')).toBe(0);
    expect(sample(text, 'prescale_request_retries_total{backend="static-2"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'prescale_backend_ejections_total{backend="static-2"}')).toBe(1);
    expect(sample(text, 'prescale_backend_ejected{backend="static-2"}')).toBe(1);
    expect(sample(text, 'prescale_backend_up{backend="static-2"}')).toBe(0);
    expect(sample(text, 'prescale_backend_state{backend="static-1",state="ready"}')).toBe(1);
    expect(sample(text, 'prescale_backend_effective_weight{backend="static-1"}')).toBe(1);
    expect(sample(text, 'prescale_requests_total{backend="static-1",code="2xx"}')).toBe(6 + 8);
    // every client request got an answer: retried attempts are not counted twice in the histogram
    expect(sample(text, 'prescale_request_duration_seconds_count')).toBe(6 + 8);
  });

  it('reports decisions, capacity, forecast per quantile and a scored forecast error', async () => {
    let text = '';
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      text = await scrape();
      if ((sample(text, 'prescale_forecast_evaluated_intervals') ?? 0) >= 2) break;
      await sleep(100);
    }
    expect(sample(text, 'prescale_forecast_evaluated_intervals')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'prescale_forecast_upper_coverage_ratio')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'prescale_forecast_requests_per_second{percentile="p50"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'prescale_forecast_requests_per_second{percentile="p90"}')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^prescale_model_info\{model="[a-z-]+",version="candidates"\} 1$/m);
    expect(sample(text, 'prescale_capacity_ready_backends')).toBe(1);
    const decisions = text.split('\n').filter((l) => l.startsWith('prescale_scaling_decisions_total{')).reduce((s, l) => s + Number(l.split(' ')[1]), 0);
    expect(decisions).toBeGreaterThanOrEqual(3);
  });

  it('passes promtool check metrics', async () => {
    for (let i = 0; i < 20; i++) await (await request(`http://127.0.0.1:${app.proxyPort}/y`)).body.dump();
    const text = await scrape();
    const result = await promtool(['check', 'metrics'], text);
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
    // and so did the scrape taken while requests were queued
    expect(await promtool(['check', 'metrics'], underLoad)).toEqual({ code: 0, out: '' });
  });

  it('every metric named in the Grafana dashboard and the alerting rules exists in a real scrape', async () => {
    const text = await scrape();
    const exported = new Set(text.split('\n').filter((l) => l.startsWith('prescale_')).map((l) => (/^[a-z_]+/.exec(l) as RegExpExecArray)[0]));
    const dashboard = JSON.parse(await readFile(new URL('../../deploy/grafana/prescale-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ type: string; datasource?: { uid: string }; targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ name: string; definition?: string }> };
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    exprs.push(...dashboard.templating.list.map((v) => v.definition ?? ''));
    const { parse } = await import('yaml');
    const rules = parse(await readFile(new URL('../../deploy/prometheus/alerts.yml', import.meta.url), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
    exprs.push(...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)));
    const used = new Set(exprs.flatMap((e) => e.match(/prescale_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    // every panel queries the datasource chosen at import
    for (const p of dashboard.panels.filter((panel) => panel.type !== 'row')) expect(p.datasource?.uid).toBe('${DS_PROMETHEUS}');
    expect(dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS')).toMatchObject({ type: 'datasource' });
  });
});
