/**
 * The sections of docs/RELIABILITY.md that do not come from test rows (scripts/reliability-report.ts):
 * - "Soak": rendered from the JSON that `npm run soak` writes (bench/soak.ts, bench/results/soak.json),
 *   so regenerating the document keeps the last soak's numbers;
 * - "Dependency audit": `npm audit --omit=dev` run now, its exact outcome (counts by severity, or
 *   the registry's error with status, method, URL and Allow header), `npm audit signatures`, and
 *   the production dependencies that were (or would have been) checked, with their versions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** What bench/soak.ts writes (the fields rendered here). */
export interface SoakResult {
  generated: string;
  command?: string;
  commit?: string;
  node?: string;
  cpus?: number;
  loadAverage?: { atStart: number[]; atEnd: number[]; max1m: number; mean1m: number };
  minutes: number;
  rps: number;
  killEverySeconds: number;
  requests: { sent: number; ok: number; errors: number; lost: number; stillInFlight: number; notSentInFlightCap: number; statuses: Record<string, number> };
  latencyMs: { p50: number; p99: number; max: number };
  churn: { kills: number; adminAdds: number; adminRemoves: number; adminFailures: number; events?: Record<string, number> };
  rssMb: { atLaunch: number; warmupSeconds: number; start: number; end: number; max: number; growth: number; secondHalfSlopeMbPerMinute: number };
  heapUsedMb: { start: number; end: number };
  prescaleExitCode: number | null;
  warningsLogged: number;
}

/** The "Soak" section from `file` (bench/results/soak.json), or a line saying there is none yet. */
export function renderSoak(file: string, shownPath: string): string[] {
  const lines = ['## Soak', ''];
  if (!existsSync(file)) return [...lines, `No soak result yet (\`${shownPath}\`): run \`npm run soak -- --minutes 10\`, then \`npm run reliability\`.`, ''];
  const r = JSON.parse(readFileSync(file, 'utf8')) as SoakResult;
  const q = r.requests;
  const events = r.churn.events ? Object.entries(r.churn.events).map(([k, v]) => `${k} ${v}`).join(', ') : 'not recorded';
  const load = r.loadAverage ? `${r.loadAverage.atStart[0]} at start, mean ${r.loadAverage.mean1m}, max ${r.loadAverage.max1m}, ${r.loadAverage.atEnd[0]} at end (1-minute load average on ${r.cpus ?? '?'} CPUs, sampled every 10 s; the machine was shared)` : 'not recorded';
  lines.push(
    `\`${r.command ?? 'npm run soak'}\` (bench/soak.ts; not run in CI): \`prescale serve\` in front of its own local-process sample backends`,
    `for ${r.minutes} minute${r.minutes === 1 ? '' : 's'} at ${r.rps} requests/s open loop, a backend SIGKILLed every ${r.killEverySeconds} s and an extra backend`,
    'added and drained through the admin API in between. RSS is prescale\'s own (the primary process),',
    `read from its /metrics every 10 s. Rendered from \`${shownPath}\`.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| run | ${r.generated}, commit ${r.commit ?? 'not recorded'}, node ${r.node ?? '?'} |`,
    `| requests | ${q.sent} sent, ${q.ok} ok, ${q.errors} errors, ${q.lost} lost (no answer), ${q.stillInFlight} still in flight at the end, ${q.notSentInFlightCap} not sent (client in-flight cap); statuses ${JSON.stringify(q.statuses)} |`,
    `| latency | p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms |`,
    `| RSS | ${r.rssMb.start} MB at start (after ${r.rssMb.warmupSeconds} s warm-up; ${r.rssMb.atLaunch} MB at launch), ${r.rssMb.end} MB at end: growth ${r.rssMb.growth} MB (max ${r.rssMb.max} MB; second-half slope ${r.rssMb.secondHalfSlopeMbPerMinute} MB/min) |`,
    `| heap used | ${r.heapUsedMb.start} MB → ${r.heapUsedMb.end} MB |`,
    `| backend churn (injected) | ${r.churn.kills} SIGKILLs, ${r.churn.adminAdds} admin adds, ${r.churn.adminRemoves} admin removes (${r.churn.adminFailures} failed) |`,
    `| backend churn (prescale's log) | ${events} |`,
    `| load average | ${load} |`,
    `| prescale | exit code ${r.prescaleExitCode} after SIGTERM; ${r.warningsLogged} warning or error lines logged |`,
    '',
  );
  return lines;
}

