import { pino, type Logger } from 'pino';
import { assertAdminBindSafe, createAdminApp, listenAdmin } from './admin/admin-server.js';
import type { Config } from './config/schema.js';
import { ServiceForecaster } from './forecast/service-forecaster.js';
import { Metrics } from './metrics/metrics.js';
import { closeServer, listenProxy } from './proxy/server.js';
import { createTrafficRecorder } from './proxy/traffic-recorder.js';
import type { Upstream } from './proxy/upstream.js';
import { Pool } from './proxy/pool.js';
import { createTrustedProxies } from './proxy/trusted-proxies.js';
import { createRouter } from './proxy/router.js';
import { KEYED_ALGORITHMS } from './proxy/balancers/index.js';
import { listenTcpProxy } from './proxy/tcp/tcp-proxy.js';
import { watchSighup } from './proxy/tls.js';
import type { ProxyHandler } from './proxy/forward.js';
import { ControlLoop, type BalancerControl, type TickReport } from './scaler/control-loop.js';
import type { CapacityProvider } from './scaler/provider.js';
import { buildProvider } from './scaler/providers/build.js';
import { historyFromBuckets } from './series/history.js';
import { TrafficLog, readTrafficLog } from './series/traffic-log.js';
import { TrafficSeries } from './series/traffic-series.js';

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
  const logger = options.logger ?? pino({ level: config.log.level });
  assertAdminBindSafe(config.admin.host, config.admin.token);
  const series = new TrafficSeries({ intervalMs: config.series.intervalMs, capacity: config.series.capacity });
  const nowBoundary = Math.floor(Date.now() / config.series.intervalMs) * config.series.intervalMs;
  const seed = options.seedHistory ?? (await historyFromLog(config, nowBoundary, logger));
  if (seed.length > 0) series.seed(seed, nowBoundary);
  const trafficLog = new TrafficLog({ dir: config.series.logDir });

  const pools: Pool[] = [];
  const metrics = new Metrics(() => (pools.length === 1 ? (pools[0] as Pool).upstream.backends : pools.flatMap((p) => p.upstream.backends)));
  const recorder = createTrafficRecorder(series, metrics.requestDuration);
  const proto = config.listen.tls ? 'https' : 'http';
  const trusted = createTrustedProxies(config.listen.trustedProxies);
  const pool = new Pool('default', config.upstream, recorder, logger, proto, trusted);
  pools.push(pool, ...Object.entries(config.pools).map(([name, c]) => new Pool(name, c, recorder, logger, proto, trusted)));
  const upstream = pool.upstream;
  const proxy = createRouter(config.routes, new Map(pools.map((p) => [p.name, p.handler])), pool.handler);

  const provider = buildProvider(config, logger);
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
  const balancer: BalancerControl = {
    admit(id, url) {
      scaled.add(id);
      pool.admit(id, url);
    },
    ids: () => upstream.backends.filter((b) => scaled.has(b.id)).map((b) => b.id),
    readyCount: () => upstream.readyCount(),
    async drainAndRemove(id, drainTimeoutMs) {
      const result = await pool.remove(id, drainTimeoutMs);
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
      scaleOutLimit: config.scaler.scaleOutLimit,
    },
    leadTimeMs,
    ...(autoLead ? { learnLeadTime: { maxLeadTimeMs: config.scaler.maxLeadTimeMs } } : {}),
    drainTimeoutMs: config.scaler.drainTimeoutMs,
    schedule: config.scaler.schedule,
    series,
    forecaster,
    balancer,
    // forecast-only: decisions are computed and published, the fleet is left alone
    provider: config.scaler.policy === 'forecast-only' ? null : provider,
    logger,
    onBuckets(buckets) {
      trafficLog.append(buckets).catch((err: unknown) => logger.error({ err }, 'traffic log append failed'));
    },
  });
  pool.onHealthy = (id) => {
    if (scaled.has(id)) loop.observeReady(id, Date.now());
  };
  let lastTick: TickReport | null = null;
  const decisions: TickReport[] = [];
  loop.on('tick', (report: TickReport) => {
    lastTick = report;
    decisions.push(report);
    if (decisions.length > DECISIONS_KEPT) decisions.shift();
    metrics.desiredBackends.set(report.decision.desired);
    metrics.observedRps.set(report.observedRps);
    metrics.decisions.labels(report.decision.reason).inc();
    if (report.forecast) {
      metrics.forecastRps.labels('point').set(report.forecast.pointRps);
      metrics.forecastRps.labels('upper').set(report.forecast.upperRps);
    }
    const changed = report.decision.desired !== (decisions[decisions.length - 2]?.decision.desired ?? report.decision.desired);
    logger[changed ? 'info' : 'debug']({ decision: report.decision, forecast: report.forecast, observedRps: report.observedRps }, 'scaling decision');
  });

  const listener = await listenDataPlane(config, pool, series, metrics, proxy, logger);
  const proxyPort = listener.port;
  const status = () => ({
    backends: upstream.status(),
    desiredBackends: loop.desiredBackends,
    leadTimeMs: loop.leadTimeMs,
    readyBackends: upstream.readyCount(),
    lastTick,
  });
  const { server: adminServer, port: adminPort } = await listenAdmin(createAdminApp({
      registry: metrics.registry,
      status,
      decisions: () => decisions,
      runtime: {
        upstream,
        token: config.admin.token,
        admit: (id, url, weight) => pool.admit(id, url, weight),
        drainAndRemove: (id, ms) => pool.remove(id, ms),
        drainTimeoutMs: config.scaler.drainTimeoutMs,
      },
    }), config.admin.host, config.admin.port);
  await loop.start(options.initialBackends, options.autoTick ?? true);
  logger.info({ proxyPort, adminPort, provider: provider?.name ?? 'static' }, 'prescale listening');

  return {
    proxyPort,
    adminPort,
    upstream,
    series,
    metrics,
    loop,
    provider,
    instanceCount: async () => (provider ? (await provider.describe()).instances.length : upstream.backends.length),
    status,
    async stop() {
      await loop.stop();
      await listener.close();
      await closeServer(adminServer);
      await provider?.close();
      await Promise.all(pools.map((p) => p.close()));
      await forecaster.close();
      await trafficLog.close();
    },
  };
}

