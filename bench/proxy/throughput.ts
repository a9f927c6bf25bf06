/**
 * Fixed-concurrency throughput scenarios: wrk against each running contender in turn, A B C
 * A B C ... over `rounds` rounds after one warm-up run each, with the proxy's CPU time (utime +
 * stime of its process tree) and resident memory measured around every run. Medians per
 * contender; errors summed; RSS the largest sample.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cores } from './children.js';
import { POST_LUA } from './configs.js';
import type { RunningContender } from './contenders.js';
import { sampleRss } from './proc-stats.js';
import { runWrk, wrkArgs } from './wrk.js';

export interface Scenario {
  id: string;
  title: string;
  backends: 'node' | 'cheap';
  path: string;
  post?: boolean;
  durationS: number;
  /** Contender labels that take part (the others running on the same backends sit this one out). */
  contenders: readonly string[];
}

export interface RunSample {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Proxy CPU time per request, µs; null for direct (no proxy). */
  cpuUsPerRequest: number | null;
  /** Largest RSS of the proxy's process tree sampled during the run, MB; null for direct. */
  rssPeakMb: number | null;
}

export interface ContenderSummary {
  label: string;
  kind: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpuUsPerRequest: number | null;
  rssPeakMb: number | null;
  runs: RunSample[];
}

export interface ScenarioResult {
  id: string;
  title: string;
  command: string;
  results: ContenderSummary[];
}

export interface ThroughputOptions {
  rounds: number;
  warmupS: number;
  connections: number;
  /** Where wrk runs. */
  cores: Cores;
  /** Scratch directory (the POST Lua script is written there). */
  dir: string;
  log: (line: string) => void;
}

/** Run one scenario over the running contenders it names. */
export async function runScenario(s: Scenario, running: readonly RunningContender[], o: ThroughputOptions): Promise<ScenarioResult> {
  const script = s.post ? join(o.dir, 'post-1k.lua') : undefined;
  if (script !== undefined) writeFileSync(script, POST_LUA);
  const taking = running.filter((c) => s.contenders.includes(c.spec.label));
  const wrk = (c: RunningContender, durationS: number) => ({ url: `http://127.0.0.1:${c.port}${s.path}`, durationS, connections: o.connections, cores: o.cores, ...(script ? { script } : {}) });
  for (const c of taking) await runWrk(wrk(c, o.warmupS));
  const runs = new Map<string, RunSample[]>(taking.map((c) => [c.spec.label, []]));
  for (let round = 1; round <= o.rounds; round++) {
    for (const c of taking) {
      c.stats?.refresh();
      const cpu0 = c.stats?.cpuSeconds() ?? 0;
      const rss = c.stats ? sampleRss(c.stats) : null;
      const r = await runWrk(wrk(c, s.durationS));
      const cpu = (c.stats?.cpuSeconds() ?? 0) - cpu0;
      const sample: RunSample = {
        requests: r.requests,
        rps: r.rps,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        errors: r.errors,
        cpuUsPerRequest: c.stats && r.requests > 0 ? (cpu * 1e6) / r.requests : null,
        rssPeakMb: rss ? rss.stop() : null,
      };
      runs.get(c.spec.label)?.push(sample);
      o.log(`  ${s.id} round ${round} ${c.spec.label.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  ${sample.cpuUsPerRequest === null ? '' : `${sample.cpuUsPerRequest.toFixed(1)} µs/req  `}${r.errors > 0 ? `${r.errors} errors` : ''}`);
    }
  }
  const example = taking[0];
  return {
    id: s.id,
    title: s.title,
    command: example ? `wrk ${wrkArgs({ ...wrk(example, s.durationS), url: `http://127.0.0.1:<port>${s.path}` }).join(' ').replace(o.dir, '<tmp>')}` : '',
    results: taking.map((c) => summarize(c, runs.get(c.spec.label) ?? [])),
  };
}

function summarize(c: RunningContender, runs: RunSample[]): ContenderSummary {
  const cpu = runs.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== null);
  const rss = runs.map((r) => r.rssPeakMb).filter((v): v is number => v !== null);
  return {
    label: c.spec.label,
    kind: c.spec.kind,
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpuUsPerRequest: cpu.length > 0 ? median(cpu) : null,
    rssPeakMb: rss.length > 0 ? Math.max(...rss) : null,
    runs,
  };
}

/** Median of a non-empty list (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
