import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Backend } from '../proxy/backend.js';
import type { DecisionReason } from '../scaler/decide.js';
import { registerBackendMetrics } from './backend-metrics.js';
import { ForecastMetrics, type ForecastSnapshot, type StoredModelProblem } from './forecast-metrics.js';
import { queuedRequests } from './queue-observer.js';
import { RequestDurationHistogram } from './request-duration.js';

export type { ForecastSnapshot, StoredModelProblem } from './forecast-metrics.js';

/** Every decision reason, so each has a series (at 0) from the first scrape. */
const REASONS = ['forecast-scale-out', 'reactive-scale-out', 'max-capacity', 'min-capacity', 'scale-in', 'scale-in-stabilizing', 'scale-in-cooldown', 'scheduled', 'scale-out-limited', 'hold'] as const satisfies readonly DecisionReason[];
// fails to compile when decide.ts gains a reason this list lacks
const allReasons: [Exclude<DecisionReason, (typeof REASONS)[number]>] extends [never] ? true : false = true;
void allReasons;

/** Provider operations timed by `observeProviderCall` (CapacityProvider.describe / setDesired). */
export type ProviderOperation = 'describe' | 'set_desired';

/** What the metrics read from a remote history source (src/series/prometheus-source.ts) at scrape time. */
export interface HistorySourceStats {
  /** True while the forecast reads the local series because the remote source failed. */
  readonly fallback: boolean;
  /** Failed refreshes: `request` (unreachable, error answer, bad body), `empty` (no series returned). */
  readonly errors: Readonly<Record<'request' | 'empty', number>>;
  /** Epoch ms of the last successful refresh, 0 before the first. */
  readonly lastSuccessMs: number;
}

/** What one control-loop tick reports to the metrics (TickReport of src/scaler/control-loop.ts fits it). */
export interface TickMetrics {
  nowMs: number;
  observedRps: number;
  forecast: { model: string; pointRps: number; upperRps: number } | null;
  decision: { desired: number; reason: string };
  instances: number;
}

export interface MetricsOptions {
  /** Backends ready in the pool the scaler sizes; default: every eligible backend of `backends`. */
  readyBackends?: () => number;
  /** Length of one series interval, ms (scores the forecast error). Default 10 s. */
  intervalMs?: number;
  /** forecast.quantile. Default 0.9. */
  forecastQuantile?: number;
  /** Scored intervals of the rolling forecast error. Default 60. */
  accuracyWindow?: number;
  /** scaler.capacityPerBackendRps and scaler.targetUtilization, exported so alerts can compute utilisation. */
  capacityPerBackendRps?: number;
  targetUtilization?: number;
}

/**
 * Every prescale metric, on an injected registry (tests do not share a global one). Names follow
 * Prometheus conventions: `prescale_` prefix, base units, `_total` counters, bounded labels
 * (backend ids, pool names, decision reasons, fixed enums). Per-backend counters are plain
 * integers on the backend objects, read at scrape time (backend-metrics.ts), so the proxy's hot
 * path only observes the duration histogram, whose counts are folded in at scrape time too
 * (request-duration.ts). The control loop's results arrive once per tick
 * (`recordTick`, `recordForecast`); provider calls through `observeProviderCall`.
 */
export class Metrics {
  readonly registry: Registry;
  /** prescale_request_duration_seconds; `observe(seconds)` once per finished request (request-duration.ts). */
  readonly requestDuration: RequestDurationHistogram;
  readonly desiredBackends: Gauge;
  readonly readyBackends: Gauge;
  readonly decisions: Counter<'reason'>;
  readonly observedRps: Gauge;
  readonly forecast: ForecastMetrics;
  private readonly instances: Gauge;
  private readonly leadTime: Gauge;
  private readonly providerDuration: Histogram<'operation'>;
  private readonly providerErrors: Counter<'operation'>;
  private readonly queues: Array<{ pool: string; backends: () => readonly Backend[]; admitted: (() => number) | null }> = [];
  private readonly intervalMs: number;
  private historySource: (() => HistorySourceStats) | null = null;

