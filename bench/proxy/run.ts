/**
 * prescale's data-plane benchmark (issue 7), side by side with nginx, HAProxy, @fastify/http-proxy
 * and a bare node:http + undici forwarder on the same machine, plus the control-plane costs.
 *
 *   npm run bench:proxy [-- --quick] [--rounds 3] [--scenarios get-100b-cheap,...]
 *     [--contenders nginx,prescale,...] [--skip fixed-rate,idle,workers,control-plane] [--out bench/results]
 *     [--compare <checkout>[,<checkout>...]]
 *
 * --compare adds "prescale (compare <dir name>)", the bin/prescale.js of other checkouts, to the
 * throughput and fixed-rate scenarios: interleaved A/B runs of a change.
 * Proxies run on core 0; wrk, the clients and the backends on core 1 (taskset). Writes
 * <out>/proxy.json and <out>/proxy.md. Every child process is stopped on exit and on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBackends } from './backends.js';
import { stopAll } from './children.js';
import { runControlPlane } from './control-plane.js';
import { findBinary, skipReason, startContender, type ContenderKind, type ContenderSpec, type RunningContender } from './contenders.js';
import { runFixedRate } from './fixed-rate.js';
import { measureIdle } from './idle-conns.js';
import { machineFacts } from './machine.js';
import { httpGet } from './net-util.js';
import { checkTargets, toMarkdown, type BenchResults } from './report.js';
import { runScenario, type Scenario, type ScenarioResult } from './throughput.js';
import { runWorkers } from './workers.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    scenarios: { type: 'string' },
    contenders: { type: 'string' },
    skip: { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results' },
    rate: { type: 'string', default: '1000' },
    compare: { type: 'string' },
  },
});

const root = resolve(import.meta.dirname, '../..');
const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 2 : 3));
const T = quick ? { headline: 3, other: 2, warm: 1, fixed: 4, fixedWarm: 2, workers: 3, idle: 2_000 } : { headline: 10, other: 4, warm: 2, fixed: 15, fixedWarm: 5, workers: 6, idle: 10_000 };
const skip = new Set(values.skip.split(',').filter(Boolean));
const wanted = values.contenders?.split(',');
// one core for the proxy, the other for the load: needs two cores and taskset (util-linux)
const canPin = cpus().length >= 2 && findBinary('taskset') !== undefined;
const PINNED = canPin ? { proxy: [0], load: [1] } : { proxy: undefined, load: undefined };
if (findBinary('wrk') === undefined) {
  process.stderr.write('bench: wrk not found on PATH; it drives every throughput scenario (apt-get install wrk)\n');
  process.exit(1);
}
const started = Date.now();
const log = (line: string) => process.stdout.write(`${line}\n`);

const SPECS: Record<ContenderKind, ContenderSpec> = {
  direct: { kind: 'direct', label: 'direct (no proxy)' },
  nginx: { kind: 'nginx', label: 'nginx (1 worker)' },
  haproxy: { kind: 'haproxy', label: 'HAProxy (1 thread)' },
  fastify: { kind: 'fastify', label: '@fastify/http-proxy' },
  bare: { kind: 'bare', label: 'node:http + undici (bare)' },
  prescale: { kind: 'prescale', label: 'prescale' },
};
const ALL: ContenderKind[] = ['direct', 'nginx', 'haproxy', 'fastify', 'bare', 'prescale'];
const NO_BARE = ALL.filter((k) => k !== 'bare');
const COMPARE: ContenderSpec[] = (values.compare?.split(',') ?? []).map((d) => ({ kind: 'prescale', label: `prescale (compare ${basename(resolve(d))})`, root: resolve(d) }));
const scenario = (id: string, title: string, backends: 'node' | 'cheap', path: string, durationS: number, kinds: ContenderKind[], post = false): Scenario => ({
  id, title, backends, path, durationS, post, contenders: [...kinds.map((k) => SPECS[k].label), ...COMPARE.map((c) => c.label)],
});
const SCENARIOS: Scenario[] = [
  scenario('get-100b-node', 'GET 100 B, Node http backends (backend-bound)', 'node', '/', T.headline, ALL),
  scenario('get-64k-node', 'GET 64 KB, Node http backends', 'node', '/64k', T.other, NO_BARE),
  scenario('post-1k-node', 'POST 1 KB echoed, Node http backends', 'node', '/echo', T.other, NO_BARE, true),
  scenario('get-5ms-node', 'GET 100 B, backend with 5 ms service time', 'node', '/slow', T.other, NO_BARE),
  scenario('get-100b-cheap', 'GET 100 B, cheap raw-socket backends (proxy-bound)', 'cheap', '/', T.headline, ALL),
].filter((s) => values.scenarios === undefined || values.scenarios.split(',').includes(s.id));

const dir = mkdtempSync(join(tmpdir(), 'prescale-bench-'));
// also on Ctrl-C (children.ts stops the processes, then exits)
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const skipped: { label: string; reason: string }[] = [];
const usable = (k: ContenderKind) => {
  if (wanted !== undefined && !wanted.includes(k)) return false;
  const reason = skipReason(k);
  if (reason !== null && !skipped.some((s) => s.label === SPECS[k].label)) {
    skipped.push({ label: SPECS[k].label, reason });
    log(`skipping ${SPECS[k].label}: ${reason}`);
  }
  return reason === null;
};

try {
  const machine = await machineFacts();
  log(`prescale bench: ${machine.nproc} cores, ${machine.cpuModel}; node ${machine.node}, nginx ${machine.nginx}, HAProxy ${machine.haproxy}, wrk ${machine.wrk}; load ${machine.loadAvgStart.toFixed(2)}; scratch ${dir}`);
  const backends = await startBackends(root, PINNED.load, join(dir, 'backends.log'));
  const scenarios: ScenarioResult[] = [];
  let fixedRate: BenchResults['fixedRate'] = null;
  for (const set of ['node', 'cheap'] as const) {
    const mine = SCENARIOS.filter((s) => s.backends === set);
    const kinds = ALL.filter((k) => usable(k) && mine.some((s) => s.contenders.includes(SPECS[k].label)));
    const needFixed = set === 'node' && !skip.has('fixed-rate');
    if (mine.length === 0 && !needFixed) continue;
    const fixedKinds: ContenderKind[] = ['direct', 'nginx', 'prescale'].filter((k) => usable(k as ContenderKind)) as ContenderKind[];
    const startKinds = needFixed ? [...new Set([...kinds, ...fixedKinds])] : kinds;
    log(`\n${set} backends: starting ${startKinds.map((k) => SPECS[k].label).join(', ')}`);
    const ctx = { root, dir: join(dir, set), backends: backends[set], cores: PINNED.proxy };
    const running: RunningContender[] = [];
    try {
      for (const k of startKinds) running.push(await startContender(SPECS[k], ctx));
      for (const c of COMPARE) running.push(await startContender(c, ctx));
      for (const s of mine) {
        log(`${s.title}`);
        scenarios.push(await runScenario(s, running, { rounds, warmupS: T.warm, connections: 64, cores: PINNED.load, dir, log }));
      }
      if (needFixed) {
        log(`fixed rate ${values.rate} req/s`);
        const order = running.filter((c) => fixedKinds.includes(c.spec.kind) || COMPARE.includes(c.spec));
        fixedRate = await runFixedRate(order, { root, rate: Number(values.rate), durationS: T.fixed, warmS: T.fixedWarm, rounds, path: '/', cores: PINNED.load, log });
      }
      await checkMetrics(running.find((c) => c.spec.kind === 'prescale'));
    } finally {
      await Promise.all(running.map((c) => c.stop()));
    }
  }

  const idle = [];
  if (!skip.has('idle')) {
    log(`\nidle keep-alive connections: ${T.idle}`);
    const specs = [...(['prescale', 'nginx'] as const).filter(usable).map((k) => SPECS[k]), ...COMPARE];
    for (const spec of specs) {
      idle.push(await measureIdle(spec, { root, dir: join(dir, 'idle'), backends: backends.cheap, cores: PINNED.proxy }, T.idle, PINNED.load, quick ? 3_000 : 10_000, log));
    }
  }
  await backends.child.stop();

  let workers: BenchResults['workers'] = { available: false, detail: 'skipped (--skip workers)', scenario: null };
  if (!skip.has('workers')) {
    log('\nworkers: 2, unpinned');
    workers = await runWorkers({ root, dir: join(dir, 'workers'), rounds, durationS: T.workers, warmupS: T.warm, usable, log });
  }
  const controlPlane = skip.has('control-plane') ? null : (log('\ncontrol plane'), await runControlPlane({ root, quick, log }));

  const base = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date: new Date().toISOString(),
    quick,
    durationS: (Date.now() - started) / 1000,
    machine: { ...machine, loadAvgEnd: loadavg()[0] as number },
    settings: { rounds, connections: 64, pinning: canPin ? 'proxy under test pinned to core 0, wrk + backends + clients to core 1 (taskset); the workers section is unpinned' : 'unpinned (fewer than 2 cores or no taskset): proxy, wrk and backends share the CPUs' },
    scenarios,
    fixedRate,
    idle,
    workers,
    controlPlane,
    skipped,
  };
  const results: BenchResults = { ...base, targets: checkTargets(base) };
  const out = resolve(root, values.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'proxy.json'), `${JSON.stringify(results, null, 2)}\n`);
  const md = toMarkdown(results);
  writeFileSync(join(out, 'proxy.md'), md);
  log(`\n${md}`);
  log(`wrote ${join(out, 'proxy.json')} and ${join(out, 'proxy.md')} in ${Math.round(results.durationS)} s`);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}

/** prescale's /metrics must have counted the traffic (the metrics path was on during the runs). */
async function checkMetrics(prescale: RunningContender | undefined): Promise<void> {
  if (prescale === undefined) return;
  const r = await httpGet(prescale.adminPort, '/metrics');
  const total = [...r.body.matchAll(/^prescale_requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  log(`  prescale /metrics: ${r.status}, prescale_requests_total = ${total}`);
}
