/**
 * Soak benchmark (issue 8; not run in CI): `prescale serve` (a child process) in front of its own
 * local-process sample backends for `--minutes` (default 10) at a fixed open-loop rate (default
 * 200 req/s from an undici client), with churn:
 *   - every `--kill-every` seconds (default 60) one backend process is SIGKILLed; passive health
 *     ejects it and the control loop asks the provider for a replacement;
 *   - half-way between kills an extra backend is added through the admin API (POST /v1/backends)
 *     or drained away again (DELETE /v1/backends/:id), alternately.
 * Every 10 s it samples prescale's resident memory and heap from its own /metrics
 * (prescale_process_resident_memory_bytes, prescale_process_nodejs_heap_size_used_bytes) and the
 * machine's load average (os.loadavg: the machine may be shared). Backend churn is also counted
 * from prescale's own log (instances requested / running / stopped, health-check transitions).
 *
 *   npm run soak [-- --minutes 10] [--rps 200] [--kill-every 60] [--out bench/results/soak.json]
 *
 * Prints RSS start (after a warm-up of min(60 s, a quarter of the run))/end/growth, requests sent,
 * errors (non-2xx answers) and lost (no answer), and writes the same as JSON with the command, the
 * commit and the load average; scripts/reliability-report.ts renders that file as the "Soak"
 * section of docs/RELIABILITY.md. Linux only for the kills (backend pids from
 * /proc/<pid>/task/<pid>/children).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { linearRegression } from 'simple-statistics';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rps: { type: 'string', default: '200' },
    'kill-every': { type: 'string', default: '60' },
    out: { type: 'string', default: 'bench/results/soak.json' },
  },
});
const minutes = Number(values.minutes);
const rps = Number(values.rps);
const killEveryMs = Number(values['kill-every']) * 1000;
if (!(minutes > 0) || !(rps > 0) || !(killEveryMs > 0)) throw new Error('--minutes, --rps and --kill-every take positive numbers');
const root = resolve(import.meta.dirname, '..');
const TOKEN = 'soak-admin-token-0123456789abcdef';
const MB = 1024 * 1024;

const work = mkdtempSync(join(tmpdir(), 'prescale-soak-'));
const configFile = join(work, 'soak.yaml');
writeFileSync(configFile, [
  'listen: { host: 127.0.0.1, port: 0 }',
  `admin: { host: 127.0.0.1, port: 0, token: ${TOKEN} }`,
  'upstream: { algorithm: p2c, retries: 1, healthCheck: { intervalMs: 1s, rise: 2, fall: 2 } }',
  `series: { intervalMs: 5s, logDir: ${join(work, 'traffic')} }`,
  'forecast: { historyFrom: none }',
  // 200 rps at 100 rps per backend and 80% target: 3 backends
  'scaler: { policy: predictive, capacityPerBackendRps: 100, targetUtilization: 0.8, minBackends: 2, maxBackends: 6, leadTimeMs: 30s, scaleInStabilizationMs: 1m, drainTimeoutMs: 10s }',
  'provider: { kind: local-process, backend: { concurrency: 8, serviceTimeMs: 10, queueLimit: 256, queueTimeoutMs: 2s } }',
  'log: { level: info }',
].join('\n'));

const child = spawn(process.execPath, [join(root, 'bin/prescale.js'), 'serve', '--config', configFile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
child.stdout.on('data', (c: Buffer) => (log += c.toString()));
child.stderr.on('data', (c: Buffer) => (log += c.toString()));
const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
process.once('SIGINT', () => child.kill('SIGKILL'));
process.once('exit', () => child.kill('SIGKILL'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number) => Math.round(v * 10) / 10;
const loadAtStart = loadavg().map(round);
async function getText(url: string): Promise<string> {
  const res = await request(url, { headersTimeout: 10_000 });
  return res.body.text();
}

// wait for "prescale listening" and two ready backends
let ports: { proxyPort: number; adminPort: number } | undefined;
for (const deadline = Date.now() + 60_000; ports === undefined; await sleep(100)) {
  if (Date.now() > deadline || child.exitCode !== null) throw new Error(`prescale serve did not start:\n${log}`);
  const line = log.split('\n').find((l) => l.includes('"prescale listening"'));
  if (line) ports = JSON.parse(line) as { proxyPort: number; adminPort: number };
}
const proxy = `http://127.0.0.1:${ports.proxyPort}`;
const admin = `http://127.0.0.1:${ports.adminPort}`;
const status = async () => JSON.parse(await getText(`${admin}/v1/status`)) as { readyBackends: number; desiredBackends: number };
for (const deadline = Date.now() + 60_000; (await status()).readyBackends < 2; await sleep(200)) {
  if (Date.now() > deadline) throw new Error('backends did not become ready');
}

// an extra backend the admin API adds and drains away
const extra = createServer((req, res) => void req.resume().on('end', () => res.end('extra')));
await new Promise<void>((r) => extra.listen(0, '127.0.0.1', r));
const extraUrl = `http://127.0.0.1:${(extra.address() as AddressInfo).port}`;

const counts = { sent: 0, ok: 0, errors: 0, lost: 0, skippedInFlightCap: 0, inFlight: 0 };
const statuses: Record<string, number> = {};
const latenciesMs: number[] = [];
const agent = new Agent({ connections: 256, keepAliveTimeout: 10_000 });
const startMs = Date.now();
const endMs = startMs + minutes * 60_000;

/** Open loop: every 10 ms send however many requests are due at `rps`, whatever came back. */
async function load(): Promise<void> {
  let due = 0;
  while (Date.now() < endMs) {
    const target = Math.floor(((Date.now() - startMs) / 1000) * rps);
    for (; due < target; due++) {
      if (counts.inFlight >= 2000) {
        counts.skippedInFlightCap++;
        continue;
      }
      counts.sent++;
      counts.inFlight++;
      const t0 = performance.now();
      request(`${proxy}/work?n=${due}`, { dispatcher: agent, headersTimeout: 15_000, bodyTimeout: 15_000 })
        .then(async (res) => {
          await res.body.dump();
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode >= 200 && res.statusCode < 300) counts.ok++;
          else counts.errors++;
          latenciesMs.push(performance.now() - t0);
        })
        .catch(() => counts.lost++)
        .finally(() => counts.inFlight--);
    }
    await sleep(10);
  }
}

