import { AggregatorRegistry, Registry, type Aggregator } from 'prom-client';
import type { MetricsSnapshot } from './ipc-messages.js';

/**
 * How one metric is combined across the processes of a cluster:
 * - `from`: whose values count: the data-plane `workers` (the primary's own copy of a
 *   data-plane metric is ignored), the `control` plane (the primary) alone, or `all` of them.
 * - `aggregator`: prom-client's cluster aggregator applied per label set (sum, min, max, first,
 *   average, omit); default: the metric's own `aggregator` option (prom-client's default 'sum').
 */
export interface AggregationRule {
  from: 'workers' | 'control' | 'all';
  aggregator?: Aggregator;
}

/**
 * The rule per metric name (src/metrics/). The data plane's metrics are listed: workers count
 * their own requests and hold their own view of each backend. Process metrics
 * (`prescale_process_*`) come from every process with prom-client's own aggregator (CPU and
 * memory sum, event-loop lag averages). Every other metric belongs to the control plane, which
 * only the primary runs: the primary's value is the value (`from: 'control'`). A new data-plane
 * metric needs a row here (test/unit/cluster-metrics-aggregation.test.ts checks the names).
 */
export const AGGREGATION_RULES: Readonly<Record<string, AggregationRule>> = {
  // every worker counts its own requests, retries, queue and in-flight requests: sums
  prescale_requests_total: { from: 'workers', aggregator: 'sum' },
  prescale_request_retries_total: { from: 'workers', aggregator: 'sum' },
  prescale_request_duration_seconds: { from: 'workers', aggregator: 'sum' },
  prescale_requests_in_flight: { from: 'workers', aggregator: 'sum' },
  prescale_requests_queued: { from: 'workers', aggregator: 'sum' },
  prescale_backend_requests_in_flight: { from: 'workers', aggregator: 'sum' },
  prescale_backend_ejections_total: { from: 'workers', aggregator: 'sum' },
  // every process (workers and the primary's copy of the pool) probes each backend: all probes sent
  prescale_health_checks_total: { from: 'all', aggregator: 'sum' },
  // each worker health-checks and ejects on its own: up / healthy only when every worker sees it
  // so, ejected when any worker ejected it, the slowest worker's latency view
  prescale_backend_up: { from: 'workers', aggregator: 'min' },
  prescale_backend_healthy: { from: 'workers', aggregator: 'min' },
  prescale_backend_ejected: { from: 'workers', aggregator: 'max' },
  prescale_backend_effective_weight: { from: 'workers', aggregator: 'min' },
  prescale_backend_latency_peak_ewma_seconds: { from: 'workers', aggregator: 'max' },
  // state and weight are set by the control plane and copied to the workers: its copy
  prescale_backend_state: { from: 'control' },
  prescale_backend_weight: { from: 'control' },
  // when the service started: the primary's start
  prescale_process_process_start_time_seconds: { from: 'control' },
};

/** Metrics every process reports about itself (prom-client's default metrics, prefixed in src/metrics/metrics.ts). */
const PER_PROCESS_PREFIX = 'prescale_process_';

/** Metric types whose values only grow (a retired worker's last values stay in their sums). */
const CUMULATIVE = new Set(['counter', 'histogram']);

/** The rule for metric `name`: its row, `{ from: 'all' }` for process metrics, else `{ from: 'control' }`. */
export function aggregationRuleFor(name: string): AggregationRule {
  return AGGREGATION_RULES[name] ?? (name.startsWith(PER_PROCESS_PREFIX) ? { from: 'all' } : { from: 'control' });
}

/** Copies of the metrics of `snapshot` that `role` contributes, each with the aggregator its rule names. */
function contributions(snapshot: MetricsSnapshot, role: 'worker' | 'control' | 'retired'): MetricsSnapshot {
  const out: MetricsSnapshot = [];
  for (const metric of snapshot) {
    const rule = aggregationRuleFor(metric.name);
    if (role === 'control' ? rule.from === 'workers' : rule.from === 'control') continue;
    if (role === 'retired' && !CUMULATIVE.has(String(metric.type))) continue;
    out.push({ ...metric, aggregator: rule.aggregator ?? metric.aggregator ?? 'sum' });
  }
  return out;
}

/**
 * One registry with the cluster's metrics: the primary's `control` snapshot, each live
 * worker's snapshot and `retired` (the counters and histograms of workers that exited, so sums
 * never go down when a worker is replaced), combined per AGGREGATION_RULES. Values are
 * `registry.getMetricsAsJSON()` answers; render the result with `.metrics()`.
 * Source: prom-client's AggregatorRegistry.aggregate (cluster metrics) with per-name rules.
 */
export function aggregateMetrics(control: MetricsSnapshot, workers: readonly MetricsSnapshot[], retired: MetricsSnapshot | null): Registry {
  const sources = [contributions(control, 'control'), ...workers.map((w) => contributions(w, 'worker'))];
  if (retired !== null) sources.push(contributions(retired, 'retired'));
  // a metric's aggregator is taken from its first copy: make every copy carry the same one
  const byName = new Map<string, Aggregator>();
  for (const source of sources) for (const m of source) if (!byName.has(m.name)) byName.set(m.name, m.aggregator);
  for (const source of sources) for (const m of source) m.aggregator = byName.get(m.name) ?? 'sum';
  return AggregatorRegistry.aggregate(sources);
}

/**
 * Fold the counters and histograms of an exited worker's last snapshot into `retired` (summed
 * per label set), so cluster totals keep counting what it served. Gauges are dropped.
 */
export async function retireSnapshot(retired: MetricsSnapshot | null, last: MetricsSnapshot): Promise<MetricsSnapshot> {
  const parts = [contributions(last, 'retired')];
  if (retired !== null) parts.push(contributions(retired, 'retired'));
  for (const part of parts) for (const m of part) m.aggregator = 'sum';
  return AggregatorRegistry.aggregate(parts).getMetricsAsJSON();
}

/**
 * A Registry whose exposition is produced by `collect` (the cluster primary's aggregated view),
 * so the admin server serves it like any registry.
 */
export class ClusterRegistry extends Registry {
  constructor(private readonly collect: () => Promise<string>) {
    super();
  }

  override metrics(): Promise<string> {
    return this.collect();
  }
}
