/**
 * The benchmark's results: one JSON document (bench/results/proxy.json) and the markdown tables
 * the README quotes (bench/results/proxy.md), with issue 7's targets checked.
 */
import type { ControlPlaneResult } from './control-plane.js';
import type { FixedRateResult } from './fixed-rate.js';
import type { IdleResult } from './idle-conns.js';
import type { MachineFacts } from './machine.js';
import type { ContenderSummary, ScenarioResult } from './throughput.js';

export interface BenchResults {
  command: string;
  date: string;
  quick: boolean;
  durationS: number;
  machine: MachineFacts;
  settings: { rounds: number; connections: number; pinning: string };
  scenarios: ScenarioResult[];
  fixedRate: FixedRateResult | null;
  idle: IdleResult[];
  workers: { available: boolean; detail: string; scenario: ScenarioResult | null };
  controlPlane: ControlPlaneResult | null;
  skipped: { label: string; reason: string }[];
  targets: Target[];
}

export interface Target {
  name: string;
  measured: string;
  goal: string;
  pass: boolean | null;
}

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));
const find = (s: ScenarioResult | undefined, kind: string) => s?.results.find((r) => r.kind === kind && !/workers|compare/.test(r.label));
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || !(b > 0) ? null : a / b);

/** Issue 7's acceptance figures, from the results. */
export function checkTargets(r: Omit<BenchResults, 'targets'>): Target[] {
  const cheap = r.scenarios.find((s) => s.id === 'get-100b-cheap');
  const node = r.scenarios.find((s) => s.id === 'get-100b-node');
  const out: Target[] = [];
  const add = (name: string, value: number | null, goal: string, pass: (v: number) => boolean, unit = '×') => {
    out.push({ name, measured: value === null ? 'not measured' : `${fmt(value, 2)}${unit === '×' ? '×' : ` ${unit}`}`, goal, pass: value === null ? null : pass(value) });
  };
  add('cheap backends: prescale req/s ÷ nginx', ratio(find(cheap, 'prescale')?.rps, find(cheap, 'nginx')?.rps), '≥ 0.35× (aim 0.5×)', (v) => v >= 0.35);
  add('cheap backends: prescale CPU/request ÷ nginx', ratio(find(cheap, 'prescale')?.cpuUsPerRequest, find(cheap, 'nginx')?.cpuUsPerRequest), '≤ 3× (aim 2×)', (v) => v <= 3);
  add('Node backends: prescale req/s ÷ nginx', ratio(find(node, 'prescale')?.rps, find(node, 'nginx')?.rps), '≥ 0.8×', (v) => v >= 0.8);
  add('cheap backends: prescale req/s ÷ @fastify/http-proxy', ratio(find(cheap, 'prescale')?.rps, find(cheap, 'fastify')?.rps), '≥ 2×', (v) => v >= 2);
  const fr = r.fixedRate?.results;
  const added = fr ? (fr.find((x) => x.label === 'prescale')?.p99Ms ?? NaN) - (fr.find((x) => x.kind === 'direct')?.p99Ms ?? NaN) : null;
  add(`p99 added over direct at ${r.fixedRate?.rate ?? '?'} req/s`, added === null || Number.isNaN(added) ? null : added, '≤ 1 ms', (v) => v <= 1, 'ms');
  const rss = r.scenarios.flatMap((s) => s.results.filter((x) => x.kind === 'prescale' && !/workers|compare/.test(x.label)).map((x) => x.rssPeakMb ?? 0));
  add('prescale peak RSS under load (all scenarios)', rss.length > 0 ? Math.max(...rss) : null, '< 150 MB', (v) => v < 150, 'MB');
  return out;
}

function scenarioTable(s: ScenarioResult): string[] {
  const nginx = find(s, 'nginx');
  const rows = s.results.map((c: ContenderSummary) => {
    const x = ratio(c.rps, nginx?.rps);
    const cx = ratio(c.cpuUsPerRequest, nginx?.cpuUsPerRequest);
    return `| ${c.label} | ${fmt(c.rps, 0)} | ${fmt(x, 2)} | ${fmt(c.p50Ms, 2)} | ${fmt(c.p99Ms, 2)} | ${c.errors} | ${fmt(c.cpuUsPerRequest)} | ${fmt(cx, 2)} | ${fmt(c.rssPeakMb)} |`;
  });
  return [`### ${s.title}`, '', `\`${s.command}\``, '', '| contender | req/s | × nginx | p50 ms | p99 ms | errors | CPU µs/req | CPU × nginx | peak RSS MB |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|', ...rows, ''];
}