/** The proxy listener: HTTP on node:http, or TCP (each connection recorded as one request). */
async function listenDataPlane(config: Readonly<Config>, pool: Pool, series: TrafficSeries, metrics: Metrics, handler: ProxyHandler, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const up = config.upstream;
  if (config.listen.mode === 'tcp') {
    const tcp = await listenTcpProxy({
      upstream: pool.upstream,
      host: config.listen.host,
      port: config.listen.port,
      connectTimeoutMs: up.connectTimeoutMs,
      idleTimeoutMs: up.idleTimeoutMs,
      retries: up.retries,
      hashClientIp: KEYED_ALGORITHMS.has(up.algorithm),
      closeTimeoutMs: config.scaler.drainTimeoutMs,
      observer: {
        connectionOpened() {},
        connectionClosed(backend, bytesIn, bytesOut, durationMs, ok) {
          const nowMs = Date.now();
          series.record({ startMs: nowMs - durationMs, latencyMs: durationMs, status: ok ? 200 : 502, bytes: bytesIn + bytesOut, backend });
          metrics.requestDuration.observe(durationMs / 1000);
        },
      },
    });
    return { port: tcp.port, close: () => tcp.close() };
  }
  // WebSocket and other upgrades go to the default pool (route rules apply to plain requests)
  const { server, port, reload } = await listenProxy(handler, { host: config.listen.host, port: config.listen.port, upgrade: pool.upgrade, ...(config.listen.tls ? { tls: config.listen.tls } : {}) });
  const stopSighup = config.listen.tls ? watchSighup(reload, logger) : () => {};
  return {
    port,
    close: () => {
      stopSighup();
      return closeServer(server);
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
