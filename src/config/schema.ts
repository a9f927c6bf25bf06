import { z } from 'zod';
import { MODEL_NAMES } from '../forecast/registry.js';
import { ALGORITHM_NAMES } from '../proxy/balancers/index.js';
import { validateSchedule } from '../scaler/schedule.js';
import { createTrustedProxies } from '../proxy/trusted-proxies.js';
import { duration, leadTime } from './duration.js';
import { leaseTimingsProblem, resolveLeaseTimings } from '../scaler/leader/lease-timings.js';

/**
 * The one configuration schema of prescale (STYLE.md §6). Every field is documented in
 * examples/prescale.yaml. Durations accept milliseconds or strings like "5m"; the parsed
 * config holds integer milliseconds in the `...Ms` fields.
 */
const listen = (defaultHost: string, defaultPort: number) =>
  z.strictObject({
    host: z.string().min(1).default(defaultHost),
    port: z.number().int().min(0).max(65535).default(defaultPort),
  });

/** The data-plane listener: HTTP (layer 7) or TCP (layer 4, HAProxy `mode tcp`). */
const proxyListen = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(8080),
  mode: z.enum(['http', 'tcp']).default('http'),
  /** IPs or CIDR ranges whose X-Forwarded-For is kept and appended to; everyone else's is replaced. */
  trustedProxies: z.array(z.string().min(2)).default([]),
  /** TLS termination (http mode): PEM files, re-read on SIGHUP without dropping connections. */
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  /** Slow clients (src/proxy/server.ts, http mode): the request head must arrive within this; unset = 20 s. */
  headersTimeoutMs: duration.refine((v) => v >= 1, 'must be at least 1ms').optional(),
  /** The whole request, head and body, must arrive within this; 0 = no limit; unset = 5 m. */
  requestTimeoutMs: duration.optional(),
  /** Idle keep-alive client connections close after this; unset = 75 s (nginx's keepalive_timeout). */
  keepAliveTimeoutMs: duration.optional(),
  /** Most header lines in a request (more: 431); unset = 100. */
  maxHeaders: z.number().int().min(10).max(2000).optional(),
}).refine((l) => !l.requestTimeoutMs || (l.headersTimeoutMs ?? 20_000) <= l.requestTimeoutMs, {
  message: 'requestTimeoutMs must be 0 or at least headersTimeoutMs (20s when unset)',
  path: ['requestTimeoutMs'],
});

const backend = z.strictObject({
  url: z.url({ protocol: /^(https?|tcp)$/ }),
  weight: z.number().int().min(0).max(1000).default(1),
});

const healthCheck = z.strictObject({
  /** http: GET `path` and expect a 2xx/3xx; tcp: a TCP connect succeeds. */
  kind: z.enum(['http', 'tcp']).default('http'),
  path: z.string().startsWith('/').default('/healthz'),
  intervalMs: duration.default(2000),
  timeoutMs: duration.default(1000),
  /** Statuses counted as healthy, inclusive range. */
  expectStatus: z.tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)]).default([200, 399]),
  rise: z.number().int().min(1).default(2),
  fall: z.number().int().min(1).default(3),
});

/** Passive health: nginx max_fails/fail_timeout and Envoy outlier detection (src/proxy/outlier-detection.ts). */
const passiveHealth = z.strictObject({
  maxFails: z.number().int().min(0).default(1),
  failTimeoutMs: duration.default(10_000),
  consecutive5xx: z.number().int().min(0).default(5),
  consecutiveGatewayFailures: z.number().int().min(0).default(5),
  baseEjectionMs: duration.default(30_000),
  maxEjectionMs: duration.default(300_000),
  maxEjectionPercent: z.number().min(0).max(100).default(10),
  panicThresholdPercent: z.number().min(0).max(100).default(50),
});

/** Slow start, Envoy's slow_start_config (src/proxy/backend.ts); windowMs 0 turns it off. */
const slowStart = z.strictObject({
  windowMs: duration.default(0),
  aggression: z.number().positive().default(1),
  minWeightPercent: z.number().min(0).max(100).default(10),
});