/** The markdown report. */
export function toMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [
    '# prescale data-plane benchmark',
    '',
    `Command: \`${r.command}\` (${r.quick ? 'quick mode: fewer and shorter runs' : 'full run'}), ${r.date}, ${Math.round(r.durationS / 60)} min.`,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memGb} GB, Linux ${m.kernel}; node ${m.node}, nginx ${m.nginx}, HAProxy ${m.haproxy}, wrk ${m.wrk}. Load average (1 min) ${fmt(m.loadAvgStart, 2)} at start, ${fmt(m.loadAvgEnd, 2)} at end: other work on the machine makes absolute numbers noisy; compare within a run.`,
    '',
    `Setup: ${r.settings.pinning}. Round robin over the same 2 backends with upstream keep-alive (prescale: P2C with traffic recording, traffic log, metrics, active and passive health checks on). Each cell is the median of ${r.settings.rounds} interleaved runs (A B C … A B C …) after a warm-up; CPU is utime + stime of the proxy's processes per request; RSS is the largest sample of the proxy's processes during the runs.`,
    '',
    '## prescale against the others',
    '',
    '| scenario | prescale req/s | ÷ nginx | ÷ HAProxy | ÷ @fastify/http-proxy | ÷ bare node:http + undici | CPU/req ÷ nginx |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...r.scenarios.filter((s) => find(s, 'prescale')).map((s) => {
      const p = find(s, 'prescale');
      return `| ${s.title} | ${fmt(p?.rps, 0)} | ${fmt(ratio(p?.rps, find(s, 'nginx')?.rps), 2)} | ${fmt(ratio(p?.rps, find(s, 'haproxy')?.rps), 2)} | ${fmt(ratio(p?.rps, find(s, 'fastify')?.rps), 2)} | ${fmt(ratio(p?.rps, find(s, 'bare')?.rps), 2)} | ${fmt(ratio(p?.cpuUsPerRequest, find(s, 'nginx')?.cpuUsPerRequest), 2)} |`;
    }),
    '',
    '## Targets (issue 7)',
    '',
    '| target | measured | goal | met |',
    '|---|---:|---|---|',
    ...r.targets.map((t) => `| ${t.name} | ${t.measured} | ${t.goal} | ${t.pass === null ? '-' : t.pass ? 'yes' : 'no'} |`),
    '',
    '## Throughput at fixed concurrency',
    '',
    ...r.scenarios.flatMap(scenarioTable),
  ];
  if (r.fixedRate) out.push(...fixedRateSection(r.fixedRate));
  if (r.idle.length > 0) {
    out.push('## Idle keep-alive client connections', '', '| contender | RSS before MB | RSS after MB | open when measured | MB per 10k connections |', '|---|---:|---:|---:|---:|');
    for (const i of r.idle) out.push(`| ${i.label} | ${fmt(i.rssBeforeMb)} | ${fmt(i.rssAfterMb)} | ${i.openAtMeasure} / ${i.connections} | ${fmt(i.mbPer10k)} |`);
    out.push('');
  }
  out.push('## workers: 2 (unpinned)', '', r.workers.detail, '');
  if (r.workers.scenario) out.push(...scenarioTable(r.workers.scenario));
  if (r.controlPlane) out.push(...controlPlaneSection(r.controlPlane));
  if (r.skipped.length > 0) out.push('## Skipped', '', ...r.skipped.map((s) => `- ${s.label}: ${s.reason}`), '');
  return `${out.join('\n')}\n`;
}

function fixedRateSection(f: FixedRateResult): string[] {
  const direct = f.results.find((x) => x.kind === 'direct');
  const nginx = f.results.find((x) => x.kind === 'nginx');
  const d = (a: number, b: number | undefined) => (b === undefined ? '-' : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(3)}`);
  return [
    `## Added latency at a fixed ${f.rate} req/s (open loop, well below saturation)`,
    '',
    `\`${f.command}\`: ${f.warmS} s warm-up, then ${f.durationS} s measured (${f.rate * f.durationS} requests); medians over rounds; latency from send to the end of the body.`,
    '',
    '| contender | p50 ms | p99 ms | p99.9 ms | errors | p50 vs direct | p99 vs direct | p50 vs nginx | p99 vs nginx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...f.results.map((x) => `| ${x.label} | ${x.p50Ms.toFixed(3)} | ${x.p99Ms.toFixed(3)} | ${x.p999Ms.toFixed(3)} | ${x.errors} | ${d(x.p50Ms, direct?.p50Ms)} | ${d(x.p99Ms, direct?.p99Ms)} | ${d(x.p50Ms, nginx?.p50Ms)} | ${d(x.p99Ms, nginx?.p99Ms)} |`),
    '',
  ];
}

function controlPlaneSection(c: ControlPlaneResult): string[] {
  return [
    '## Control plane',
    '',
    '| what | cost |',
    '|---|---:|',
    ...c.decide.map((d) => `| decide(), ${d.case} | ${d.usPerCall.toFixed(3)} µs per call |`),
    ...c.forecast.rows.map((f) => `| ${f.model}: fit / train | ${f.fit} s |`),
    ...c.forecast.rows.map((f) => `| ${f.model}: predict 1 h | ${f.predictMs} ms |`),
    `| \`${c.simulate.command}\` | ${c.simulate.ok ? `${c.simulate.wallS.toFixed(1)} s wall` : `failed: ${c.simulate.error ?? ''}`} |`,
    '',
    `Forecast timings from \`${c.forecast.command}\`${c.forecast.error ? ` (failed: ${c.forecast.error})` : ''}.`,
    '',
  ];
}
