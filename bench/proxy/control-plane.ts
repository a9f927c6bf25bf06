/**
 * Control-plane costs: decide() per tick (µs per call, in process), forecast model fit/predict
 * (bench/forecast-models.ts as a child, its table parsed) and `prescale simulate` wall time on
 * one trace.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decide, type DecideInput } from '../../src/scaler/decide.js';
import { runCommand } from './children.js';
import { median } from './throughput.js';

export interface ControlPlaneResult {
  decide: { case: string; usPerCall: number; calls: number }[];
  forecast: { command: string; wallS: number; rows: { model: string; fit: string; predictMs: string; note: string }[]; error?: string };
  simulate: { command: string; wallS: number; ok: boolean; error?: string };
}

export interface ControlPlaneOptions {
  root: string;
  quick: boolean;
  log: (line: string) => void;
}

const POLICY = { mode: 'predictive' as const, capacityPerBackendRps: 80, targetUtilization: 0.8, minBackends: 1, maxBackends: 50, scaleInStabilizationMs: 300_000, scaleOutLimit: { percent: 100, backends: 4 } };

/** A 5-minute stabilization window of 10 s ticks: 30 earlier recommendations. */
function input(nowMs: number, observedRps: number, forecastUpperRps: number, current: number): DecideInput {
  const recent = Array.from({ length: 30 }, (_, i) => ({ atMs: nowMs - (30 - i) * 10_000, desired: current + (i % 3) - 1 }));
  return { nowMs, policy: POLICY, observedRps, forecastUpperRps, leadTimeMs: 300_000, current, recent };
}

/** µs per decide() call: median of 5 batches after a warm-up. */
function timeDecide(inp: DecideInput, calls: number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += decide(inp).desired;
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) sink += decide(inp).desired;
    batches.push(((performance.now() - t0) * 1000) / calls);
  }
  if (sink === -1) console.log(sink); // keep the calls observable
  return median(batches);
}

/** Trace for simulate: the repository's copy, else the shared one. */
function traceFile(root: string): string {
  const name = 'nasa_ksc_jul1995_1min.csv';
  const local = join(root, 'data/traces', name);
  return existsSync(local) ? local : join(root, '../shared/data/traces', name);
}

/**
 * decide() timings (3 cases, median of 5 batches of 200k calls, 50k with `quick`), the forecast
 * model table of bench/forecast-models.ts (28 days of the NASA trace, 7 with `quick`) and the wall
 * time of `prescale simulate` on the NASA trace (7 evaluated days, 1 with `quick`). A failing child
 * is reported in the result (`error`), not thrown.
 */
export async function runControlPlane(o: ControlPlaneOptions): Promise<ControlPlaneResult> {
  const calls = o.quick ? 50_000 : 200_000;
  const now = 1_700_000_000_000;
  const decideRows = [
    { case: 'hold (30 recent recommendations)', usPerCall: timeDecide(input(now, 300, 320, 6), calls), calls },
    { case: 'forecast scale-out', usPerCall: timeDecide(input(now, 300, 900, 6), calls), calls },
    { case: 'scale-in stabilizing', usPerCall: timeDecide(input(now, 50, 60, 8), calls), calls },
  ];
  for (const r of decideRows) o.log(`  decide ${r.case}: ${r.usPerCall.toFixed(3)} µs per call`);

  const days = o.quick ? '7' : '28';
  const fArgs = ['--import', 'tsx', join(o.root, 'bench/forecast-models.ts'), '--days', days];
  const f = await runCommand(process.execPath, fArgs, { cwd: o.root });
  const forecast: ControlPlaneResult['forecast'] = { command: `node --import tsx bench/forecast-models.ts --days ${days}`, wallS: f.wallMs / 1000, rows: [] };
  if (f.code !== 0) forecast.error = f.stderr.trim().split('\n').slice(-3).join(' ');
  const lines = f.stdout.split('\n');
  const dash = lines.findIndex((l) => /^-{10,}$/.test(l));
  for (const line of dash >= 0 ? lines.slice(dash + 1) : []) {
    if (line.trim() === '') continue;
    const [model = '', fit = '', predictMs = '', note = ''] = line.split(/\s{2,}/);
    forecast.rows.push({ model, fit, predictMs, note });
  }
  for (const r of forecast.rows) o.log(`  forecast ${r.model}: fit ${r.fit} s, predict ${r.predictMs} ms`);

  const trace = traceFile(o.root);
  const sArgs = [join(o.root, 'bin/prescale.js'), 'simulate', '--trace', trace, '--json', ...(o.quick ? ['--days', '1'] : [])];
  const s = await runCommand(process.execPath, sArgs, { cwd: o.root });
  let ok = s.code === 0;
  try {
    ok &&= typeof (JSON.parse(s.stdout) as { policies?: unknown }).policies === 'object';
  } catch {
    ok = false;
  }
  const simulate: ControlPlaneResult['simulate'] = { command: `node bin/prescale.js simulate --trace ${trace.replace(`${o.root}/`, '')} --json${o.quick ? ' --days 1' : ''}`, wallS: s.wallMs / 1000, ok };
  if (!ok) simulate.error = s.stderr.trim().split('\n').slice(-3).join(' ');
  o.log(`  simulate: ${simulate.wallS.toFixed(1)} s${ok ? '' : ` (failed: ${simulate.error})`}`);
  return { decide: decideRows, forecast, simulate };
}
