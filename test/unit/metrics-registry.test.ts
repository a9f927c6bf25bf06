import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics, type HistorySourceStats } from '../../src/metrics/metrics.js';
import { countingObserver } from '../../src/metrics/queue-observer.js';
import { percentileLabel } from '../../src/metrics/forecast-metrics.js';
import { Backend } from '../../src/proxy/backend.js';
import type { ProxyObserver } from '../../src/proxy/forward.js';
import { withCallTiming } from '../../src/scaler/providers/retrying.js';
import { PrescaleError } from '../../src/errors.js';
import type { CapacityProvider, Fleet } from '../../src/scaler/provider.js';

const I = 10_000;

function backend(id: string, clock = { now: 1_000_000 }): Backend {
  const b = new Backend({
    id, url: 'http://127.0.0.1:1', weight: 10, connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1, keepAliveConnections: 1,
    slowStart: { windowMs: 10_000, aggression: 1, minWeightPercent: 10 }, nowMs: () => clock.now,
  });
  b.state = 'ready';
  b.healthy = true;
  return b;
}

/** The value of one sample line of the exposition, e.g. `prescale_x{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A real CapacityProvider whose describe answers after `delayMs` and whose setDesired fails. */
class FlakyProvider implements CapacityProvider {
  readonly name = 'flaky';
  async describe(): Promise<Fleet> {
    await new Promise((r) => setTimeout(r, 20));
    return { instances: [] };
  }
  async setDesired(): Promise<void> {
    throw new PrescaleError('PRESCALE_ERR_PROVIDER', 'quota exceeded');
  }
  async close(): Promise<void> {}
}

