/**
 * Backtest every forecast model on the shared traces and print one table per trace plus a
 * summary line per horizon: auto MAE / best baseline MAE, and auto's p90 / p99 coverage.
 *
 *   npx tsx bench/forecast-backtest.ts [--step-minutes 60] [--test-days 7] [--horizons 5,15] [trace.csv ...]
 *
 * Defaults: the three traces in data/traces, origins every 60 min over the last 7 days,
 * horizons 5 and 15 minutes. Prints wall time per trace (the NASA trace takes a few seconds).
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { BASELINE_MODEL_NAMES } from '../src/forecast/baselines.js';
import { AUTO_MODEL, formatBacktestTable, runBacktest, type BacktestResult } from '../src/forecast/backtest.js';
import { readTrace } from '../src/series/trace.js';

const DEFAULT_TRACES = [
  'data/traces/nasa_ksc_jul1995_1min.csv',
  'data/traces/worldcup98_1min.csv',
  'data/traces/nab_aws_elb_requests_5min.csv',
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'step-minutes': { type: 'string', default: '60' },
    'test-days': { type: 'string', default: '7' },
    horizons: { type: 'string', default: '5,15' },
  },
});

const options = {
  models: ['linear-regression-fourier', 'holt-winters'],
  horizonsMinutes: values.horizons.split(',').map(Number),
  stepMinutes: Number(values['step-minutes']),
  testDays: Number(values['test-days']),
};

for (const file of positionals.length > 0 ? positionals : DEFAULT_TRACES) {
  const trace = await readTrace(file);
  const started = performance.now();
  const result = runBacktest({ ...trace, file: basename(file) }, options);
  const seconds = (performance.now() - started) / 1000;
  console.log(formatBacktestTable(result));
  for (const line of summary(result)) console.log(line);
  console.log(`backtest wall time ${seconds.toFixed(1)} s\n`);
}

function summary(result: BacktestResult): string[] {
  const auto = result.models.find((model) => model.name === AUTO_MODEL);
  const baselines = result.models.filter((model) => (BASELINE_MODEL_NAMES as readonly string[]).includes(model.name));
  return (auto?.horizons ?? []).map((metrics, j) => {
    const best = Math.min(...baselines.map((model) => model.horizons[j]?.mae ?? Number.POSITIVE_INFINITY));
    const ratio = best > 0 ? (metrics.mae / best).toFixed(3) : '-';
    return `summary ${metrics.horizonMinutes} min: auto/best-baseline MAE ${ratio}, p90 coverage ${metrics.coverageP90.toFixed(3)}, p99 coverage ${metrics.coverageP99.toFixed(3)}`;
  });
}
