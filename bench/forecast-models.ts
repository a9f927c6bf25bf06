/**
 * Fit and predict timings of the fitted forecast models on four weeks of 1-minute data.
 *
 *   npx tsx bench/forecast-models.ts [--trace data/traces/nasa_ksc_jul1995_1min.csv] [--days 28] [--horizon 60]
 *
 * For each model: the fit (the first forecast at an origin 30 intervals before the end, which
 * fits and caches; for `mlp`, `await train(history)`, cold = including the TensorFlow.js import
 * and backend start, then warm), and the median time of one `horizon`-step forecast (one hour
 * by default) at the next 20 origins, each one interval later, served from the cached fit. The
 * last column is what a forecast at the newest origin reported as its fallback, if anything.
 * Wall times on this machine; single run, no warm-up beyond what is stated.
 */
import { parseArgs } from 'node:util';
import { createHoltWinters } from '../src/forecast/holt-winters.js';
import { createLinearRegressionFourier } from '../src/forecast/linear-regression-fourier.js';
import { createMlp } from '../src/forecast/mlp.js';
import type { ForecastModel } from '../src/forecast/model.js';
import { createMstl } from '../src/forecast/mstl.js';
import { readTrace } from '../src/series/trace.js';

const { values } = parseArgs({
  options: {
    trace: { type: 'string', default: 'data/traces/nasa_ksc_jul1995_1min.csv' },
    days: { type: 'string', default: '28' },
    horizon: { type: 'string', default: '60' },
  },
});

const trace = await readTrace(values.trace);
const day = 86_400_000 / trace.intervalMs;
const requests = trace.requests.slice(-Math.round(Number(values.days) * day));
const horizon = Number(values.horizon);
const fitOrigin = requests.length - 30;
const predictOrigins = Array.from({ length: 20 }, (_, k) => fitOrigin + 1 + k);

interface Row {
  model: string;
  fitSeconds: string;
  predictMs: string;
  note: string;
}

const rows: Row[] = [];
const statistical: [string, ForecastModel][] = [
  ['holt-winters', createHoltWinters({ intervalsPerDay: day })],
  ['linear-regression-fourier', createLinearRegressionFourier({ intervalsPerDay: day })],
  ['mstl', createMstl({ intervalsPerDay: day })],
];
for (const [name, model] of statistical) {
  const fitMs = time(() => model.forecast(history(model, fitOrigin), horizon, 0.9));
  rows.push({ model: name, fitSeconds: (fitMs / 1000).toFixed(2), ...predictColumns(model) });
}

const mlp = createMlp({ intervalsPerDay: day, horizon, autoTrain: false });
const cold = await mlp.train(history(mlp, fitOrigin));
const warm = await mlp.train(history(mlp, fitOrigin));
const trainNote = `${warm.rows} rows × ${warm.epochs} epochs on ${warm.backend ?? '?'}${warm.backendFallback === undefined ? '' : ` (${warm.backendFallback})`}`;
rows.push({
  model: 'mlp',
  fitSeconds: `${(cold.trainMs / 1000).toFixed(2)} cold / ${(warm.trainMs / 1000).toFixed(2)} warm`,
  ...predictColumns(mlp),
});
(rows.at(-1) as Row).note = [trainNote, (rows.at(-1) as Row).note].filter((text) => text !== '-').join('; ');

console.log(`${values.trace}: ${requests.length} intervals (${(requests.length / day).toFixed(1)} days), horizon ${horizon} intervals\n`);
printTable(rows);

function history(model: ForecastModel, origin: number): number[] {
  const lookback = model.lookbackIntervals;
  return requests.slice(lookback === undefined ? 0 : Math.max(0, origin - lookback), origin);
}

function predictColumns(model: ForecastModel): Pick<Row, 'predictMs' | 'note'> {
  const times = predictOrigins.map((origin) => {
    const seen = history(model, origin);
    return time(() => model.forecast(seen, horizon, 0.9));
  });
  const last = model.forecast(history(model, predictOrigins.at(-1) as number), horizon, 0.9);
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
  return { predictMs: median.toFixed(2), note: last.fallback ?? '-' };
}

function time(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

function printTable(table: readonly Row[]): void {
  const header: Row = { model: 'model', fitSeconds: 'fit / train (s)', predictMs: 'predict 1 h (ms, median)', note: 'note' };
  const all = [header, ...table];
  const width = (key: keyof Row): number => Math.max(...all.map((row) => row[key].length));
  const line = (row: Row): string => `${row.model.padEnd(width('model'))}  ${row.fitSeconds.padStart(width('fitSeconds'))}  ${row.predictMs.padStart(width('predictMs'))}  ${row.note}`;
  console.log(line(header));
  console.log('-'.repeat(line(header).length));
  for (const row of table) console.log(line(row));
}