interface NpmRun {
  command: string;
  status: number | null;
  stdout: string;
  stderr: string;
}

function npm(args: string[], cwd: string): NpmRun {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 180_000 });
  // npm's warning about this machine's user config is noise here
  const stderr = run.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('Unknown user config')).join('\n');
  return { command: `npm ${args.join(' ')}`, status: run.status, stdout: run.stdout, stderr };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** One line on what an `npm audit --json` run answered: counts by severity, or the error. */
function auditOutcome(run: NpmRun): { ok: boolean; text: string; allow?: string; status?: number } {
  const json = parseJson(run.stdout) as { metadata?: { vulnerabilities?: Record<string, number> }; message?: string; statusCode?: number; headers?: { allow?: string[] } } | undefined;
  const counts = json?.metadata?.vulnerabilities;
  if (counts) return { ok: true, text: `exit ${run.status}; vulnerabilities by severity: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}` };
  const message = json?.message ?? run.stderr.split('\n').find((l) => l.startsWith('npm error') || l.startsWith('npm warn')) ?? '(no output)';
  return { ok: false, text: `exit ${run.status}: ${message}`, ...(json?.headers?.allow ? { allow: json.headers.allow.join(', ') } : {}), ...(json?.statusCode ? { status: json.statusCode } : {}) };
}

/** The "Dependency audit" section: runs npm audit, npm audit signatures and npm ls in `root`. */
export function renderAudit(root: string): string[] {
  const audit = npm(['audit', '--omit=dev', '--json'], root);
  const outcome = auditOutcome(audit);
  const signatures = npm(['audit', 'signatures', '--omit=dev', '--json'], root);
  const sigJson = parseJson(signatures.stdout) as { error?: { code?: string; summary?: string } } | undefined;
  const sigText = signatures.status === 0 ? `exit 0: ${signatures.stdout.trim().split('\n')[0] ?? ''}` : `exit ${signatures.status}: ${sigJson?.error ? `${sigJson.error.code}: ${sigJson.error.summary}` : (signatures.stderr.split('\n')[0] ?? '')}`;
  const ls = parseJson(npm(['ls', '--omit=dev', '--depth=0', '--json'], root).stdout) as { dependencies?: Record<string, { version: string }> } | undefined;
  const direct = Object.entries(ls?.dependencies ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const all = npm(['ls', '--omit=dev', '--all', '--parseable'], root).stdout.split('\n').filter((l) => l.trim() !== '').length - 1;
  const registry = npm(['config', 'get', 'registry'], root).stdout.trim();
  const lines = ['## Dependency audit', '', `Run by \`npm run reliability\` when it wrote this file (registry ${registry}).`, '', `- \`${audit.command}\`: ${outcome.text}`, `- \`${signatures.command}\`: ${sigText}`];
  if (!outcome.ok) {
    lines.push(
      '',
      `**The audit could not run here, so the requirement "no high or critical issue" is not verified by this file.**${outcome.status === 405 && outcome.allow ? ` The registry this machine reaches answered ${outcome.status} with \`Allow: ${outcome.allow}\` to the POST of npm's bulk advisory endpoint: it serves package reads only, so no advisory lookup is possible through it.` : ''}`,
      'Run `npm audit --omit=dev` where registry.npmjs.org is reachable directly to complete this check.',
    );
  }
  if (signatures.status !== 0 && sigJson?.error?.code === 'ENOTFOUND') {
    lines.push('`npm audit signatures` (registry signatures and provenance, not advisories) also fetches the sigstore TUF root, whose host does not resolve from this machine.');
  }
  lines.push('', `Production dependencies (${direct.length} direct, ${all} packages in the production tree, from \`npm ls --omit=dev\`):`, '');
  lines.push(direct.map(([name, d]) => `\`${name}@${d.version}\``).join(', '), '');
  return lines;
}