const upstream = z.strictObject({
  algorithm: z.enum(ALGORITHM_NAMES).default('p2c'),
  /** What ip-hash, ring-hash and maglev hash: the client address, a header, a cookie or the path. */
  hashKey: z
    .strictObject({ source: z.enum(['client-ip', 'header', 'cookie', 'path']).default('client-ip'), name: z.string().min(1).optional() })
    .refine((k) => (k.source !== 'header' && k.source !== 'cookie') || k.name !== undefined, { message: 'hashKey.name is required for source "header" or "cookie"', path: ['name'] })
    .default({ source: 'client-ip' }),
  /** ring-hash and maglev: no backend gets more than ceil(factor × average in-flight); unset = unbounded. */
  boundedLoadFactor: z.number().min(1).optional(),
  backends: z.array(backend).default([]),
  connectTimeoutMs: duration.default(2000),
  firstByteTimeoutMs: duration.default(30_000),
  idleTimeoutMs: duration.default(60_000),
  keepAliveConnections: z.number().int().min(1).default(64),
  retries: z.number().int().min(0).max(5).default(1),
  /** Response statuses retried on another backend (idempotent requests without a body). */
  retryOn: z.array(z.number().int().min(500).max(599)).default([]),
  /** Deadline for a whole request including retries; 0 = none. */
  totalTimeoutMs: duration.default(0),
  /** HAProxy `maxconn` per server (0 = unlimited); when all are full, requests queue. */
  maxConnsPerBackend: z.number().int().min(0).default(0),
  queueLimit: z.number().int().min(0).default(1024),
  queueTimeoutMs: duration.default(5_000),
  healthCheck: healthCheck.default(healthCheck.parse({})),
  passiveHealth: passiveHealth.default(passiveHealth.parse({})),
  slowStart: slowStart.default(slowStart.parse({})),
});

const poolName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'pool names are lower-case letters, digits and dashes');

const route = z.strictObject({
  match: z.strictObject({
    host: z.string().min(1).optional(),
    pathPrefix: z.string().startsWith('/').optional(),
    methods: z.array(z.string().regex(/^[A-Za-z]+$/)).min(1).optional(),
    header: z.strictObject({ name: z.string().min(1), value: z.string().optional() }).optional(),
  }),
  pool: poolName,
});

/** series.source "prometheus": the forecast's history from range queries (src/series/prometheus-source.ts). */
const prometheusHistory = z.strictObject({
  /** Prometheus base URL, e.g. http://prometheus:9090. */
  url: z.url({ protocol: /^https?$/ }),
  /** PromQL returning the total request rate in requests per second (one series, or several that are summed). */
  query: z.string().min(1).default('sum(rate(prescale_request_duration_seconds_count{job="prescale"}[1m]))'),
  /** Resolution of the range query; must divide series.intervalMs (each interval averages its samples). Default: series.intervalMs. */
  stepMs: duration.refine((v) => v >= 100, 'step must be at least 100ms').optional(),
  /** Per request, headers and body each. */
  timeoutMs: duration.default(5_000),
});

const series = z
  .strictObject({
    intervalMs: duration.refine((v) => v >= 100, 'interval must be at least 100ms').default(10_000),
    capacity: z.number().int().min(10).default(60_480),
    logDir: z.string().min(1).default('data/traffic'),
    /** Where the forecast's history comes from: this process's traffic series, or Prometheus (the sum over replicas). */
    source: z.enum(['local', 'prometheus']).default('local'),
    prometheus: prometheusHistory.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.source === 'prometheus' && s.prometheus === undefined) {
      ctx.addIssue({ code: 'custom', path: ['prometheus'], message: 'series.source "prometheus" needs series.prometheus with at least a url' });
    }
    const stepMs = s.prometheus?.stepMs;
    if (stepMs !== undefined && s.intervalMs % stepMs !== 0) {
      ctx.addIssue({ code: 'custom', path: ['prometheus', 'stepMs'], message: `stepMs (${stepMs} ms) must divide series.intervalMs (${s.intervalMs} ms)` });
    }
  });

