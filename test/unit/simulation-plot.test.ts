import { describe, expect, it } from 'vitest';
import { renderSimulationSvg } from '../../src/plot/simulation-plot.js';

describe('simulation plot', () => {
  it('renders demand, forecast upper bound and ready capacity as an SVG, binning long runs', async () => {
    const steps = Array.from({ length: 5000 }, (_, i) => ({ demandRps: 100 + (i % 60), ready: 2 + (i % 3), instances: 3, forecastUpperRps: 150 }));
    const svg = await renderSimulationSvg({ title: 'test run', startMs: Date.parse('2026-01-01T00:00:00Z'), intervalMs: 60_000, capacityPerBackendRps: 50, steps, maxPoints: 500 });
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['demand', 'forecast upper bound', 'ready capacity', 'test run']) expect(svg).toContain(label);
    expect(svg.length).toBeLessThan(400_000);
  });
});

describe('forecast vs actual plot', () => {
  it('renders the actual series, the forecast and its p90 bound for a window', async () => {
    const { renderForecastSvg } = await import('../../src/plot/forecast-plot.js');
    const perDay = 48;
    const requests = Array.from({ length: perDay * 4 }, (_, i) => Math.round(100 + 50 * Math.sin((2 * Math.PI * i) / perDay)));
    const svg = await renderForecastSvg({ file: 'synthetic.csv', intervalMs: 1_800_000, startMs: Date.parse('2026-01-01T00:00:00Z'), requests }, 'seasonal-naive-daily', 2, perDay);
    for (const label of ['actual', 'forecast (+2)', 'p90 upper bound', 'seasonal-naive-daily']) expect(svg).toContain(label);
  });
});
