import { fileURLToPath } from 'node:url';
import { startApp } from '../app.js';
import { createLogger } from '../runtime/logger.js';
import { validateConfig, formatProblems } from '../config/load.js';
import { PrescaleError } from '../errors.js';
import { backendsFor, type ScalingMode } from '../scaler/decide.js';
import type { TickReport } from '../scaler/control-loop.js';
import { readTrace, sliceTrace } from '../series/trace.js';
import { capacityRises, underProvisioned, type CapacityRise } from './capacity-lead.js';
import { replay } from './load-generator.js';

export const DEFAULT_TRACE = fileURLToPath(new URL('../../data/traces/nasa_ksc_jul1995_1min.csv', import.meta.url));

export interface DemoOptions {
  policy: ScalingMode;
  trace: string;
  /** Trace time of the first replayed interval (ISO-8601). */
  from: string;
  /** Trace minutes to replay. */
  minutes: number;
  /** Trace seconds per wall second (60: one trace minute per second). */
  speed: number;
  /** Requests sent per trace request (0.5 halves the load). */
  loadScale: number;
  /** Provisioning delay of a new backend, in trace time (ms), scaled by `speed`. */
  provisioningMs: number;
  /** Where the traffic log goes. */
  logDir: string;
  /** Print one line per interval. */
  print: (line: string) => void;
}

export interface DemoSummary {
  policy: ScalingMode;
  trace: string;
  window: { from: string; to: string; minutes: number; speed: number };
  requestsSent: number;
  errors: number;
  errorRate: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Σ instances × interval, in wall seconds and in trace hours. */
  backendSeconds: number;
  backendHoursTraceTime: number;
  /** Lead of capacity over each load rise, in trace minutes (positive = ahead). */
  rises: Array<CapacityRise & { loadAt: string; leadMinutes: number | null }>;
  /** Rises whose capacity was ready when the load arrived (lead >= 0). */
  risesMetInTime: number;
  medianLeadMinutes: number | null;
  /** Trace minutes in which the offered load exceeded ready capacity at the target utilisation, and at 100%. */
  minutesAboveTarget: number;
  minutesOverCapacity: number;
}

/** Sample backend used by the demo: at most 2 requests at once, 25 ms each: 80 rps per backend. */
const DEMO_BACKEND = { concurrency: 2, serviceTimeMs: 25, queueLimit: 40, queueTimeoutMs: 1_000 };
const DEMO_CAPACITY_RPS = 80;

