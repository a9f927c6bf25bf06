import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SimStep } from '../sim/simulate.js';

export interface SimulationPlotInput {
  title: string;
  startMs: number;
  intervalMs: number;
  capacityPerBackendRps: number;
  steps: readonly SimStep[];
  /** At most this many points per series; longer runs are binned (max of demand and forecast, min of capacity, per bin). */
  maxPoints?: number;
}

/**
 * An SVG chart of one simulated policy over time: demand, the forecast upper bound and the
 * ready capacity (ready backends × capacity per backend), all in requests per second.
 * Rendered headless with Vega-Lite (no browser, no canvas). Returns the SVG text.
 */
export async function renderSimulationSvg(input: SimulationPlotInput): Promise<string> {
  const max = input.maxPoints ?? 1500;
  const bin = Math.max(1, Math.ceil(input.steps.length / max));
  const values: Array<{ time: string; series: string; rps: number }> = [];
  for (let i = 0; i < input.steps.length; i += bin) {
    const chunk = input.steps.slice(i, i + bin);
    const time = new Date(input.startMs + i * input.intervalMs).toISOString();
    values.push({ time, series: 'demand', rps: Math.max(...chunk.map((s) => s.demandRps)) });
    values.push({ time, series: 'ready capacity', rps: Math.min(...chunk.map((s) => s.ready)) * input.capacityPerBackendRps });
    const forecasts = chunk.map((s) => s.forecastUpperRps).filter((f): f is number => f !== null);
    if (forecasts.length > 0) values.push({ time, series: 'forecast upper bound', rps: Math.max(...forecasts) });
  }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: input.title,
    width: 1100,
    height: 360,
    background: 'white',
    data: { values },
    mark: { type: 'line', strokeWidth: 1, interpolate: 'step-after' },
    encoding: {
      x: { field: 'time', type: 'temporal', title: 'time (UTC)' },
      y: { field: 'rps', type: 'quantitative', title: 'requests per second' },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: ['demand', 'forecast upper bound', 'ready capacity'], range: ['#1f77b4', '#ff7f0e', '#2ca02c'] },
        legend: { labelLimit: 300 },
      },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
