import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DurationObserver } from '../metrics/request-duration.js';
import { countingObserver } from '../metrics/queue-observer.js';
import { KEYED_ALGORITHMS } from '../proxy/balancers/index.js';
import type { ProxyHandler, ProxyObserver } from '../proxy/forward.js';
import { Pool } from '../proxy/pool.js';
import { createRouter } from '../proxy/router.js';
import { closeServer, listenProxy } from '../proxy/server.js';
import { listenTcpProxy } from '../proxy/tcp/tcp-proxy.js';
import { watchSighup } from '../proxy/tls.js';
import { createTrustedProxies } from '../proxy/trusted-proxies.js';
import type { RequestRecord } from '../series/traffic-series.js';

/** Every pool of the config and the handler that routes between them. */
export interface DataPlane {
  /** The default pool (`upstream`, the one the scaler sizes) first, then `pools` in config order. */
  pools: Pool[];
  pool: Pool;
  /** Route rules over the pools; requests matching no rule go to the default pool. */
  handler: ProxyHandler;
}

/** Where the TCP listener records each connection (TrafficSeries, or a worker's TrafficTally). */
export interface TrafficSink {
  record(r: RequestRecord): void;
}

/**
 * Build the pools (upstream, health checks, passive health, forwarding handler) and the router
 * from the config; pools with `maxConnsPerBackend` report their queue to `metrics`. Static backends are admitted at once with ids `static-<n>` (default pool) or
 * `<pool>-<n>`, so every process of a cluster gives them the same ids. Nothing listens yet.
 */
export function buildDataPlane(config: Readonly<Config>, observer: ProxyObserver, logger: Logger, metrics: Pick<Metrics, 'watchQueue'>): DataPlane {
  const proto = config.listen.tls ? 'https' : 'http';
  const trusted = createTrustedProxies(config.listen.trustedProxies);
  // a pool with maxConnsPerBackend can queue: count its admitted requests for prescale_requests_queued
  const makePool = (name: string, c: Config['upstream']): Pool => {
    const counted = c.maxConnsPerBackend > 0 ? countingObserver(observer) : null;
    const made = new Pool(name, c, counted ?? observer, logger, proto, trusted);
    metrics.watchQueue(name, () => made.upstream.backends, counted ? counted.admittedInFlight : null);
    return made;
  };
  const pool = makePool('default', config.upstream);
  const pools = [pool, ...Object.entries(config.pools).map(([name, c]) => makePool(name, c))];
  const handler = createRouter(config.routes, new Map(pools.map((p) => [p.name, p.handler])), pool.handler);
  return { pools, pool, handler };
}

/**
 * Open the proxy listener: HTTP on node:http (or https with `listen.tls`, re-read on SIGHUP), or
 * TCP (each connection recorded into `sink` as one request and observed by `duration`). Inside
 * a node:cluster worker the listening socket is the primary's, shared by every worker.
 * Rejects with the listen error (EADDRINUSE, …) or PrescaleError PRESCALE_ERR_CONFIG for bad TLS files.
 * @returns the bound port and `close()`: stop accepting, finish in-flight requests, close idle connections.
 */
export async function listenDataPlane(config: Readonly<Config>, dataPlane: DataPlane, sink: TrafficSink, duration: DurationObserver, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const up = config.upstream;
  const { pool, handler } = dataPlane;
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
          sink.record({ startMs: nowMs - durationMs, latencyMs: durationMs, status: ok ? 200 : 502, bytes: bytesIn + bytesOut, backend });
          duration.observe(durationMs / 1000);
        },
      },
    });
    return { port: tcp.port, close: () => tcp.close() };
  }
  // WebSocket and other upgrades go to the default pool (route rules apply to plain requests)
  const { server, port, reload } = await listenProxy(handler, { ...config.listen, upgrade: pool.upgrade });
  const stopSighup = config.listen.tls ? watchSighup(reload, logger) : () => {};
  return {
    port,
    close: () => {
      stopSighup();
      return closeServer(server);
    },
  };
}