/**
 * Run the demo: prescale in front of local sample backends, replaying a real trace compressed
 * in time, with the forecaster seeded by the trace's preceding days. Returns the summary.
 * @throws PrescaleError PRESCALE_ERR_TRACE for a missing or malformed trace or a window outside it.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const trace = await readTrace(options.trace);
  const fromMs = Date.parse(options.from);
  const toMs = fromMs + options.minutes * trace.intervalMs;
  if (!Number.isFinite(fromMs) || fromMs <= trace.startMs || toMs > trace.startMs + trace.requests.length * trace.intervalMs) {
    throw new PrescaleError('PRESCALE_ERR_TRACE', `${options.trace}: the replay window ${options.from} + ${options.minutes} intervals is not inside the trace (it needs history before it)`);
  }
  const scale = (counts: number[]) => counts.map((c) => Math.round(c * options.loadScale));
  const history = scale(sliceTrace(trace, trace.startMs, fromMs));
  const load = scale(sliceTrace(trace, fromMs, toMs));
  const intervalMs = Math.round(trace.intervalMs / options.speed);
  const toWall = (traceMs: number) => Math.round(traceMs / options.speed);

  const parsed = validateConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { healthCheck: { intervalMs: Math.max(50, Math.round(intervalMs / 5)), timeoutMs: 1000, rise: 1, fall: 2 } },
    series: { intervalMs, logDir: options.logDir },
    forecast: { seasonLengthIntervals: Math.round(86_400_000 / trace.intervalMs), historyFrom: 'none' },
    scaler: {
      policy: options.policy,
      capacityPerBackendRps: DEMO_CAPACITY_RPS,
      targetUtilization: 0.8,
      minBackends: 1,
      maxBackends: 12,
      leadTimeMs: toWall(options.provisioningMs) + intervalMs,
      scaleInStabilizationMs: toWall(5 * 60_000),
      drainTimeoutMs: 10_000,
    },
    provider: { kind: 'local-process', bootDelayMs: toWall(options.provisioningMs), backend: DEMO_BACKEND },
    log: { level: 'warn' },
  });
  if (!parsed.ok) throw new PrescaleError('PRESCALE_ERR_CONFIG', `demo config invalid:\n${formatProblems(parsed.problems)}`);
  const config = parsed.config;
  const perInterval = (count: number) => count / (intervalMs / 1000);
  const initial = Math.max(1, backendsFor(perInterval(load[0] ?? 0), config.scaler));

  const app = await startApp(config, { logger: createLogger('warn', 2), initialBackends: initial, autoTick: false });
  try {
    await app.loop.waitForReady(initial, 60_000);
    const startMs = Math.ceil((Date.now() + 200) / intervalMs) * intervalMs;
    app.series.seed(history, startMs);
    const ready: number[] = new Array<number>(load.length).fill(0);
    ready[0] = app.upstream.readyCount();
    let backendSeconds = 0;
    const traceTime = (i: number) => new Date(fromMs + i * trace.intervalMs).toISOString().slice(11, 16);
    options.print(`prescale demo: ${options.policy} policy, ${trace.file.split('/').pop()} ${options.from} +${options.minutes} min at ${options.speed}x, provisioning ${options.provisioningMs / 60_000} min, ${DEMO_CAPACITY_RPS} rps per backend at 80% target`);
    options.print('trace  offered  forecast(+lead)  desired  ready  p99ms  errors  reason');
    app.loop.on('tick', (r: TickReport) => {
      const i = Math.round((r.nowMs - startMs) / intervalMs); // the interval that starts now
      backendSeconds += r.instances * (intervalMs / 1000);
      if (i >= 0 && i < ready.length) ready[i] = r.ready;
      const b = app.series.last();
      if (!b || i < 1 || i > load.length) return;
      const forecast = r.forecast ? `${r.forecast.upperRps.toFixed(0).padStart(6)} rps` : '       n/a';
      options.print(
        `${traceTime(i - 1)}  ${perInterval(b.requests).toFixed(0).padStart(5)}/s  ${forecast.padStart(15)}  ${String(r.decision.desired).padStart(7)}  ${String(r.ready).padStart(5)}  ${b.latencyP99Ms.toFixed(0).padStart(5)}  ${String(b.errors).padStart(6)}  ${r.decision.reason}`,
      );
    });
    app.loop.startTicking();
    await sleepUntil(startMs);
    const result = await replay(`http://127.0.0.1:${app.proxyPort}`, load, startMs, intervalMs, 10_000);
    await sleepUntil(startMs + (load.length + 1) * intervalMs + 20);

    const needed = load.map((c) => backendsFor(perInterval(c), config.scaler));
    const rises = capacityRises(needed, ready, initial).map((r) => ({
      ...r,
      loadAt: traceTime(r.loadIndex),
      leadMinutes: r.leadIntervals === null ? null : (r.leadIntervals * trace.intervalMs) / 60_000,
    }));
    const leads = rises.map((r) => r.leadMinutes ?? Number.NEGATIVE_INFINITY).sort((a, b) => a - b);
    const offered = load.map(perInterval);
    const minutesPerInterval = trace.intervalMs / 60_000;
    return {
      policy: options.policy,
      trace: options.trace,
      window: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), minutes: options.minutes, speed: options.speed },
      requestsSent: result.sent,
      errors: result.errors,
      errorRate: result.sent > 0 ? result.errors / result.sent : 0,
      latencyP50Ms: result.latency.quantile(0.5),
      latencyP99Ms: result.latency.quantile(0.99),
      backendSeconds,
      backendHoursTraceTime: (backendSeconds * options.speed) / 3600,
      rises,
      risesMetInTime: rises.filter((r) => r.leadIntervals !== null && r.leadIntervals >= 0).length,
      medianLeadMinutes: leads.length > 0 && Number.isFinite(leads[Math.floor((leads.length - 1) / 2)]) ? (leads[Math.floor((leads.length - 1) / 2)] as number) : null,
      minutesAboveTarget: underProvisioned(offered, ready, config.scaler.capacityPerBackendRps * config.scaler.targetUtilization) * minutesPerInterval,
      minutesOverCapacity: underProvisioned(offered, ready, config.scaler.capacityPerBackendRps) * minutesPerInterval,
    };
  } finally {
    await app.stop();
  }
}

/** Render the summary for a terminal. */
export function formatSummary(s: DemoSummary): string {
  const lines = [
    `summary (${s.policy}): ${s.window.from} to ${s.window.to} at ${s.window.speed}x`,
    `  requests sent      ${s.requestsSent}`,
    `  errors             ${s.errors} (${(s.errorRate * 100).toFixed(2)}%)`,
    `  latency p50 / p99  ${s.latencyP50Ms.toFixed(1)} ms / ${s.latencyP99Ms.toFixed(1)} ms`,
    `  backend-seconds    ${s.backendSeconds.toFixed(0)} wall s (${s.backendHoursTraceTime.toFixed(1)} backend-hours of trace time)`,
    `  under-provisioned  ${s.minutesAboveTarget} min above target utilisation, ${s.minutesOverCapacity} min over capacity`,
    `  load rises         ${s.rises.length}, capacity ready in time for ${s.risesMetInTime}; median lead ${s.medianLeadMinutes === null ? 'n/a' : `${s.medianLeadMinutes > 0 ? '+' : ''}${s.medianLeadMinutes} min`}`,
    `  capacity lead per rise (trace minutes, + = ready before the load):`,
    `    ${s.rises.map((r) => `${r.loadAt} ${r.level}: ${r.leadMinutes === null ? 'never' : `${r.leadMinutes > 0 ? '+' : ''}${r.leadMinutes}`}`).join(', ')}`,
  ];
  return lines.join('\n');
}

function sleepUntil(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));
}
