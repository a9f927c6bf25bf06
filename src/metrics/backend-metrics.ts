import { Counter, Gauge, type Registry } from 'prom-client';
import type { Backend, BackendState } from '../proxy/backend.js';

const STATES: readonly BackendState[] = ['ready', 'drain', 'maint'];

/** A counter whose per-backend values are read from the backends at scrape time. */
function backendCounter(registry: Registry, backends: () => readonly Backend[], name: string, help: string, read: (b: Backend) => number): void {
  new Counter({
    name,
    help,
    labelNames: ['backend'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const b of backends()) this.labels(b.id).inc(read(b));
    },
  });
}

/** A gauge whose per-backend values are read from the backends at scrape time. */
function backendGauge(registry: Registry, backends: () => readonly Backend[], name: string, help: string, read: (b: Backend) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['backend'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const b of backends()) this.labels(b.id).set(read(b));
    },
  });
}

/**
 * Register the per-backend metrics on `registry`. Every value is read from the Backend objects
 * (src/proxy/backend.ts) when Prometheus scrapes, so the proxy's hot path only bumps plain
 * integers and never touches a metric or creates a label set. A backend that leaves the pool
 * leaves the exposition with it (its counters end, which Prometheus' rate() handles).
 *
 * Metrics (label `backend` = backend id):
 * - prescale_requests_total{backend,code}: attempts that ended on the backend, by status class
 *   (`code="0xx"`: abandoned without a response and retried on another backend);
 * - prescale_request_retries_total: attempts abandoned on this backend and retried elsewhere;
 * - prescale_backend_ejections_total / prescale_backend_ejected: passive-health ejections;
 * - prescale_health_checks_total{backend,result="pass"|"fail"}: active health check probes;
 * - prescale_backend_up / _healthy / _state{state} / _weight / _effective_weight /
 *   _requests_in_flight / _latency_peak_ewma_seconds: state read now.
 * @param backends the backends to report (all pools), called once per metric per scrape
 */
export function registerBackendMetrics(registry: Registry, backends: () => readonly Backend[]): void {
  new Counter({
    name: 'prescale_requests_total',
    help: 'Request attempts that ended on a backend, by backend and status class (code="0xx": abandoned without a response and retried on another backend).',
    labelNames: ['backend', 'code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const b of backends()) {
        b.responses.forEach((count, cls) => {
          if (count > 0) this.labels(b.id, `${cls}xx`).inc(count);
        });
      }
    },
  });
  backendCounter(registry, backends, 'prescale_request_retries_total', 'Attempts abandoned on this backend (connection error, timeout or a retryOn status) and retried on another backend.', (b) => b.responses[0] ?? 0);
  backendCounter(registry, backends, 'prescale_backend_ejections_total', 'Times passive health (outlier detection) ejected this backend.', (b) => b.ejections);
  new Counter({
    name: 'prescale_health_checks_total',
    help: 'Active health check probes of each backend, by result (pass or fail).',
    labelNames: ['backend', 'result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const b of backends()) {
        this.labels(b.id, 'pass').inc(b.healthChecks[1] ?? 0);
        this.labels(b.id, 'fail').inc(b.healthChecks[0] ?? 0);
      }
    },
  });
  backendGauge(registry, backends, 'prescale_backend_up', '1 when the backend takes new requests now (ready, weight > 0, healthy and not ejected, or the pool is in panic mode), else 0.', (b) => (b.eligible ? 1 : 0));
  backendGauge(registry, backends, 'prescale_backend_healthy', '1 when the backend passes its active health checks, else 0.', (b) => (b.healthy ? 1 : 0));
  backendGauge(registry, backends, 'prescale_backend_ejected', '1 while passive health keeps the backend ejected, else 0.', (b) => (b.ejectedUntilMs !== 0 ? 1 : 0));
  new Gauge({
    name: 'prescale_backend_state',
    help: 'Administrative state of each backend (HAProxy meaning): 1 for the state it is in (ready, drain or maint), 0 for the others.',
    labelNames: ['backend', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const b of backends()) for (const s of STATES) this.labels(b.id, s).set(b.state === s ? 1 : 0);
    },
  });
  backendGauge(registry, backends, 'prescale_backend_weight', 'Configured balancing weight of each backend.', (b) => b.weight);
  backendGauge(registry, backends, 'prescale_backend_effective_weight', 'Weight the balancer uses now: the configured weight ramped by slow start.', (b) => b.effectiveWeight);
  backendGauge(registry, backends, 'prescale_backend_requests_in_flight', 'Requests (and tunnels) in flight on each backend.', (b) => b.inFlight);
  backendGauge(registry, backends, 'prescale_backend_latency_peak_ewma_seconds', 'Peak EWMA of response latency of each backend (Finagle PeakEwma, 10 s decay), decayed to now.', (b) => b.peakEwmaAt(Date.now()) / 1000);
}
