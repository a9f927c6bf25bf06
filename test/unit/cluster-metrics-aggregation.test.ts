import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AGGREGATION_RULES, aggregateMetrics, aggregationRuleFor, retireSnapshot } from '../../src/cluster/metrics-aggregation.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { Upstream } from '../../src/proxy/upstream.js';

/** One process's view: a real upstream with two backends and the real Metrics over it. */
function processView(options: { ok: [number, number]; healthy: [boolean, boolean]; weight?: number; quantile?: number; durations?: number[] }) {
  const upstream = new Upstream(createBalancer('round-robin'), { connectTimeoutMs: 1000, firstByteTimeoutMs: 1000, idleTimeoutMs: 1000, keepAliveConnections: 1 });
  const b1 = upstream.add('static-1', 'http://127.0.0.1:1', options.weight ?? 1, 'ready', options.healthy[0]);
  const b2 = upstream.add('static-2', 'http://127.0.0.1:2', options.weight ?? 1, 'ready', options.healthy[1]);
  b1.responses[2] = options.ok[0];
  b2.responses[2] = options.ok[1];
  b1.inFlight = 1;
  const metrics = new Metrics(() => upstream.backends, new Registry(), options.quantile === undefined ? {} : { forecastQuantile: options.quantile });
  for (const d of options.durations ?? []) metrics.requestDuration.observe(d);
  return { upstream, metrics, snapshot: () => metrics.registry.getMetricsAsJSON() };
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('cluster /metrics aggregation', () => {
  it('sums request counters and histograms over workers, takes control-plane metrics from the primary only, and backend_up only when every worker has it up', async () => {
    const control = processView({ ok: [0, 0], healthy: [true, true], weight: 2, quantile: 0.95 });
    control.metrics.desiredBackends.set(3);
    const a = processView({ ok: [3, 5], healthy: [true, true], durations: [0.002, 0.02] });
    const b = processView({ ok: [4, 0], healthy: [false, true], durations: [0.2, 0.2, 3] });
    const text = await aggregateMetrics(await control.snapshot(), [await a.snapshot(), await b.snapshot()], null).metrics();

    expect(value(text, 'prescale_requests_total{backend="static-1",code="2xx"}')).toBe(7);
    expect(value(text, 'prescale_requests_total{backend="static-2",code="2xx"}')).toBe(5);
    expect(value(text, 'prescale_request_duration_seconds_count')).toBe(5);
    expect(value(text, 'prescale_request_duration_seconds_bucket{le="0.25"}')).toBe(4);
    expect(value(text, 'prescale_requests_in_flight')).toBe(2);
    expect(value(text, 'prescale_backend_requests_in_flight{backend="static-1"}')).toBe(2);
    expect(value(text, 'prescale_backend_up{backend="static-1"}')).toBe(0);
    expect(value(text, 'prescale_backend_up{backend="static-2"}')).toBe(1);
    // the control plane's copies: its weight, its decisions, its configured quantile, not sums
    expect(value(text, 'prescale_backend_weight{backend="static-1"}')).toBe(2);
    expect(value(text, 'prescale_capacity_desired_backends')).toBe(3);
    expect(value(text, 'prescale_forecast_upper_coverage_target_ratio')).toBe(0.95);
    expect(value(text, 'prescale_capacity_ready_backends')).toBe(2);
    // each metric once: one HELP line per name
    const helps = text.split('\n').filter((l) => l.startsWith('# HELP '));
    expect(new Set(helps).size).toBe(helps.length);
  });

  it('keeps an exited worker\'s counters in the sums, so totals never go down when a worker is replaced', async () => {
    const control = processView({ ok: [0, 0], healthy: [true, true] });
    const a = processView({ ok: [3, 5], healthy: [true, true], durations: [0.01] });
    const dead = processView({ ok: [4, 1], healthy: [false, false], durations: [0.01, 0.01] });
    const retired = await retireSnapshot(null, await dead.snapshot());
    const text = await aggregateMetrics(await control.snapshot(), [await a.snapshot()], retired).metrics();
    expect(value(text, 'prescale_requests_total{backend="static-1",code="2xx"}')).toBe(7);
    expect(value(text, 'prescale_request_duration_seconds_count')).toBe(3);
    // its gauges are gone: only the live worker's view counts
    expect(value(text, 'prescale_backend_up{backend="static-1"}')).toBe(1);
    expect(value(text, 'prescale_requests_in_flight')).toBe(1);
    // a second retirement adds up
    const twice = await retireSnapshot(retired, await dead.snapshot());
    const text2 = await aggregateMetrics(await control.snapshot(), [], twice).metrics();
    expect(value(text2, 'prescale_requests_total{backend="static-1",code="2xx"}')).toBe(8);
  });

  it('has a rule for every data-plane metric and names only metrics that exist', async () => {
    const { snapshot } = processView({ ok: [1, 1], healthy: [true, true] });
    const names = (await snapshot()).map((m) => m.name);
    const dataPlane = names.filter((n) => /^prescale_(request|backend_|health_check)/.test(n));
    expect(dataPlane.length).toBeGreaterThan(10);
    for (const n of dataPlane) expect(AGGREGATION_RULES[n], n).toBeDefined();
    for (const n of Object.keys(AGGREGATION_RULES)) expect(names, n).toContain(n);
    expect(aggregationRuleFor('prescale_process_process_cpu_seconds_total')).toEqual({ from: 'all' });
    expect(aggregationRuleFor('prescale_scaling_decisions_total')).toEqual({ from: 'control' });
  });
});
