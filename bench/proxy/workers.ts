/**
 * What `workers: 2` gains on this machine, unpinned: prescale with one and two workers next to
 * nginx with one and two workers, cheap backends, everything free to use both cores. Runs only
 * when `prescale validate` accepts `workers: 2`; otherwise reports that it is not available.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBackends } from './backends.js';
import { startContender, type ContenderKind, type ContenderSpec, type RunningContender } from './contenders.js';
import type { BenchResults } from './report.js';
import { runScenario } from './throughput.js';
import { prescaleWorkersKey } from './workers-support.js';

export interface WorkersOptions {
  root: string;
  dir: string;
  rounds: number;
  durationS: number;
  warmupS: number;
  usable: (kind: ContenderKind) => boolean;
  log: (line: string) => void;
}

/** Run the unpinned comparison (one wrk scenario, interleaved rounds), or say why it is not available. */
export async function runWorkers(o: WorkersOptions): Promise<BenchResults['workers']> {
  mkdirSync(o.dir, { recursive: true });
  const support = await prescaleWorkersKey(o.root, o.dir);
  o.log(`  ${support.detail}`);
  if (support.key === null || !o.usable('prescale')) {
    return { available: false, detail: `Not available: ${support.detail}.`, scenario: null };
  }
  const specs: ContenderSpec[] = [];
  if (o.usable('nginx')) specs.push({ kind: 'nginx', label: 'nginx (1 worker, unpinned)', workers: 1 }, { kind: 'nginx', label: 'nginx (2 workers, unpinned)', workers: 2 });
  specs.push({ kind: 'prescale', label: 'prescale (1 process, unpinned)' }, { kind: 'prescale', label: 'prescale (workers: 2, unpinned)', workers: 2 });
  const backends = await startBackends(o.root, undefined, join(o.dir, 'backends.log'));
  const running: RunningContender[] = [];
  try {
    const ctx = { root: o.root, dir: o.dir, backends: backends.cheap, cores: undefined, workersKey: support.key };
    for (const s of specs) running.push(await startContender(s, ctx));
    const scenario = await runScenario(
      { id: 'get-100b-cheap-unpinned', title: 'GET 100 B, cheap backends, unpinned (2 cores shared by everything)', backends: 'cheap', path: '/', durationS: o.durationS, contenders: specs.map((s) => s.label) },
      running,
      { rounds: o.rounds, warmupS: o.warmupS, connections: 64, cores: undefined, dir: o.dir, log: o.log },
    );
    const one = scenario.results.find((r) => r.label.startsWith('prescale (1'))?.rps ?? 0;
    const two = scenario.results.find((r) => r.label.startsWith('prescale (workers'))?.rps ?? 0;
    return { available: true, detail: `${support.detail}; workers: 2 gives ${(two / one).toFixed(2)}× the throughput of one process here (wrk -t1, the backends and the proxy share the same 2 cores).`, scenario };
  } finally {
    await Promise.all(running.map((c) => c.stop()));
    await backends.child.stop();
  }
}