  /** @param backends the backends to report, read at scrape time (all pools). */
  constructor(backends: () => readonly Backend[], registry = new Registry(), options: MetricsOptions = {}) {
    this.registry = registry;
    this.intervalMs = options.intervalMs ?? 10_000;
    const registers = [registry];
    const self = this;
    collectDefaultMetrics({ register: registry, prefix: 'prescale_process_' });
    // prom-client's sums of the by-type gauges are gauges named _total, which promtool rejects; the by-type ones stay
    for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`prescale_process_nodejs_active_${kind}_total`);
    registerBackendMetrics(registry, backends);
    this.requestDuration = new RequestDurationHistogram({
      name: 'prescale_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, in seconds; its _count counts every finished request (TCP mode: connection).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'prescale_requests_in_flight',
      help: 'Requests (and tunnels) on a backend now, all pools.',
      registers,
      collect() {
        let n = 0;
        for (const b of backends()) n += b.inFlight;
        this.set(n);
      },
    });
    new Gauge({
      name: 'prescale_requests_queued',
      help: 'Requests waiting for a backend below maxConnsPerBackend, by pool (always 0 for a pool without maxConnsPerBackend).',
      labelNames: ['pool'] as const,
      registers,
      collect() {
        this.reset();
        for (const q of self.queues) this.labels(q.pool).set(q.admitted === null ? 0 : queuedRequests(q.admitted(), q.backends()));
      },
    });
    this.observedRps = new Gauge({ name: 'prescale_observed_requests_per_second', help: 'Request rate of the last closed interval, as the forecast history source reports it.', registers });
    this.desiredBackends = new Gauge({ name: 'prescale_capacity_desired_backends', help: 'Backends the scaler wants.', registers });
    this.readyBackends = new Gauge({
      name: 'prescale_capacity_ready_backends',
      help: 'Backends ready to take traffic in the pool the scaler sizes.',
      registers,
      collect() {
        if (options.readyBackends) return void this.set(options.readyBackends());
        let n = 0;
        for (const b of backends()) if (b.eligible) n++;
        this.set(n);
      },
    });
    this.instances = new Gauge({ name: 'prescale_capacity_instances', help: 'Instances the provider holds (provisioning and running), the ones that cost money.', registers });
    this.leadTime = new Gauge({ name: 'prescale_scaler_lead_time_seconds', help: 'Provisioning lead time the forecast looks ahead (configured or learned).', registers });
    new Gauge({ name: 'prescale_scaler_backend_capacity_requests_per_second', help: 'Requests per second one backend serves at 100% utilisation (scaler.capacityPerBackendRps).', registers }).set(options.capacityPerBackendRps ?? 0);
    new Gauge({ name: 'prescale_scaler_target_utilization_ratio', help: 'Fraction of capacity the scaler plans to use (scaler.targetUtilization).', registers }).set(options.targetUtilization ?? 0);
    this.decisions = new Counter({ name: 'prescale_scaling_decisions_total', help: 'Scaling decisions, by the reason of the winning rule.', labelNames: ['reason'] as const, registers });
    for (const reason of REASONS) this.decisions.labels(reason).inc(0);
    this.providerDuration = new Histogram({
      name: 'prescale_provider_call_duration_seconds',
      help: 'Duration of capacity provider calls (retries included), by operation.',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.providerErrors = new Counter({ name: 'prescale_provider_call_errors_total', help: 'Capacity provider calls that failed (after retries), by operation.', labelNames: ['operation'] as const, registers });
    for (const op of ['describe', 'set_desired'] as const) {
      this.providerDuration.zero({ operation: op });
      this.providerErrors.labels(op).inc(0);
    }
    this.registerHistorySource(registers);
    this.forecast = new ForecastMetrics(registry, { quantile: options.forecastQuantile ?? 0.9, accuracyWindow: options.accuracyWindow ?? 60 });
  }

  /** Publish one control-loop tick: decision, capacity, observed rate, forecast; scores the interval that just closed. */
  recordTick(report: TickMetrics, leadTimeMs: number): void {
    this.desiredBackends.set(report.decision.desired);
    this.observedRps.set(report.observedRps);
    this.decisions.labels(report.decision.reason).inc();
    this.instances.set(report.instances);
    this.leadTime.set(leadTimeMs / 1000);
    this.forecast.setForecast(report.forecast);
    this.forecast.recordObserved(report.nowMs, this.intervalMs, report.observedRps);
  }

  /** Keep a forecast for scoring when its lead-time interval closes. */
  recordForecast(snapshot: ForecastSnapshot): void {
    this.forecast.recordForecast(snapshot);
  }

  /** One provider call took `seconds`; `failed` when it threw. */
  observeProviderCall(operation: ProviderOperation, seconds: number, failed: boolean): void {
    this.providerDuration.labels(operation).observe(seconds);
    if (failed) this.providerErrors.labels(operation).inc();
  }

  /**
   * Report pool `pool`'s queue at scrape time: `admitted` counts its requests admitted and not
   * finished (queue-observer.ts), null when the pool has no maxConnsPerBackend (no queue).
   */
  watchQueue(pool: string, backends: () => readonly Backend[], admitted: (() => number) | null): void {
    this.queues.push({ pool, backends, admitted });
  }

  /** Report the remote history source (series.source: prometheus) at scrape time. */
  watchHistorySource(stats: () => HistorySourceStats): void {
    this.historySource = stats;
  }

  /** Set the stored-model warning: one problem at 1, the others at 0 (all 0 when usable). */
  setStoredModelProblem(problem: StoredModelProblem): void {
    this.forecast.setStoredModelProblem(problem);
  }

  private registerHistorySource(registers: Registry[]): void {
    const self = this;
    new Gauge({
      name: 'prescale_history_source_fallback',
      help: '1 while the forecast reads the local traffic series because the Prometheus history source failed, else 0 (also 0 with series.source local).',
      registers,
      collect() {
        this.set(self.historySource?.().fallback === true ? 1 : 0);
      },
    });
    new Counter({
      name: 'prescale_history_source_errors_total',
      help: 'Failed refreshes of the Prometheus history source, by reason: request (unreachable, error answer, bad body) or empty (the query returned no series).',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        const errors = self.historySource?.().errors;
        this.reset();
        for (const reason of ['request', 'empty'] as const) this.labels(reason).inc(errors?.[reason] ?? 0);
      },
    });
    new Gauge({
      name: 'prescale_history_source_last_success_timestamp_seconds',
      help: 'Unix time of the last successful refresh of the Prometheus history source (0 before the first, and with series.source local).',
      registers,
      collect() {
        this.set((self.historySource?.().lastSuccessMs ?? 0) / 1000);
      },
    });
  }
}
