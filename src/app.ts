import type { Logger } from 'pino';
import { assertAdminBindSafe, createAdminApp, listenAdmin } from './admin/admin-server.js';
import type { Config } from './config/schema.js';
import { ServiceForecaster } from './forecast/service-forecaster.js';
import { Metrics } from './metrics/metrics.js';
import { closeServer } from './proxy/server.js';
import { createTrafficRecorder } from './proxy/traffic-recorder.js';
import type { Upstream } from './proxy/upstream.js';
import type { Pool } from './proxy/pool.js';
import { buildDataPlane, listenDataPlane } from './cluster/data-plane.js';
import { WorkerCluster } from './cluster/primary.js';
import { resolveWorkerCount } from './cluster/worker-count.js';
import { ControlLoop, type BalancerControl, type ForecastEvent, type TickReport } from './scaler/control-loop.js';
import type { CapacityProvider } from './scaler/provider.js';
import { buildProvider } from './scaler/providers/build.js';
import { buildLeaderElector } from './scaler/leader/build-leader-elector.js';
import { followLeader, leaderStatus } from './scaler/leader/follower.js';
import { registerLeaderMetrics } from './scaler/leader/leader-metrics.js';
import { historyFromBuckets } from './series/history.js';
import { TrafficLog, readTrafficLog } from './series/traffic-log.js';
import { TrafficSeries } from './series/traffic-series.js';
import { PrometheusSeries } from './series/prometheus-source.js';
import { withCallTiming } from './scaler/providers/retrying.js';
import { createDashboard } from './web/dashboard.js';
import { createLogger } from './runtime/logger.js';

/** Recent decisions kept for GET /v1/decisions. */
const DECISIONS_KEPT = 360;

export interface AppOptions {
  logger?: Logger;
  /** History to start from (requests per interval, oldest first, ending now); default: the traffic log. */
  seedHistory?: readonly number[];
  /** Fleet size to start with (clamped to min/max); default: the provider's actual fleet. */
  initialBackends?: number;
  /** false: the control loop waits for `app.loop.startTicking()` (the demo starts it with the replay). */
  autoTick?: boolean;
}

export interface App {
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly upstream: Upstream;
  readonly series: TrafficSeries;
  readonly metrics: Metrics;
  /** The forecast's history from Prometheus (series.source: prometheus), else null (the local series). */
  readonly historySource: PrometheusSeries | null;
  readonly loop: ControlLoop;
  readonly provider: CapacityProvider | null;
  /** Instances the provider holds now (provisioning + running), 0 for static backends. */
  instanceCount(): Promise<number>;
  status(): unknown;
  stop(): Promise<void>;
}

/**
 * The one composition root: builds every part from the validated config and wires them
 * (STYLE.md "the shape of the house"): proxy → traffic series → forecast → decide → provider and
 * balancer. Returns once the proxy and admin ports listen and the control loop runs.
 */
