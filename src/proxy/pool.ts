import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { KEYED_ALGORITHMS, createBalancer } from './balancers/index.js';
import { createProxyHandler, type ProxyHandler, type ProxyObserver } from './forward.js';
import { createHashKey } from './hash-key.js';
import { HealthChecker } from './health-check.js';
import { OutlierDetector } from './outlier-detection.js';
import { probeTcp } from './tcp/tcp-check.js';
import { Upstream } from './upstream.js';
import { createUpgradeHandler, type UpgradeListener } from './upgrade.js';

export type PoolConfig = Config['upstream'];

/**
 * One pool of backends with everything that serves it: the upstream (membership, balancer),
 * active health checks, passive health (outlier detection) and the forwarding handler.
 * Backends join with `admit` (health-checked before taking traffic) and leave with `remove`
 * (drained first). Static backends from the config are admitted at once.
 */
export class Pool {
  readonly upstream: Upstream;
  readonly handler: ProxyHandler;
  /** HTTP Upgrade (WebSocket) pass-through to the same backends. */
  readonly upgrade: UpgradeListener;
  readonly outlier: OutlierDetector;
  private readonly health: HealthChecker;
  /** Called when a backend passes its health checks (the scaler measures lead time with it). */
  onHealthy: ((id: string) => void) | undefined;

  constructor(
    readonly name: string,
    config: PoolConfig,
    observer: ProxyObserver | undefined,
    logger: Logger,
    proto: 'http' | 'https' = 'http',
    trustedProxy?: (address: string | undefined) => boolean,
  ) {
    const group = { panic: false };
    const balancerOptions = config.boundedLoadFactor === undefined ? {} : { boundedLoadFactor: config.boundedLoadFactor };
    this.upstream = new Upstream(createBalancer(config.algorithm, balancerOptions), {
      group,
      slowStart: config.slowStart,
      maxConns: config.maxConnsPerBackend,
      connectTimeoutMs: config.connectTimeoutMs,
      firstByteTimeoutMs: config.firstByteTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      keepAliveConnections: config.keepAliveConnections,
    });
    const upstream = this.upstream;
    this.outlier = new OutlierDetector(config.passiveHealth, group, () => upstream.backends);
    const check = config.healthCheck;
    const probe = check.kind === 'tcp' ? { probe: (url: string, signal: AbortSignal) => probeTcp(url, check.timeoutMs, signal) } : {};
    const onResult = (id: string, ok: boolean): void => {
      const b = upstream.get(id);
      if (b) b.healthChecks[ok ? 1 : 0] = (b.healthChecks[ok ? 1 : 0] ?? 0) + 1;
    };
    this.health = new HealthChecker({ ...check, ...probe, onResult }, (id, healthy) => {
      const backend = upstream.get(id);
      backend?.setHealthy(healthy);
      if (healthy && backend !== undefined) this.outlier.uneject(backend);
      this.outlier.updatePanic();
      if (healthy) this.onHealthy?.(id);
      logger.info({ pool: name, backend: id, healthy }, healthy ? 'backend passed health checks' : 'backend failed health checks');
    });
    const keyed = KEYED_ALGORITHMS.has(config.algorithm) ? { hashKey: createHashKey(config.hashKey) } : {};
    this.handler = createProxyHandler({
      upstream,
      retries: config.retries,
      outlier: this.outlier,
      queue: { limit: config.queueLimit, timeoutMs: config.queueTimeoutMs },
      retryOn: config.retryOn,
      totalTimeoutMs: config.totalTimeoutMs,
      proto,
      ...(trustedProxy ? { trustedProxy } : {}),
      ...(observer ? { observer } : {}),
      ...keyed,
    });
    this.upgrade = createUpgradeHandler({ upstream, connectTimeoutMs: config.connectTimeoutMs, firstByteTimeoutMs: config.firstByteTimeoutMs, proto, ...keyed });
    for (const [i, b] of config.backends.entries()) this.admit(`${name === 'default' ? 'static' : name}-${i + 1}`, b.url, b.weight);
  }

  /** Add a backend; it takes traffic once it passes health checks. Idempotent per id. */
  admit(id: string, url: string, weight = 1): void {
    this.upstream.add(id, url, weight, 'ready', false);
    this.health.add(id, url);
    this.outlier.updatePanic();
  }

  /** Drain (no new requests; in-flight ones finish or the timeout passes), then forget the backend. */
  async remove(id: string, drainTimeoutMs: number): Promise<{ drained: boolean }> {
    const result = await this.upstream.drainAndRemove(id, drainTimeoutMs);
    this.health.remove(id);
    this.outlier.updatePanic();
    return result;
  }

  async close(): Promise<void> {
    this.health.close();
    await this.upstream.close();
  }
}
