/**
 * The latency a proxy adds well below saturation: the open-loop client (fixed-rate-main.ts)
 * sends a fixed rate to each contender in turn, interleaved over rounds; medians of p50/p99.
 */
import { join } from 'node:path';
import { runCommand, type Cores } from './children.js';
import type { RunningContender } from './contenders.js';
import { median } from './throughput.js';

export interface FixedRateSample {
  ok: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  lateSendMs: number;
}

export interface FixedRateResult {
  rate: number;
  durationS: number;
  warmS: number;
  path: string;
  command: string;
  results: { label: string; kind: string; p50Ms: number; p99Ms: number; p999Ms: number; errors: number; runs: FixedRateSample[] }[];
}

export interface FixedRateOptions {
  root: string;
  rate: number;
  durationS: number;
  /** Client warm-up before the measured window, s: the client's and the proxy's JIT settle first. */
  warmS: number;
  rounds: number;
  path: string;
  cores: Cores;
  log: (line: string) => void;
}

/** Run the fixed-rate client against each contender `rounds` times, interleaved. */
export async function runFixedRate(contenders: readonly RunningContender[], o: FixedRateOptions): Promise<FixedRateResult> {
  const client = join(o.root, 'bench/proxy/fixed-rate-main.ts');
  const runs = new Map<string, FixedRateSample[]>(contenders.map((c) => [c.spec.label, []]));
  for (let round = 1; round <= o.rounds; round++) {
    for (const c of contenders) {
      const args = ['--import', 'tsx', client, `http://127.0.0.1:${c.port}${o.path}`, String(o.rate), String(o.durationS), String(o.warmS)];
      const r = await runCommand(process.execPath, args, { cores: o.cores, cwd: o.root });
      if (r.code !== 0) throw new Error(`fixed-rate client failed against ${c.spec.label}: ${r.stderr.trim()}`);
      const sample = JSON.parse(r.stdout.trim().split('\n').pop() as string) as FixedRateSample;
      runs.get(c.spec.label)?.push(sample);
      o.log(`  fixed-rate round ${round} ${c.spec.label.padEnd(28)} p50 ${sample.p50Ms.toFixed(3)} ms  p99 ${sample.p99Ms.toFixed(3)} ms  ${sample.errors > 0 ? `${sample.errors} errors  ` : ''}(send lag ≤ ${sample.lateSendMs.toFixed(1)} ms)`);
    }
  }
  return {
    rate: o.rate,
    durationS: o.durationS,
    warmS: o.warmS,
    path: o.path,
    command: `node --import tsx bench/proxy/fixed-rate-main.ts http://127.0.0.1:<port>${o.path} ${o.rate} ${o.durationS} ${o.warmS}`,
    results: contenders.map((c) => {
      const r = runs.get(c.spec.label) ?? [];
      return {
        label: c.spec.label,
        kind: c.spec.kind,
        p50Ms: median(r.map((s) => s.p50Ms)),
        p99Ms: median(r.map((s) => s.p99Ms)),
        p999Ms: median(r.map((s) => s.p999Ms)),
        errors: r.reduce((n, s) => n + s.errors, 0),
        runs: r,
      };
    }),
  };
}
