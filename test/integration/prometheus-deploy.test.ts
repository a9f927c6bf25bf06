import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { promtool } from '../helpers/prometheus.js';

const deploy = (file: string) => new URL(`../../deploy/prometheus/${file}`, import.meta.url).pathname;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One promtool rule test: input series (1 min apart) and the alerts expected at `at`. */
interface Scenario {
  name: string;
  series: Record<string, string>;
  at: string;
  alert: string;
  expect: Array<Record<string, string>>;
}

const job = 'job="prescale",instance="p1:9464"';
const scenarios: Scenario[] = [
  {
    name: 'ready below desired for 10 minutes',
    series: { [`prescale_capacity_ready_backends{${job}}`]: '2x30', [`prescale_capacity_desired_backends{${job}}`]: '4x30' },
    at: '15m', alert: 'PrescaleUnderProvisioned', expect: [{ job: 'prescale', severity: 'critical' }],
  },
  {
    name: 'ready equal to desired',
    series: { [`prescale_capacity_ready_backends{${job}}`]: '4x30', [`prescale_capacity_desired_backends{${job}}`]: '4x30' },
    at: '15m', alert: 'PrescaleUnderProvisioned', expect: [],
  },
  {
    // 100 rps on one ready backend of 100 rps at a 0.8 target: utilisation 1.0
    name: 'offered load above the target utilisation',
    series: {
      [`prescale_request_duration_seconds_count{${job}}`]: '0+6000x40',
      [`prescale_capacity_ready_backends{${job}}`]: '1x40',
      [`prescale_scaler_backend_capacity_requests_per_second{${job}}`]: '100x40',
      [`prescale_scaler_target_utilization_ratio{${job}}`]: '0.8x40',
    },
    at: '20m', alert: 'PrescaleUtilizationAboveTarget', expect: [{ job: 'prescale', severity: 'warning' }],
  },
  {
    name: 'offered load within the target utilisation',
    series: {
      [`prescale_request_duration_seconds_count{${job}}`]: '0+6000x40',
      [`prescale_capacity_ready_backends{${job}}`]: '2x40',
      [`prescale_scaler_backend_capacity_requests_per_second{${job}}`]: '100x40',
      [`prescale_scaler_target_utilization_ratio{${job}}`]: '0.8x40',
    },
    at: '20m', alert: 'PrescaleUtilizationAboveTarget', expect: [],
  },
  {
    name: 'a backend ejected for 5 minutes',
    series: { [`prescale_backend_ejected{${job},backend="b1"}`]: '1x20', [`prescale_backend_ejected{${job},backend="b2"}`]: '0x20' },
    at: '10m', alert: 'PrescaleBackendsEjected', expect: [{ job: 'prescale', instance: 'p1:9464', severity: 'warning' }],
  },
  {
    name: 'provider calls failing',
    series: { [`prescale_provider_call_errors_total{${job},operation="set_desired"}`]: '0+1x30', [`prescale_provider_call_errors_total{${job},operation="describe"}`]: '0x30' },
    at: '20m', alert: 'PrescaleProviderErrors', expect: [{ job: 'prescale', instance: 'p1:9464', operation: 'set_desired', severity: 'warning' }],
  },
  {
    name: 'upper bound covering half the intervals at a 0.9 target',
    series: {
      [`prescale_forecast_upper_coverage_ratio{${job}}`]: '0.5x40',
      [`prescale_forecast_upper_coverage_target_ratio{${job}}`]: '0.9x40',
      [`prescale_forecast_mae_requests_per_second{${job}}`]: '1x40',
      [`prescale_forecast_observed_mean_requests_per_second{${job}}`]: '100x40',
      [`prescale_forecast_evaluated_intervals{${job}}`]: '60x40',
    },
    at: '20m', alert: 'PrescaleForecastAccuracyDegraded', expect: [{ job: 'prescale', instance: 'p1:9464', severity: 'warning' }],
  },
  {
    name: 'an accurate forecast',
    series: {
      [`prescale_forecast_upper_coverage_ratio{${job}}`]: '0.88x40',
      [`prescale_forecast_upper_coverage_target_ratio{${job}}`]: '0.9x40',
      [`prescale_forecast_mae_requests_per_second{${job}}`]: '10x40',
      [`prescale_forecast_observed_mean_requests_per_second{${job}}`]: '100x40',
      [`prescale_forecast_evaluated_intervals{${job}}`]: '60x40',
    },
    at: '20m', alert: 'PrescaleForecastAccuracyDegraded', expect: [],
  },
  {
    name: 'too few scored intervals to judge',
    series: {
      [`prescale_forecast_upper_coverage_ratio{${job}}`]: '0x40',
      [`prescale_forecast_upper_coverage_target_ratio{${job}}`]: '0.9x40',
      [`prescale_forecast_mae_requests_per_second{${job}}`]: '0x40',
      [`prescale_forecast_observed_mean_requests_per_second{${job}}`]: '0x40',
      [`prescale_forecast_evaluated_intervals{${job}}`]: '0x40',
    },
    at: '20m', alert: 'PrescaleForecastAccuracyDegraded', expect: [],
  },
  {
    name: 'history source in fallback',
    series: { [`prescale_history_source_fallback{${job}}`]: '1x20' },
    at: '10m', alert: 'PrescaleHistorySourceFallback', expect: [{ job: 'prescale', instance: 'p1:9464', severity: 'warning' }],
  },
];

describe('deploy/prometheus: scrape config and alerting rules', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prescale-rules-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('promtool check config accepts prometheus.yml (and the rule file it loads)', async () => {
    const result = await promtool(['check', 'config', deploy('prometheus.yml')]);
    expect(result.out).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('promtool check rules accepts alerts.yml', async () => {
    const result = await promtool(['check', 'rules', deploy('alerts.yml')]);
    expect(result.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code).toBe(0);
  });

  it('each alert fires on its condition and stays quiet otherwise (promtool test rules)', async () => {
    // annotations are prose for people; promtool would compare them verbatim, so they are left out
    const rules = parse(await readFile(deploy('alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
    for (const g of rules.groups) for (const r of g.rules) delete r.annotations;
    const alerts = new Set(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)));
    expect(new Set(scenarios.map((s) => s.alert))).toEqual(alerts);
    await writeFile(join(dir, 'alerts.yml'), stringify(rules));
    const tests = {
      rule_files: ['alerts.yml'],
      evaluation_interval: '1m',
      tests: scenarios.map((s) => ({
        name: s.name,
        interval: '1m',
        input_series: Object.entries(s.series).map(([series, values]) => ({ series, values })),
        alert_rule_test: [{ eval_time: s.at, alertname: s.alert, exp_alerts: s.expect.map((labels) => ({ exp_labels: labels })) }],
      })),
    };
    await writeFile(join(dir, 'tests.yml'), stringify(tests));
    const result = await promtool(['test', 'rules', join(dir, 'tests.yml')]);
    expect(result.out).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});