export async function startApp(config: Readonly<Config>, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.log.level);
  assertAdminBindSafe(config.admin.host, config.admin.token);
  const series = new TrafficSeries({ intervalMs: config.series.intervalMs, capacity: config.series.capacity });
  const nowBoundary = Math.floor(Date.now() / config.series.intervalMs) * config.series.intervalMs;
  const seed = options.seedHistory ?? (await historyFromLog(config, nowBoundary, logger));
  if (seed.length > 0) series.seed(seed, nowBoundary);
  const trafficLog = new TrafficLog({ dir: config.series.logDir });

  const pools: Pool[] = [];
  const metrics = new Metrics(() => (pools.length === 1 ? (pools[0] as Pool).upstream.backends : pools.flatMap((p) => p.upstream.backends)), undefined, {
    readyBackends: () => pools[0]?.upstream.readyCount() ?? 0,
    intervalMs: config.series.intervalMs,
    forecastQuantile: config.forecast.quantile,
    capacityPerBackendRps: config.scaler.capacityPerBackendRps,
    targetUtilization: config.scaler.targetUtilization,
  });
  const historySource = await startHistorySource(config, series, metrics, logger);
  const recorder = createTrafficRecorder(series, metrics.requestDuration);
  // pools, health checks and router (src/cluster/data-plane.ts, shared with cluster workers);
  // with workers > 1 these pools serve no traffic: they are the control plane's copy
  const dataPlane = buildDataPlane(config, recorder, logger, metrics);
  pools.push(...dataPlane.pools);
  const pool = dataPlane.pool;
  const upstream = pool.upstream;
  const workerCount = resolveWorkerCount(config.workers);
  let cluster: WorkerCluster | undefined;

  const built = await buildProvider(config, logger);
  const provider = built && withCallTiming(built, (operation, seconds, failed) => metrics.observeProviderCall(operation, seconds, failed));
  // several replicas: only the lease holder scales, the others proxy and follow (src/scaler/leader/)
  const elector = await buildLeaderElector(config, logger);
  registerLeaderMetrics(metrics.registry, elector ?? { isLeader: () => true, failures: 0 });
  const seasonLength = config.forecast.seasonLengthIntervals ?? Math.max(2, Math.round(86_400_000 / config.series.intervalMs));
  const autoLead = config.scaler.leadTimeMs === 'auto';
  const leadTimeMs = autoLead ? config.scaler.maxLeadTimeMs : (config.scaler.leadTimeMs as number);
  const horizon = Math.ceil((leadTimeMs + config.series.intervalMs) / config.series.intervalMs);
  // fits and backtests run in a worker thread, never on the proxy's event loop; a stored or retrained model is used when usable
  const forecaster = await ServiceForecaster.start(
    config,
    {
      models: config.forecast.models,
      seasonLength,
      windowIntervals: config.forecast.windowIntervals,
      horizon,
      quantile: config.forecast.quantile,
      backtestOrigins: config.forecast.backtestOrigins,
      reselectEvery: 10,
    },
    logger,
    (problem) => metrics.setStoredModelProblem(problem),
  );
  // the scaler sees only the backends it admitted, never static or admin-added ones
  const scaled = new Set<string>();
  // with workers, a drain completes once every worker has finished the backend's requests
  const removeBackend = (id: string, ms: number) => cluster?.drainAndRemove(id, ms) ?? pool.remove(id, ms);
  const balancer: BalancerControl = {
    admit(id, url) {
      scaled.add(id);
      pool.admit(id, url);
    },
    ids: () => upstream.backends.filter((b) => scaled.has(b.id)).map((b) => b.id),
    readyCount: () => upstream.readyCount(),
    inFlight: (id) => cluster?.inFlightOf(id) ?? upstream.backends.find((b) => b.id === id)?.inFlight ?? 0,
    async drainAndRemove(id, drainTimeoutMs) {
      const result = await removeBackend(id, drainTimeoutMs);
      scaled.delete(id);
      return result;
    },
  };
  const loop = new ControlLoop({
    policy: {
      mode: config.scaler.policy === 'forecast-only' ? 'predictive' : config.scaler.policy,
      capacityPerBackendRps: config.scaler.capacityPerBackendRps,
      targetUtilization: config.scaler.targetUtilization,
      minBackends: config.scaler.minBackends,
      maxBackends: config.scaler.maxBackends,
      scaleInStabilizationMs: config.scaler.scaleInStabilizationMs,
      scaleInCooldownMs: config.scaler.scaleInCooldownMs,
      scaleOutLimit: config.scaler.scaleOutLimit,
    },
    leadTimeMs,
    ...(autoLead ? { learnLeadTime: { maxLeadTimeMs: config.scaler.maxLeadTimeMs } } : {}),
    drainTimeoutMs: config.scaler.drainTimeoutMs,
    ...(config.scaler.capacityEstimate.enabled ? { capacityEstimate: config.scaler.capacityEstimate } : {}),
    schedule: config.scaler.schedule,
    // series.source prometheus: the forecast reads the total of every replica; buckets still close locally
    series: historySource ?? series,
    forecaster,
    balancer,
    // forecast-only: decisions are computed and published, the fleet is left alone
    provider: config.scaler.policy === 'forecast-only' ? null : provider,
    ...(elector ? { leadership: elector } : {}),
    logger,
    onBuckets(buckets) {
      trafficLog.append(buckets).catch((err: unknown) => logger.error({ err }, 'traffic log append failed'));
    },
  });
  pool.onHealthy = (id) => {
    if (scaled.has(id)) loop.observeReady(id, Date.now());
  };
  loop.on('forecast', (event: ForecastEvent) => metrics.recordForecast(event));
  metrics.forecast.watchVersion(() => forecaster.modelVersion);
  let lastTick: TickReport | null = null;
  const decisions: TickReport[] = [];
  loop.on('tick', (report: TickReport) => {
    lastTick = report;
    decisions.push(report);
    if (decisions.length > DECISIONS_KEPT) decisions.shift();
    metrics.recordTick(report, loop.leadTimeMs);
    const changed = report.decision.desired !== (decisions[decisions.length - 2]?.decision.desired ?? report.decision.desired);
    logger[changed ? 'info' : 'debug']({ decision: report.decision, forecast: report.forecast, observedRps: report.observedRps }, 'scaling decision');
  });

  const dashboard = createDashboard({
    meta: { intervalMs: config.series.intervalMs, quantile: config.forecast.quantile, capacityPerBackendRps: config.scaler.capacityPerBackendRps, targetUtilization: config.scaler.targetUtilization, historyIntervals: DECISIONS_KEPT },
    loop,
    series,
    backends: () => upstream.backends,
    inFlight: (id) => cluster?.inFlightOf(id), // workers > 1: the proxying happens in the workers
    reports: () => decisions,
    plotsDir: config.admin.plotsDir ?? 'plots',
  });

  if (elector) followLeader(elector, loop, metrics.desiredBackends);
  // workers > 1: forked workers serve the port, this process keeps the control plane (src/cluster/primary.ts)
  if (workerCount > 1) cluster = await WorkerCluster.start({ config, workers: workerCount, logger, series, pool, registry: metrics.registry });
  const listener = cluster ?? (await listenDataPlane(config, dataPlane, series, metrics.requestDuration, logger));
  const proxyPort = listener.port;
  const status = () => ({
    backends: cluster?.backendStatus(upstream.status()) ?? upstream.status(),
    desiredBackends: loop.desiredBackends,
    leadTimeMs: loop.leadTimeMs,
    readyBackends: upstream.readyCount(),
    lastTick,
    leader: leaderStatus(config.leader.kind, elector),
    ...(cluster ? { workers: cluster.status() } : {}),
  });
  const { server: adminServer, port: adminPort } = await listenAdmin(createAdminApp({
      registry: cluster?.registry ?? metrics.registry,
      status,
      decisions: () => decisions,
      web: dashboard.router,
      runtime: {
        upstream,
        token: config.admin.token,
        admit: (id, url, weight) => pool.admit(id, url, weight),
        drainAndRemove: removeBackend,
        drainTimeoutMs: config.scaler.drainTimeoutMs,
      },
    }), config.admin.host, config.admin.port);
  await elector?.start(); // the first lease attempt decides whether start() may scale
  await loop.start(options.initialBackends, options.autoTick ?? true);
  logger.info({ proxyPort, adminPort, provider: provider?.name ?? 'static' }, 'prescale listening');

  return {
    proxyPort,
    adminPort,
    upstream,
    series,
    metrics,
    historySource,
    loop,
    provider,
    instanceCount: async () => (provider ? (await provider.describe()).instances.length : upstream.backends.length),
    status,
    async stop() {
      elector?.resign(); // no new provider call from here on
      await loop.stop();
      await elector?.stop(); // the calls under way are done: hand the lease over
      await listener.close();
      dashboard.close(); // ends the event streams, which would otherwise hold the admin server open
      await closeServer(adminServer);
      await provider?.close();
      await Promise.all(pools.map((p) => p.close()));
      await forecaster.close();
      await trafficLog.close();
    },
  };
}

