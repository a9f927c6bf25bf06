import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Backend } from '../proxy/backend.js';

/**
 * Every prescale metric, on an injected registry (tests do not share a global one).
 * Names follow Prometheus conventions: `prescale_` prefix, base units, `_total` counters.
 * Per-backend request counts are read from the backends' own integer counters at scrape time,
 * so the proxy hot path only observes the duration histogram.
 */
export class Metrics {
  readonly registry: Registry;
  readonly requestDuration: Histogram;
  readonly forecastRps: Gauge<'bound'>;
  readonly desiredBackends: Gauge;
  readonly readyBackends: Gauge;
  readonly decisions: Counter<'reason'>;
  readonly observedRps: Gauge;
  private readonly storedModelUnusable: Gauge<'problem'>;

  /** @param backends the backends to report, read at scrape time (all pools). */
  constructor(backends: () => readonly Backend[], registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    collectDefaultMetrics({ register: registry, prefix: 'prescale_process_' });
    new Counter({
      name: 'prescale_requests_total',
      help: 'Requests finished, by backend and status class (code="0xx" when no response came).',
      labelNames: ['backend', 'code'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) {
          b.responses.forEach((count, cls) => {
            if (count > 0) this.labels(b.id, `${cls}xx`).inc(count);
          });
        }
      },
    });
    this.requestDuration = new Histogram({
      name: 'prescale_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, in seconds.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'prescale_requests_in_flight',
      help: 'Requests being proxied now.',
      registers,
      collect() {
        let n = 0;
        for (const b of backends()) n += b.inFlight;
        this.set(n);
      },
    });
    new Gauge({
      name: 'prescale_backend_up',
      help: '1 when the backend is ready and passes health checks, else 0.',
      labelNames: ['backend'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.labels(b.id).set(b.eligible ? 1 : 0);
      },
    });
    new Gauge({
      name: 'prescale_backend_weight',
      help: 'Configured balancing weight of each backend.',
      labelNames: ['backend'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.labels(b.id).set(b.weight);
      },
    });
    new Gauge({
      name: 'prescale_backend_requests_in_flight',
      help: 'Requests in flight per backend.',
      labelNames: ['backend'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backends()) this.labels(b.id).set(b.inFlight);
      },
    });
    this.forecastRps = new Gauge({
      name: 'prescale_forecast_requests_per_second',
      help: 'Forecast request rate at now + lead time: bound="point" is the point forecast, "upper" the prediction interval upper bound.',
      labelNames: ['bound'] as const,
      registers,
    });
    this.observedRps = new Gauge({
      name: 'prescale_observed_requests_per_second',
      help: 'Request rate of the last closed interval.',
      registers,
    });
    this.desiredBackends = new Gauge({ name: 'prescale_capacity_desired_backends', help: 'Backends the scaler wants.', registers });
    this.readyBackends = new Gauge({
      name: 'prescale_capacity_ready_backends',
      help: 'Backends ready to take traffic.',
      registers,
      collect() {
        let n = 0;
        for (const b of backends()) if (b.eligible) n++;
        this.set(n);
      },
    });
    this.storedModelUnusable = new Gauge({
      name: 'prescale_forecast_stored_model_unusable',
      help: '1 when the pinned or current stored model could not be used (problem="missing|corrupt|mismatch") and the statistical models forecast instead.',
      labelNames: ['problem'] as const,
      registers,
    });
    this.setStoredModelProblem(null);
    this.decisions = new Counter({
      name: 'prescale_scaling_decisions_total',
      help: 'Scaling decisions, by the reason of the winning rule.',
      labelNames: ['reason'] as const,
      registers,
    });
  }

  /** Set the stored-model warning: one problem at 1, the others at 0 (all 0 when usable). */
  setStoredModelProblem(problem: 'missing' | 'corrupt' | 'mismatch' | null): void {
    for (const p of ['missing', 'corrupt', 'mismatch'] as const) this.storedModelUnusable.labels(p).set(p === problem ? 1 : 0);
  }
}