const forecast = z.strictObject({
  /** Candidate models; the one with the lowest recent backtest error at the lead-time horizon is used. */
  models: z.array(z.enum(MODEL_NAMES)).min(1).default(['naive', 'seasonal-naive-daily', 'linear-regression', 'linear-regression-fourier', 'holt-winters']),
  /** Season length in intervals; default: one day of intervals. */
  seasonLengthIntervals: z.number().int().min(2).optional(),
  windowIntervals: z.number().int().min(3).default(30),
  quantile: z.number().gt(0.5).lt(1).default(0.9),
  backtestOrigins: z.number().int().min(1).default(30),
  historyFrom: z.enum(['traffic-log', 'none']).default('traffic-log'),
  /** Scheduled retraining (src/forecast/retrain.ts): backtest `models` against the current stored
   *  model on the last day of logged traffic and make the better one current. */
  retrain: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Cron expression, 5 or 6 fields (node-cron); fully checked when the retrainer starts. */
      schedule: z.string().regex(/^\s*\S+(\s+\S+){4,5}\s*$/, 'expected a cron expression like "0 3 * * *"').default('0 3 * * *'),
      /** Directory of stored models: models/<id>/meta.json, models/current, models/previous. */
      modelsDir: z.string().min(1).default('models'),
    })
    .default({ enabled: false, schedule: '0 3 * * *', modelsDir: 'models' }),
  /** Id of a stored model under retrain.modelsDir to use instead of the one models/current names. */
  pinnedModel: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a model id: letters, digits, ".", "_" and "-"').optional(),
});

const scheduleWindow = z.union([
  z.strictObject({ name: z.string().optional(), cron: z.string().min(9), durationMs: duration, timezone: z.string().optional(), minBackends: z.number().int().min(0) }),
  z.strictObject({ name: z.string().optional(), from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), minBackends: z.number().int().min(0) }),
]);

const scaler = z.strictObject({
  /** predictive: max(forecast, observed); reactive: observed only; forecast-only: compute and publish predictive decisions, change nothing. */
  policy: z.enum(['predictive', 'reactive', 'forecast-only']).default('predictive'),
  capacityPerBackendRps: z.number().positive(),
  /**
   * Estimate capacity per backend from observed throughput vs p99 latency (src/scaler/capacity-estimate.ts):
   * the per-backend load where p99 crosses latencyTargetMs; capacityPerBackendRps is the start and the floor until then.
   */
  capacityEstimate: z
    .strictObject({
      enabled: z.boolean().default(false),
      latencyTargetMs: duration.default(250),
      minSamples: z.number().int().min(5).default(30),
      windowIntervals: z.number().int().min(10).default(1440),
      maxStep: z.number().gt(0).max(1).default(0.25),
    })
    .refine((c) => c.windowIntervals >= c.minSamples, { message: 'windowIntervals must be at least minSamples', path: ['windowIntervals'] })
    .default({ enabled: false, latencyTargetMs: 250, minSamples: 30, windowIntervals: 1440, maxStep: 0.25 }),
  targetUtilization: z.number().gt(0).max(1).default(0.8),
  minBackends: z.number().int().min(0).default(1),
  maxBackends: z.number().int().min(1).default(10),
  /** Provisioning lead time, or "auto": p90 of measured scale-outs (ask → first passed health check). */
  leadTimeMs: leadTime.default(300_000),
  /** With leadTimeMs "auto": the starting guess and the cap (also sizes the forecast horizon). */
  maxLeadTimeMs: duration.default(900_000),
  scaleInStabilizationMs: duration.default(300_000),
  /** No scale-in within this long after the desired count changed; omitted: the lead time. */
  scaleInCooldownMs: duration.optional(),
  drainTimeoutMs: duration.default(30_000),
  /** Scale-out step limit per decision (HPA default: 100% or 4 backends, whichever is more). */
  scaleOutLimit: z.strictObject({ percent: z.number().positive().default(100), backends: z.number().int().min(1).default(4) }).default({ percent: 100, backends: 4 }),
  /** Known events (launches, sales): at least minBackends while a window is active. */
  schedule: z.array(scheduleWindow).default([]),
});

const sampleBackend = z.strictObject({
  concurrency: z.number().int().min(1).default(4),
  serviceTimeMs: duration.default(20),
  queueLimit: z.number().int().min(0).default(64),
  queueTimeoutMs: duration.default(2_000),
});

/** Retries of a remote provider's calls: attempts in all (the first included), full-jitter backoff. */
const providerRetry = z
  .strictObject({ attempts: z.number().int().min(1).max(10).default(3), baseDelayMs: duration.default(200), maxDelayMs: duration.default(5_000) })
  .refine((r) => r.maxDelayMs >= r.baseDelayMs, { message: 'maxDelayMs must be at least baseDelayMs', path: ['maxDelayMs'] })
  .default({ attempts: 3, baseDelayMs: 200, maxDelayMs: 5_000 });

