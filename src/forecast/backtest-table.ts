import { BASELINE_MODEL_NAMES } from './baselines.js';
import type { BacktestResult } from './backtest.js';

const COLUMNS = ['model', 'h min', 'MAE', 'RMSE', 'sMAPE %', 'MASE', 'vs best base', 'cov p90', 'cov p99', 'n'];

/**
 * A fixed-width terminal table of a backtest: one row per model and horizon (horizons grouped),
 * plus `vs best base` = MAE / the lowest baseline MAE at that horizon, and a line per horizon
 * naming what `auto` picked. Plain text, no colours; numbers rounded for reading (the result
 * object keeps full precision). O(rows).
 */
export function formatBacktestTable(result: BacktestResult): string {
  const rows: string[][] = [];
  const horizons = result.models[0]?.horizons.map((h) => h.horizonMinutes) ?? [];
  horizons.forEach((horizonMinutes, j) => {
    const baselineMae = Math.min(
      ...result.models
        .filter((model) => (BASELINE_MODEL_NAMES as readonly string[]).includes(model.name))
        .map((model) => model.horizons[j]?.mae ?? Number.POSITIVE_INFINITY),
    );
    for (const model of result.models) {
      const m = model.horizons[j];
      if (m === undefined) continue;
      rows.push([
        model.name,
        String(horizonMinutes),
        fixed(m.mae),
        fixed(m.rmse),
        (100 * m.smape).toFixed(1),
        m.mase.toFixed(3),
        baselineMae > 0 && Number.isFinite(baselineMae) ? (m.mae / baselineMae).toFixed(3) : '-',
        m.coverageP90.toFixed(3),
        m.coverageP99.toFixed(3),
        String(m.n),
      ]);
    }
  });
  const widths = COLUMNS.map((title, c) => Math.max(title.length, ...rows.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ');
  const { trace } = result;
  const header =
    `${trace.file ?? 'trace'}: ${trace.intervals} intervals of ${result.intervalSeconds} s, ` +
    `${trace.origins} scored origins from ${new Date(trace.testStartMs).toISOString()}`;
  const picks = result.chosen.map((choice) => {
    const counts = Object.entries(choice.picks)
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
    return `auto at ${choice.horizonMinutes} min: now ${choice.latest}; picked ${counts}`;
  });
  return [header, line(COLUMNS), ...rows.map(line), ...picks].join('\n');
}

function fixed(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}