const samples: Array<{ tSeconds: number; rssMb: number; heapUsedMb: number; ready: number; desired: number; inFlight: number; load1m: number }> = [];
async function sample(): Promise<void> {
  const text = await getText(`${admin}/metrics`);
  const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN);
  const s = await status();
  samples.push({
    tSeconds: Math.round((Date.now() - startMs) / 1000),
    rssMb: metric('prescale_process_process_resident_memory_bytes') / MB || metric('prescale_process_resident_memory_bytes') / MB,
    heapUsedMb: metric('prescale_process_nodejs_heap_size_used_bytes') / MB,
    ready: s.readyBackends,
    desired: s.desiredBackends,
    inFlight: counts.inFlight,
    load1m: round(loadavg()[0] ?? NaN),
  });
}

/** pids of prescale's child processes (its backends). */
function backendPids(): number[] {
  const text = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

const churn = { kills: 0, adminAdds: 0, adminRemoves: 0, adminFailures: 0 };
async function churnLoop(): Promise<void> {
  let step = 0;
  while (Date.now() + killEveryMs / 2 < endMs) {
    await sleep(killEveryMs / 2);
    step++;
    if (step % 2 === 0) {
      const pids = backendPids();
      const victim = pids[Math.floor(Math.random() * pids.length)];
      if (victim !== undefined) {
        process.kill(victim, 'SIGKILL');
        churn.kills++;
      }
    } else {
      const adding = step % 4 === 1;
      const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
      const res = adding
        ? await request(`${admin}/v1/backends`, { method: 'POST', headers, body: JSON.stringify({ id: 'soak-extra', url: extraUrl }) })
        : await request(`${admin}/v1/backends/soak-extra`, { method: 'DELETE', headers });
      await res.body.dump();
      if (res.statusCode >= 300) churn.adminFailures++;
      else if (adding) churn.adminAdds++;
      else churn.adminRemoves++;
    }
  }
}

const sampler = (async () => {
  for (await sample(); Date.now() < endMs; await sample()) await sleep(Math.min(10_000, Math.max(0, endMs - Date.now())));
})();
await Promise.all([load(), churnLoop(), sampler]);
for (const deadline = Date.now() + 20_000; counts.inFlight > 0 && Date.now() < deadline; ) await sleep(50);
await sample();
child.kill('SIGTERM');
const exitCode = await exited;
await agent.close();
extra.close();

const sorted = [...latenciesMs].sort((a, b) => a - b);
const pct = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN) * 10) / 10;
// the first minute (or quarter of a short run) is warm-up: tsx compiles, pools and the forecaster fill
const warmupSeconds = Math.min(60, (minutes * 60) / 4);
const rss = samples.filter((s) => s.tSeconds >= warmupSeconds).map((s) => s.rssMb);
const secondHalf = samples.filter((s) => s.tSeconds >= (minutes * 60) / 2);
const slope = secondHalf.length >= 2 ? linearRegression(secondHalf.map((s) => [s.tSeconds / 60, s.rssMb])).m : NaN;
const loads = samples.map((s) => s.load1m);
const result = {
  generated: new Date().toISOString(),
  command: `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  commit: gitCommit(),
  node: process.version,
  cpus: availableParallelism(),
  loadAverage: { atStart: loadAtStart, atEnd: loadavg().map(round), max1m: round(Math.max(...loads)), mean1m: round(loads.reduce((a, b) => a + b, 0) / loads.length) },
  minutes,
  rps,
  killEverySeconds: killEveryMs / 1000,
  requests: { sent: counts.sent, ok: counts.ok, errors: counts.errors, lost: counts.lost, stillInFlight: counts.inFlight, notSentInFlightCap: counts.skippedInFlightCap, statuses },
  latencyMs: { p50: pct(0.5), p99: pct(0.99), max: round(sorted[sorted.length - 1] ?? NaN) },
  churn: { ...churn, events: churnEvents(log) },
  rssMb: { atLaunch: round(samples[0]?.rssMb ?? NaN), warmupSeconds, start: round(rss[0] ?? NaN), end: round(rss[rss.length - 1] ?? NaN), max: round(Math.max(...rss)), growth: round((rss[rss.length - 1] ?? NaN) - (rss[0] ?? NaN)), secondHalfSlopeMbPerMinute: round(slope) },
  heapUsedMb: { start: round(samples[0]?.heapUsedMb ?? NaN), end: round(samples[samples.length - 1]?.heapUsedMb ?? NaN) },
  prescaleExitCode: exitCode,
  warningsLogged: log.split('\n').filter((l) => l.includes('"level":40') || l.includes('"level":50')).length,
  samples,
};
const out = resolve(root, values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
process.stdout.write([
  `soak: ${minutes} min at ${rps} req/s, a backend SIGKILLed every ${killEveryMs / 1000} s (${churn.kills} kills), admin add/remove ${churn.adminAdds}/${churn.adminRemoves} (${churn.adminFailures} failed)`,
  `requests: ${counts.sent} sent, ${counts.ok} ok, ${counts.errors} errors ${JSON.stringify(statuses)}, ${counts.lost} lost; latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`,
  `RSS: start ${result.rssMb.start} MB (after ${warmupSeconds} s warm-up; ${result.rssMb.atLaunch} MB at launch), end ${result.rssMb.end} MB, growth ${result.rssMb.growth} MB (max ${result.rssMb.max} MB; second-half slope ${result.rssMb.secondHalfSlopeMbPerMinute} MB/min); heap used ${result.heapUsedMb.start} → ${result.heapUsedMb.end} MB`,
  `backend churn seen in prescale's log: ${JSON.stringify(result.churn.events)}`,
  `load average (1 min) on this ${result.cpus}-CPU machine: ${result.loadAverage.atStart[0]} at start, mean ${result.loadAverage.mean1m}, max ${result.loadAverage.max1m}, ${result.loadAverage.atEnd[0]} at end`,
  `prescale exit code ${exitCode}; ${result.warningsLogged} warnings logged; written to ${values.out}`,
  '',
].join('\n'));

/** Short commit id, marked when tracked files have changes (read-only git commands). */
function gitCommit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim() || 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).stdout.trim() !== '';
  return dirty ? `${head} with uncommitted changes` : head;
}

/** Backend churn as prescale logged it: how many lines of each fleet or health message (pino NDJSON). */
function churnEvents(text: string): Record<string, number> {
  const kinds = ['instance requested', 'instance running', 'instance stopped', 'stopping instance', 'backend failed health checks', 'backend passed health checks'];
  const events: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  for (const line of text.split('\n')) {
    let msg: string | undefined;
    try {
      msg = line.startsWith('{') ? (JSON.parse(line) as { msg?: string }).msg : undefined;
    } catch {
      continue; // not a log line (a torn last line at exit)
    }
    if (msg !== undefined && msg in events) events[msg] = (events[msg] ?? 0) + 1;
  }
  return events;
}