const provider = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('static') }),
  z.strictObject({
    kind: z.literal('local-process'),
    bootDelayMs: duration.default(0),
    backend: sampleBackend.default(sampleBackend.parse({})),
  }),
  z.strictObject({
    kind: z.literal('exec'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    timeoutMs: duration.default(30_000),
    env: z.record(z.string(), z.string()).default({}),
    retry: providerRetry,
  }),
  z.strictObject({
    kind: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    /** HMAC key; prefer PRESCALE_WEBHOOK_SECRET over writing it here. */
    secret: z.string().min(16, 'use a secret of at least 16 characters'),
    timeoutMs: duration.default(10_000),
    retry: providerRetry,
  }),
  z.strictObject({
    kind: z.literal('aws'),
    groupName: z.string().min(1),
    region: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    scheme: z.enum(['http', 'https']).default('http'),
    addressType: z.enum(['private', 'public']).default('private'),
    endpoint: z.url().optional(),
    retry: providerRetry,
  }),
  z.strictObject({
    kind: z.literal('kubernetes'),
    namespace: z.string().min(1),
    /** The workload whose scale subresource prescale sets. */
    target: z.strictObject({ kind: z.enum(['Deployment', 'StatefulSet']), name: z.string().min(1) }),
    /** Container port traffic goes to. */
    port: z.number().int().min(1).max(65535),
    /** kubeconfig file; default KUBECONFIG, ~/.kube/config, then in-cluster. */
    kubeconfig: z.string().optional(),
    /** API server URL override (https, or http to loopback such as kubectl proxy). */
    server: z.url().optional(),
    requestTimeoutMs: duration.default(10_000),
    retry: providerRetry,
  }),
  z.strictObject({
    kind: z.literal('gcp'),
    project: z.string().min(1),
    /** Zonal managed instance group only; no Compute Engine autoscaler may be attached. */
    zone: z.string().min(1),
    group: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    scheme: z.enum(['http', 'https']).default('http'),
    /** Compute API origin; default https://compute.googleapis.com. */
    apiEndpoint: z.string().optional(),
    timeoutMs: duration.default(30_000),
    retry: providerRetry,
  }),
]);

/** Leader election among replicas (src/scaler/leader/): only the lease holder changes the fleet; the others proxy and follow. */
const leader = z.strictObject({
  /** none: this replica scales (a single replica); redis: a lease in one Redis; kubernetes: a coordination.k8s.io/v1 Lease. */
  kind: z.enum(['none', 'redis', 'kubernetes']).default('none'),
  redis: z.strictObject({ url: z.url({ protocol: /^rediss?$/ }), key: z.string().min(1).default('prescale:leader') }).optional(),
  /** namespace, kubeconfig and server default to provider.kubernetes's. */
  kubernetes: z
    .strictObject({ namespace: z.string().min(1).optional(), name: z.string().min(1).default('prescale-leader'), kubeconfig: z.string().optional(), server: z.url().optional() })
    .optional(),
  leaseDurationMs: duration.default(15_000),
  /** Default two thirds of leaseDurationMs; a leader that has not renewed for this long stops scaling. */
  renewDeadlineMs: duration.optional(),
  /** Default a third of leaseDurationMs. */
  renewIntervalMs: duration.optional(),
  /** Unique per replica; default hostname-pid. */
  identity: z.string().min(1).optional(),
});

