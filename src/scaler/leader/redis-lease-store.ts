/**
 * The leader lease in one Redis (ioredis), with the single-instance lock pattern of the Redis
 * documentation ("Distributed Locks with Redis", the correct implementation with a single
 * instance):
 *
 * - acquire: `SET key identity NX PX leaseDurationMs`;
 * - renew: extend only when the value is still our identity (compare-and-`PEXPIRE`);
 * - release: delete only when the value is still our identity (compare-and-`DEL`);
 * - publish: write `key:decision` only when the value is still our identity.
 *
 * Each step is one Lua script, so the compare and the write are atomic on the server; the lease
 * expires on the Redis server's clock, `leaseDurationMs` after the server ran the step. The
 * decision key has no expiry; its `atMs` says how old it is.
 *
 * Not for Redis Cluster or replicated setups (a failover may lose the lock); one Redis instance.
 */
import { Redis } from 'ioredis';
import { parsePublishedDecision, storeError, type LeaseRecord, type LeaseStore, type PublishedDecision } from './lease-store.js';

export interface RedisLeaseStoreOptions {
  /** redis:// or rediss:// URL; user, password and database number as ioredis reads them. */
  readonly url: string;
  /** Key of the lock; the leader's decision is kept at `${key}:decision`. */
  readonly key: string;
  /**
   * A command that got no reply after this many ms fails (ms > 0). Commands are not queued across
   * reconnects: while Redis is unreachable every step fails at once.
   */
  readonly commandTimeoutMs: number;
  /** Called on connection errors (ioredis 'error' events), e.g. to log them. */
  readonly onConnectionError?: (err: Error) => void;
}

/** KEYS[1] lock, KEYS[2] decision; ARGV[1] identity, ARGV[2] lease ms. Returns {holder, decision}. */
const ACQUIRE_OR_RENEW = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) }`;

/** KEYS[1] lock, KEYS[2] decision; ARGV[1] identity, ARGV[2] decision JSON. Returns 1 when written. */
const PUBLISH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0`;

/** KEYS[1] lock; ARGV[1] identity. Returns 1 when deleted. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

interface LeaseCommands {
  prescaleLeaseAcquire(lock: string, decision: string, identity: string, ttlMs: string): Promise<[string | null, string | null]>;
  prescaleLeasePublish(lock: string, decision: string, identity: string, json: string): Promise<number>;
  prescaleLeaseRelease(lock: string, identity: string): Promise<number>;
}

export class RedisLeaseStore implements LeaseStore {
  readonly where: string;
  readonly #client: Redis & LeaseCommands;
  readonly #key: string;
  readonly #decisionKey: string;
  #closed = false;

  /** Connects in the background; the first steps fail until Redis answers. */
  constructor(options: RedisLeaseStoreOptions) {
    const url = new URL(options.url);
    this.where = `redis ${url.host} key ${options.key}`;
    this.#key = options.key;
    this.#decisionKey = `${options.key}:decision`;
    const client = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(1_000, options.commandTimeoutMs),
      retryStrategy: (times) => Math.min(50 * 2 ** times, 1_000),
      connectionName: 'prescale-leader',
    });
    client.on('error', (err: Error) => options.onConnectionError?.(err));
    client.defineCommand('prescaleLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE_OR_RENEW });
    client.defineCommand('prescaleLeasePublish', { numberOfKeys: 2, lua: PUBLISH });
    client.defineCommand('prescaleLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    this.#client = client as Redis & LeaseCommands;
  }

  async tryAcquireOrRenew(identity: string, leaseDurationMs: number): Promise<LeaseRecord> {
    try {
      const ttl = String(Math.max(1, Math.ceil(leaseDurationMs)));
      const [holder, decision] = await this.#client.prescaleLeaseAcquire(this.#key, this.#decisionKey, identity, ttl);
      return { holder: holder ?? null, decision: parsePublishedDecision(decision) };
    } catch (err) {
      throw storeError(this.where, 'acquire or renew', err);
    }
  }

  async publish(identity: string, decision: PublishedDecision): Promise<boolean> {
    try {
      return (await this.#client.prescaleLeasePublish(this.#key, this.#decisionKey, identity, JSON.stringify(decision))) === 1;
    } catch (err) {
      throw storeError(this.where, 'publish', err);
    }
  }

  async release(identity: string): Promise<void> {
    try {
      await this.#client.prescaleLeaseRelease(this.#key, identity);
    } catch (err) {
      throw storeError(this.where, 'release', err);
    }
  }

  close(): Promise<void> {
    if (!this.#closed) this.#client.disconnect();
    this.#closed = true;
    return Promise.resolve();
  }
}
