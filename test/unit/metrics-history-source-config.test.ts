import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';

const base = { scaler: { capacityPerBackendRps: 100 }, upstream: { backends: [{ url: 'http://127.0.0.1:1' }] } };
const problems = (series: object) => {
  const r = validateConfig({ ...base, series });
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('series.source: the forecast history from Prometheus (config)', () => {
  it('defaults to the local series', () => {
    const r = validateConfig(base);
    expect(r.ok && r.config.series.source).toBe('local');
  });

  it('fills the default query (requests per second of every replica) and timeout', () => {
    const r = validateConfig({ ...base, series: { source: 'prometheus', prometheus: { url: 'http://prometheus:9090' } } });
    expect(r.ok && r.config.series.prometheus).toEqual({ url: 'http://prometheus:9090', query: 'sum(rate(prescale_request_duration_seconds_count{job="prescale"}[1m]))', timeoutMs: 5000 });
  });

  it.each([
    ['source prometheus without a url', { source: 'prometheus' }, 'series.prometheus: series.source "prometheus" needs series.prometheus with at least a url'],
    ['a step that does not divide the interval', { intervalMs: '10s', source: 'prometheus', prometheus: { url: 'http://p:9090', stepMs: '3s' } }, 'series.prometheus.stepMs: stepMs (3000 ms) must divide series.intervalMs (10000 ms)'],
    ['a url that is not http(s)', { source: 'prometheus', prometheus: { url: 'ftp://p' } }, 'series.prometheus.url'],
    ['an unknown source', { source: 'graphite' }, 'series.source'],
  ])('rejects %s', (_name, series, expected) => {
    expect(problems(series).join('\n')).toContain(expected);
  });

  it('accepts a step that divides the interval', () => {
    expect(problems({ intervalMs: '10s', source: 'prometheus', prometheus: { url: 'http://p:9090', stepMs: '5s', query: 'sum(rate(x[1m]))' } })).toEqual([]);
  });
});