export const configSchema = z
  .strictObject({
    listen: proxyListen.default({ host: '0.0.0.0', port: 8080, mode: 'http', trustedProxies: [] }),
    admin: listen('127.0.0.1', 9090)
      .extend({
        /** Bearer token for admin API mutations; required to bind off loopback. Prefer PRESCALE_ADMIN_TOKEN over writing it here. */
        token: z.string().min(16, 'use a token of at least 16 characters').optional(),
        /** Directory of backtest / simulate SVGs the dashboard lists and serves (GET /v1/plots); default "plots" (an empty list when missing). */
        plotsDir: z.string().min(1).optional(),
      })
      .default({ host: '127.0.0.1', port: 9090 }),
    upstream: upstream.default(upstream.parse({})),
    /** Extra static pools for route rules; `upstream` is the pool named "default", the one the scaler sizes. */
    pools: z.record(poolName, upstream).default({}),
    routes: z.array(route).default([]),
    series: series.default(series.parse({})),
    forecast: forecast.default(forecast.parse({})),
    scaler,
    provider: provider.default({ kind: 'static' }),
    leader: leader.default({ kind: 'none', leaseDurationMs: 15_000 }),
    log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info') }).default({ level: 'info' }),
    /** Data-plane processes (node:cluster, src/cluster/): 1 = one process; "auto" = os.availableParallelism(). */
    workers: z.union([z.number().int().min(1).max(256), z.literal('auto')], { error: 'expected a whole number of worker processes (1-256) or "auto"' }).default(1),
  })
  .superRefine((config, ctx) => {
    if (config.scaler.minBackends > config.scaler.maxBackends) {
      ctx.addIssue({ code: 'custom', path: ['scaler', 'minBackends'], message: `minBackends (${config.scaler.minBackends}) is above maxBackends (${config.scaler.maxBackends})` });
    }
    config.scaler.schedule.forEach((w, i) => {
      const problem = validateSchedule(w);
      if (problem !== null) ctx.addIssue({ code: 'custom', path: ['scaler', 'schedule', i], message: problem });
    });
    config.routes.forEach((r, i) => {
      if (r.pool !== 'default' && !(r.pool in config.pools)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'pool'], message: `unknown pool "${r.pool}"; define it under pools or use "default"` });
      }
    });
    config.listen.trustedProxies.forEach((entry, i) => {
      try {
        createTrustedProxies([entry]);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['listen', 'trustedProxies', i], message: (err as Error).message });
      }
    });
    if (config.listen.mode === 'tcp') {
      if (config.upstream.hashKey.source !== 'client-ip') {
        ctx.addIssue({ code: 'custom', path: ['upstream', 'hashKey', 'source'], message: 'TCP mode can only hash the client address; use "client-ip"' });
      }
      if (config.listen.tls) ctx.addIssue({ code: 'custom', path: ['listen', 'tls'], message: 'TLS termination needs listen.mode "http"' });
      if (config.routes.length > 0) ctx.addIssue({ code: 'custom', path: ['routes'], message: 'route rules need HTTP; remove them or use listen.mode "http"' });
    }
    config.upstream.backends.forEach((b, i) => {
      if (b.url.startsWith('tcp:') && config.listen.mode !== 'tcp') {
        ctx.addIssue({ code: 'custom', path: ['upstream', 'backends', i, 'url'], message: 'a tcp:// backend needs listen.mode "tcp"' });
      }
    });
    for (const [name, p] of Object.entries(config.pools)) {
      if (p.backends.length === 0) ctx.addIssue({ code: 'custom', path: ['pools', name, 'backends'], message: `pool "${name}" needs at least one backend` });
    }
    const lead = config.leader;
    if (lead.kind === 'redis' && lead.redis === undefined) ctx.addIssue({ code: 'custom', path: ['leader', 'redis'], message: 'leader kind "redis" needs redis.url, e.g. "redis://127.0.0.1:6379"' });
    if (lead.kind === 'kubernetes' && lead.kubernetes?.namespace === undefined && config.provider.kind !== 'kubernetes') {
      ctx.addIssue({ code: 'custom', path: ['leader', 'kubernetes', 'namespace'], message: 'leader kind "kubernetes" needs kubernetes.namespace (or provider kind "kubernetes")' });
    }
    const leaseProblem = lead.kind === 'none' ? null : leaseTimingsProblem(resolveLeaseTimings(lead));
    if (leaseProblem !== null) ctx.addIssue({ code: 'custom', path: ['leader', 'renewIntervalMs'], message: leaseProblem });
    if (lead.kind !== 'none' && config.provider.kind === 'local-process') {
      ctx.addIssue({ code: 'custom', path: ['leader', 'kind'], message: 'local-process backends belong to one replica; leader election needs a provider the replicas share (exec, webhook, aws, kubernetes, gcp)' });
    }
    if (config.provider.kind === 'static' && config.upstream.backends.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'backends'], message: 'provider "static" needs at least one backend' });
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