async function historyFromLog(config: Readonly<Config>, endMs: number, logger: Logger): Promise<number[]> {
  if (config.forecast.historyFrom !== 'traffic-log') return [];
  const { buckets, warnings } = await readTrafficLog(config.series.logDir);
  for (const w of warnings) logger.warn({ warning: w }, 'traffic log line skipped');
  const { requests, skipped } = historyFromBuckets(buckets, config.series.intervalMs, endMs, config.series.capacity);
  if (skipped > 0) logger.warn({ skipped }, 'traffic log buckets of another interval length were not used as history');
  logger.info({ intervals: requests.length }, 'forecast history loaded from the traffic log');
  return requests;
}

/**
 * series.source prometheus: the history source reading the summed series of every replica, after
 * its first (training-history) refresh; null for series.source local. Failures fall back to the
 * local series (counted and logged by the source), so startup never waits on Prometheus.
 */
async function startHistorySource(config: Readonly<Config>, local: TrafficSeries, metrics: Metrics, logger: Logger): Promise<PrometheusSeries | null> {
  const p = config.series.prometheus;
  if (config.series.source !== 'prometheus' || p === undefined) return null;
  const source = new PrometheusSeries({ url: p.url, query: p.query, timeoutMs: p.timeoutMs, capacity: config.series.capacity, local, logger, ...(p.stepMs === undefined ? {} : { stepMs: p.stepMs }) });
  metrics.watchHistorySource(() => source);
  await source.refresh(Date.now());
  return source;
}
