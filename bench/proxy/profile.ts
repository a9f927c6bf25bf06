/**
 * Profile prescale on the proxy-bound scenario: cheap backends and wrk on core 1, prescale
 * (production config, `node --cpu-prof`) on core 0, one wrk run, then SIGTERM so V8 writes the
 * profile. Prints the top functions by self time and the self time per source file.
 *
 *   node --import tsx bench/proxy/profile.ts [--duration 10] [--top 40] [--path /] [--node] [--kind prescale|bare|fastify] [--keep] [--interval 1000]
 *
 * --node uses the Node http backends instead of the cheap ones; --kind profiles another Node
 * contender for comparison; --root runs prescale from another checkout; --interval is the
 * sampling interval in µs (V8's --cpu-prof-interval).
 *
 * The .cpuprofile files stay in the printed directory with --keep (open them in Chrome DevTools).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBackends } from './backends.js';
import { stopAll } from './children.js';
import { startContender } from './contenders.js';
import { runWrk } from './wrk.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    top: { type: 'string', default: '40' },
    path: { type: 'string', default: '/' },
    node: { type: 'boolean', default: false },
    kind: { type: 'string', default: 'prescale' },
    root: { type: 'string' },
    keep: { type: 'boolean', default: false },
    interval: { type: 'string', default: '1000' },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'prescale-profile-'));
const profDir = join(dir, 'prof');
if (!values.keep) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
try {
  const backends = await startBackends(root, [1], join(dir, 'backends.log'));
  const ports = values.node ? backends.node : backends.cheap;
  const kind = values.kind as 'prescale' | 'bare' | 'fastify';
  const prescale = await startContender(
    { kind, label: kind, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${values.interval}`], ...(values.root ? { root: resolve(values.root) } : {}) },
    { root, dir, backends: ports, cores: [0] },
  );
  const url = `http://127.0.0.1:${prescale.port}${values.path}`;
  await runWrk({ url, durationS: 3, connections: 64, cores: [1] });
  const cpu0 = prescale.stats?.cpuSeconds() ?? 0;
  // V8 stamps samples with the monotonic clock in µs, as process.hrtime: keep only the wrk window
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const r = await runWrk({ url, durationS: Number(values.duration), connections: 64, cores: [1] });
  const cpu = (prescale.stats?.cpuSeconds() ?? 0) - cpu0;
  const toUs = Number(process.hrtime.bigint() / 1000n);
  console.log(`${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ${((cpu * 1e6) / r.requests).toFixed(1)} µs CPU per request (profiler on)`);
  await prescale.stop();
  // the main thread's profile is the largest one (the forecast worker writes its own)
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profDir, f));
  const main = files.map((f) => ({ f, size: readFileSync(f).length })).sort((a, b) => b.size - a.size)[0];
  if (main === undefined) throw new Error(`no profile written in ${profDir}`);
  summarize(JSON.parse(readFileSync(main.f, 'utf8')) as Profile, Number(values.top), fromUs, toUs);
  if (values.keep) {
    // the measured window and its request count, to compare two kept profiles per request
    writeFileSync(join(profDir, 'window.json'), JSON.stringify({ profile: main.f, fromUs, toUs, requests: r.requests, cpuSeconds: cpu }));
    console.log(`\nprofiles kept in ${profDir}`);
  }
} finally {
  await stopAll();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per file over the samples taken between fromUs and toUs. */
function summarize(profile: Profile, top: number, fromUs: number, toUs: number): void {
  const hitsById = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i] as number;
    hitsById.set(id, (hitsById.get(id) ?? 0) + 1);
  }
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = hitsById.get(n.id) ?? 0;
    if (hits === 0) continue;
    total += hits;
    const file = shortUrl(n.callFrame.url);
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${file}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
  }
  const print = (title: string, m: Map<string, number>, k: number) => {
    console.log(`\n${title}`);
    for (const [name, hits] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k)) {
      console.log(`${((100 * hits) / total).toFixed(1).padStart(6)}%  ${name}`);
    }
  };
  print('self time by function', byFn, top);
  print('self time by file', byFile, 25);
  printCallers(profile, hitsById, byFn, total);
}

/** For the five costliest functions (ignoring idle/program/GC/native writes): their callers, two levels up. */
function printCallers(profile: Profile, hitsById: Map<number, number>, byFn: Map<string, number>, total: number): void {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n);
  }
  const label = (n: ProfileNode | undefined) => (n ? `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '(root)');
  const skip = /^\((idle|program|garbage collector)\)|^(writev|writeLatin1String|writeUtf8String|writeBuffer) /;
  const topFns = [...byFn].sort((a, b) => b[1] - a[1]).map(([k]) => k).filter((k) => !skip.test(k)).slice(0, 5);
  for (const fn of topFns) {
    const callers = new Map<string, number>();
    for (const [id, hits] of hitsById) {
      const n = byId.get(id) as ProfileNode;
      if (`${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` !== fn) continue;
      const p1 = parent.get(id);
      const key = `${label(p1)}  <-  ${label(p1 ? parent.get(p1.id) : undefined)}`;
      callers.set(key, (callers.get(key) ?? 0) + hits);
    }
    console.log(`\ncallers of ${fn}`);
    for (const [k, hits] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`${((100 * hits) / total).toFixed(1).padStart(6)}%  ${k}`);
  }
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const i = url.indexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '').replace(`${root}/`, '');
}
