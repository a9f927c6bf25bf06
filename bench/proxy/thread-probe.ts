/**
 * Where one contender's CPU and memory go under the proxy-bound load: cheap backends and wrk on
 * core 1, the contender on core 0, a 2 s warm-up then one 10 s wrk run. Prints the CPU ticks of
 * each thread while idle and under load (main thread, V8 GC helpers, libuv pool, worker threads),
 * CPU µs per request, RSS after start and after the load, and for prescale the heap spaces and
 * the garbage collector's time per request from its /metrics.
 *
 *   node --import tsx bench/proxy/thread-probe.ts [--kind prescale|bare|fastify] [--root <checkout>] [--idle 10]
 *     [--node-args "--max-semi-space-size=8"] [--perf]
 *
 * --perf also runs `perf stat --per-thread` (task clock, context switches) over the load;
 * --node-args passes V8/node flags to the contender (e.g. to weigh a heap setting).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBackends } from './backends.js';
import { stopAll } from './children.js';
import { startContender } from './contenders.js';
import { runWrk } from './wrk.js';

const { values } = parseArgs({
  options: {
    kind: { type: 'string', default: 'prescale' },
    root: { type: 'string' },
    idle: { type: 'string', default: '10' },
    'node-args': { type: 'string', default: '' },
    perf: { type: 'boolean', default: false },
  },
});

const root = resolve(import.meta.dirname, '../..');
const kind = values.kind as 'prescale' | 'bare' | 'fastify';
const dir = mkdtempSync(join(tmpdir(), 'prescale-probe-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ticks (1/100 s) of every thread of `pid`, keyed "tid:name", from /proc/<pid>/task/<tid>/stat. */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${tid}:${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

function ticksSince(before: Map<string, number>, after: Map<string, number>): { total: number; text: string } {
  const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  return { total: rows.reduce((n, [, v]) => n + v, 0), text: rows.map(([k, v]) => `${k}=${v}`).join(' ') };
}

function rss(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  return `${/VmRSS:\s+(\d+)/.exec(status)?.[1]} kB (peak ${/VmHWM:\s+(\d+)/.exec(status)?.[1]} kB)`;
}

/** prescale's process metrics: GC seconds and counts by kind, heap sizes (empty for other kinds). */
async function processMetrics(adminPort: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (adminPort === 0) return out;
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  for (const m of text.matchAll(/^prescale_process_nodejs_(gc_duration_seconds_(?:sum|count)\{kind="\w+"\}|heap_space_size_total_bytes\{space="\w+"\}|heap_size_total_bytes|external_memory_bytes) ([\d.e+-]+)$/gm)) {
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

try {
  const backends = await startBackends(root, [1], join(dir, 'backends.log'));
  const nodeArgs = values['node-args'].split(' ').filter(Boolean);
  const c = await startContender({ kind, label: kind, nodeArgs, ...(values.root ? { root: resolve(values.root) } : {}) }, { root, dir, backends: backends.cheap, cores: [0] });
  const pid = c.stats?.rootPid as number;
  console.log(`${kind} pid ${pid}: RSS after start ${rss(pid)}`);
  const idleS = Number(values.idle);
  let before = threadTicks(pid);
  await sleep(idleS * 1000);
  console.log(`idle ${idleS} s, CPU ticks by thread: ${ticksSince(before, threadTicks(pid)).text}`);

  const url = `http://127.0.0.1:${c.port}/`;
  await runWrk({ url, durationS: 2, connections: 64, cores: [1] });
  const m0 = await processMetrics(c.adminPort);
  before = threadTicks(pid);
  const perf = values.perf ? spawn('perf', ['stat', '-e', 'task-clock,context-switches', '--per-thread', '-p', String(pid), '--', 'sleep', '9'], { stdio: ['ignore', 'inherit', 'inherit'] }) : null;
  const perfDone = perf === null ? null : new Promise((r) => perf.once('exit', r));
  const r = await runWrk({ url, durationS: 10, connections: 64, cores: [1] });
  await perfDone;
  const load = ticksSince(before, threadTicks(pid));
  console.log(`load: ${r.rps.toFixed(0)} req/s, ${((load.total * 1e4) / r.requests).toFixed(1)} µs CPU per request; CPU ticks by thread: ${load.text}`);
  console.log(`RSS after the load ${rss(pid)}`);
  const m1 = await processMetrics(c.adminPort);
  for (const [k, v] of m1) {
    if (k.startsWith('gc_duration_seconds_sum')) console.log(`  ${k}: ${(((v - (m0.get(k) ?? 0)) * 1e6) / r.requests).toFixed(2)} µs per request`);
    else if (k.startsWith('gc_duration_seconds_count')) console.log(`  ${k}: ${v - (m0.get(k) ?? 0)} collections`);
    else console.log(`  ${k}: ${(v / 1e6).toFixed(1)} MB`);
  }
  await c.stop();
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
