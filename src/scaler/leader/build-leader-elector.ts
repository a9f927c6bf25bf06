/**
 * Builds the leader elector named in `leader.kind` from the validated config (null for "none":
 * a single replica scales as it always did).
 */
import { hostname } from 'node:os';
import type { Config } from '../../config/schema.js';
import { LeaderElector } from './leader-elector.js';
import type { LeaseStore } from './lease-store.js';
import { resolveLeaseTimings } from './lease-timings.js';

interface ElectorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** This replica's default identity: `${hostname}-${pid}` (unique per pod, and per process on one host). */
export function defaultIdentity(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * The lease store's client (ioredis or @kubernetes/client-node) is imported only when configured.
 * @throws PrescaleError PRESCALE_ERR_CONFIG when a Kubernetes lease's kubeconfig cannot be loaded.
 */
export async function buildLeaderElector(config: Readonly<Config>, logger: ElectorLogger): Promise<LeaderElector | null> {
  const lead = config.leader;
  if (lead.kind === 'none') return null;
  const timings = resolveLeaseTimings(lead);
  // one call may take half the renew deadline (a Kubernetes renew is two calls: GET, then PUT)
  const store = await buildStore(config, Math.max(1, Math.floor(timings.renewDeadlineMs / 2)), logger);
  return new LeaderElector({
    store,
    identity: lead.identity ?? defaultIdentity(),
    leaseDurationMs: timings.leaseDurationMs,
    renewDeadlineMs: timings.renewDeadlineMs,
    retryPeriodMs: timings.renewIntervalMs,
    logger,
  });
}

async function buildStore(config: Readonly<Config>, requestTimeoutMs: number, logger: ElectorLogger): Promise<LeaseStore> {
  const lead = config.leader;
  if (lead.kind === 'redis') {
    const redis = lead.redis as NonNullable<typeof lead.redis>;
    let lastError = '';
    return new (await import('./redis-lease-store.js')).RedisLeaseStore({
      url: redis.url,
      key: redis.key,
      commandTimeoutMs: requestTimeoutMs,
      onConnectionError(err) {
        // ioredis reports every reconnect attempt; log a changed error once
        if (err.message !== lastError) logger.warn({ err }, 'leader lease: Redis connection error');
        lastError = err.message;
      },
    });
  }
  const provider = config.provider.kind === 'kubernetes' ? config.provider : undefined;
  const k = lead.kubernetes;
  const kubeconfig = k?.kubeconfig ?? provider?.kubeconfig;
  const server = k?.server ?? provider?.server;
  return new (await import('./kubernetes-lease-store.js')).KubernetesLeaseStore({
    namespace: (k?.namespace ?? provider?.namespace) as string,
    name: k?.name ?? 'prescale-leader',
    requestTimeoutMs,
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    ...(server === undefined ? {} : { server }),
  });
}