describe('metrics on a fresh registry', () => {
  it('reads per-backend counters and state from the backend objects at scrape time', async () => {
    const clock = { now: 1_000_000 };
    const a = backend('a', clock);
    const b = backend('b', clock);
    const m = new Metrics(() => [a, b], new Registry());
    a.responses[2] = 7;
    a.responses[0] = 2; // two attempts abandoned and retried elsewhere
    b.responses[5] = 1;
    b.ejections = 3;
    b.ejectedUntilMs = clock.now + 30_000;
    a.healthChecks[1] = 4;
    a.healthChecks[0] = 1;
    b.state = 'drain';
    a.beginSlowStart();
    clock.now += 5_000; // half the slow-start window
    a.inFlight = 2;
    const text = await m.registry.metrics();
    expect(sample(text, 'prescale_requests_total{backend="a",code="2xx"}')).toBe(7);
    expect(sample(text, 'prescale_requests_total{backend="a",code="0xx"}')).toBe(2);
    expect(sample(text, 'prescale_request_retries_total{backend="a"}')).toBe(2);
    expect(sample(text, 'prescale_backend_ejections_total{backend="b"}')).toBe(3);
    expect(sample(text, 'prescale_backend_ejected{backend="b"}')).toBe(1);
    expect(sample(text, 'prescale_health_checks_total{backend="a",result="pass"}')).toBe(4);
    expect(sample(text, 'prescale_health_checks_total{backend="a",result="fail"}')).toBe(1);
    expect(sample(text, 'prescale_backend_state{backend="b",state="drain"}')).toBe(1);
    expect(sample(text, 'prescale_backend_state{backend="b",state="ready"}')).toBe(0);
    expect(sample(text, 'prescale_backend_up{backend="b"}')).toBe(0);
    expect(sample(text, 'prescale_backend_weight{backend="a"}')).toBe(10);
    expect(sample(text, 'prescale_backend_effective_weight{backend="a"}')).toBe(5);
    expect(sample(text, 'prescale_requests_in_flight')).toBe(2);
    expect(sample(text, 'prescale_capacity_ready_backends')).toBe(1);
    // a backend that leaves the pool leaves the exposition
    const after = await new Metrics(() => [a], new Registry()).registry.metrics();
    expect(after).not.toContain('backend="b"');
  });

  it('counts waiting requests as admitted in flight minus those on a backend, only for pools that can queue', async () => {
    const a = backend('a');
    const m = new Metrics(() => [a], new Registry());
    const seen: number[] = [];
    const inner: ProxyObserver = { requestStarted: (n) => void seen.push(n), requestFinished() {} };
    const counted = countingObserver(inner);
    m.watchQueue('default', () => [a], counted.admittedInFlight);
    m.watchQueue('static', () => [], null);
    for (let i = 1; i <= 5; i++) counted.requestStarted(i, 0);
    counted.requestFinished(0, 1, 200, 0, 'a');
    a.inFlight = 2; // 4 admitted, 2 on the backend: 2 wait
    const text = await m.registry.metrics();
    expect(sample(text, 'prescale_requests_queued{pool="default"}')).toBe(2);
    expect(sample(text, 'prescale_requests_queued{pool="static"}')).toBe(0);
    expect(seen).toEqual([1, 2, 3, 4, 5]); // the wrapped observer still sees every request
  });

  it('publishes a tick: decision by reason, capacity, forecast per quantile, and scores the forecast error', async () => {
    const m = new Metrics(() => [], new Registry(), { intervalMs: I, forecastQuantile: 0.9, accuracyWindow: 10 });
    let text = await m.registry.metrics();
    // every reason exists at 0 before the first decision, so rate() and alerts see it
    expect(sample(text, 'prescale_scaling_decisions_total{reason="forecast-scale-out"}')).toBe(0);
    expect(sample(text, 'prescale_model_info{model="none",version="none"}')).toBe(1);
    m.forecast.watchVersion(() => 'model-7');
    // forecast at t0 for 3 steps: its value at the lead-time horizon (index 2) is 30 requests in [t0 + 2I, t0 + 3I)
    const t0 = 100 * I;
    m.recordForecast({ nowMs: t0 + 5, intervalMs: I, steps: 3, point: [10, 20, 300], upper: [20, 40, 400] });
    const tick = (nowMs: number, observedRps: number) =>
      m.recordTick({ nowMs, observedRps, forecast: { model: 'holt-winters', pointRps: 30, upperRps: 40 }, decision: { desired: 4, reason: 'forecast-scale-out' }, instances: 5 }, 300_000);
    tick(t0 + 5, 1);
    tick(t0 + 3 * I + 5, 35); // closes [t0 + 2I, t0 + 3I) with 35 rps: |30 - 35| = 5, within the upper 40
    text = await m.registry.metrics();
    expect(sample(text, 'prescale_scaling_decisions_total{reason="forecast-scale-out"}')).toBe(2);
    expect(sample(text, 'prescale_capacity_desired_backends')).toBe(4);
    expect(sample(text, 'prescale_capacity_instances')).toBe(5);
    expect(sample(text, 'prescale_scaler_lead_time_seconds')).toBe(300);
    expect(sample(text, 'prescale_forecast_requests_per_second{percentile="p50"}')).toBe(30);
    expect(sample(text, 'prescale_forecast_requests_per_second{percentile="p90"}')).toBe(40);
    expect(sample(text, 'prescale_forecast_evaluated_intervals')).toBe(1);
    expect(sample(text, 'prescale_forecast_mae_requests_per_second')).toBe(5);
    expect(sample(text, 'prescale_forecast_upper_coverage_ratio')).toBe(1);
    expect(sample(text, 'prescale_forecast_upper_coverage_target_ratio')).toBe(0.9);
    expect(sample(text, 'prescale_model_info{model="holt-winters",version="model-7"}')).toBe(1);
    expect(text).not.toContain('model="none"');
  });

  it('times provider calls by operation and counts the failed ones', async () => {
    const m = new Metrics(() => [], new Registry());
    const p = withCallTiming(new FlakyProvider(), (op, seconds, failed) => m.observeProviderCall(op, seconds, failed));
    await p.describe();
    await expect(p.setDesired(3)).rejects.toMatchObject({ code: 'PRESCALE_ERR_PROVIDER' });
    const text = await m.registry.metrics();
    expect(sample(text, 'prescale_provider_call_duration_seconds_count{operation="describe"}')).toBe(1);
    expect(sample(text, 'prescale_provider_call_duration_seconds_sum{operation="describe"}')).toBeGreaterThanOrEqual(0.015);
    expect(sample(text, 'prescale_provider_call_duration_seconds_count{operation="set_desired"}')).toBe(1);
    expect(sample(text, 'prescale_provider_call_errors_total{operation="set_desired"}')).toBe(1);
    expect(sample(text, 'prescale_provider_call_errors_total{operation="describe"}')).toBe(0);
    expect(p.name).toBe('flaky');
  });

  it('reports the history source: fallback, errors by reason, last success', async () => {
    const m = new Metrics(() => [], new Registry());
    let text = await m.registry.metrics();
    expect(sample(text, 'prescale_history_source_fallback')).toBe(0);
    const stats: HistorySourceStats = { fallback: true, errors: { request: 2, empty: 1 }, lastSuccessMs: 1_700_000_000_000 };
    m.watchHistorySource(() => stats);
    text = await m.registry.metrics();
    expect(sample(text, 'prescale_history_source_fallback')).toBe(1);
    expect(sample(text, 'prescale_history_source_errors_total{reason="request"}')).toBe(2);
    expect(sample(text, 'prescale_history_source_errors_total{reason="empty"}')).toBe(1);
    expect(sample(text, 'prescale_history_source_last_success_timestamp_seconds')).toBe(1_700_000_000);
  });
});

describe('percentile label of the forecast upper bound', () => {
  it.each([
    [0.5, 'p50'],
    [0.9, 'p90'],
    [0.99, 'p99'],
    [0.975, 'p97.5'],
    [0.95, 'p95'],
  ])('%s → %s', (q, label) => {
    expect(percentileLabel(q)).toBe(label);
  });
});
