import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { createModel, type ModelName } from '../forecast/registry.js';
import type { Trace } from '../series/trace.js';

/**
 * Forecast vs actual over the last `windowIntervals` of a trace: at every interval the model,
 * seeing only the data before it, forecasts `horizonIntervals` ahead; the chart shows the
 * actual requests, that point forecast and its p90 upper bound at the time they were for.
 * Rendered headless with Vega-Lite. Returns the SVG text. O(window × model cost).
 */
export async function renderForecastSvg(trace: Trace, model: ModelName, horizonIntervals: number, windowIntervals: number): Promise<string> {
  const perDay = Math.round(86_400_000 / trace.intervalMs);
  const m = createModel(model, { seasonLength: perDay, windowIntervals: 30, intervalsPerDay: perDay });
  const n = trace.requests.length;
  const from = Math.max(horizonIntervals + 1, n - windowIntervals);
  const values: Array<{ time: string; series: string; requests: number }> = [];
  for (let target = from; target < n; target++) {
    const origin = target - horizonIntervals + 1; // history = requests[0, origin)
    const f = m.forecast(trace.requests.slice(0, origin), horizonIntervals, 0.9);
    const time = new Date(trace.startMs + target * trace.intervalMs).toISOString();
    values.push({ time, series: 'actual', requests: trace.requests[target] as number });
    values.push({ time, series: `forecast (+${horizonIntervals})`, requests: f.point[horizonIntervals - 1] as number });
    values.push({ time, series: 'p90 upper bound', requests: f.upper[horizonIntervals - 1] as number });
  }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${model}: forecast ${horizonIntervals} intervals ahead vs actual`,
    width: 1100,
    height: 360,
    background: 'white',
    data: { values },
    mark: { type: 'line', strokeWidth: 1 },
    encoding: {
      x: { field: 'time', type: 'temporal', title: 'time (UTC)' },
      y: { field: 'requests', type: 'quantitative', title: `requests per ${trace.intervalMs / 1000} s` },
      color: { field: 'series', type: 'nominal', legend: { labelLimit: 300 } },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
