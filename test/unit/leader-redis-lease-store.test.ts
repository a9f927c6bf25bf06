import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLeaseStore } from '../../src/scaler/leader/redis-lease-store.js';
import type { PublishedDecision } from '../../src/scaler/leader/lease-store.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;
let raw: Redis;
const stores: RedisLeaseStore[] = [];
let keySeq = 0;

function store(key: string, url = redis.url): RedisLeaseStore {
  const s = new RedisLeaseStore({ url, key, commandTimeoutMs: 500 });
  stores.push(s);
  return s;
}

const decision = (holder: string, desired: number): PublishedDecision => ({ holder, desired, reason: 'reactive-scale-out', detail: 'test', atMs: 1, victims: ['vm-3'] });

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
});

afterAll(async () => {
  for (const s of stores) await s.close();
  raw?.disconnect();
  await redis?.stop();
});

describe('Redis lease store (SET NX PX + compare-and-renew / compare-and-delete)', () => {
  it('gives a free lease to the first replica and shows it held to the second', async () => {
    const key = `lease-${++keySeq}`;
    const a = store(key);
    const b = store(key);
    expect(await a.tryAcquireOrRenew('a', 5_000)).toEqual({ holder: 'a', decision: null });
    expect(await b.tryAcquireOrRenew('b', 5_000)).toEqual({ holder: 'a', decision: null });
    expect(await raw.get(key)).toBe('a');
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(4_000);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('renews only the holder and lets the lease expire leaseDuration after the last renew', async () => {
    const key = `lease-${++keySeq}`;
    const a = store(key);
    const b = store(key);
    await a.tryAcquireOrRenew('a', 300);
    await raw.pexpire(key, 100); // pretend time passed
    expect((await a.tryAcquireOrRenew('a', 300)).holder).toBe('a');
    expect(await raw.pttl(key)).toBeGreaterThan(150); // renewed back towards 300
    expect((await b.tryAcquireOrRenew('b', 300)).holder).toBe('a');
    expect(await raw.pttl(key)).toBeGreaterThan(100); // b's attempt did not touch a's lease
    await new Promise((r) => setTimeout(r, 450));
    expect((await b.tryAcquireOrRenew('b', 300)).holder).toBe('b');
  });

  it('publishes a decision only while holding the lease, and every attempt returns it', async () => {
    const key = `lease-${++keySeq}`;
    const a = store(key);
    const b = store(key);
    await a.tryAcquireOrRenew('a', 5_000);
    expect(await b.publish('b', decision('b', 9))).toBe(false);
    expect(await a.publish('a', decision('a', 4))).toBe(true);
    expect(await b.tryAcquireOrRenew('b', 5_000)).toEqual({ holder: 'a', decision: decision('a', 4) });
    await raw.set(`${key}:decision`, '{"not":"a decision"}');
    expect((await b.tryAcquireOrRenew('b', 5_000)).decision).toBeNull();
  });

  it('releases only its own lease (compare-and-delete)', async () => {
    const key = `lease-${++keySeq}`;
    const a = store(key);
    const b = store(key);
    await a.tryAcquireOrRenew('a', 5_000);
    await b.release('b');
    expect(await raw.get(key)).toBe('a');
    await a.release('a');
    expect(await raw.get(key)).toBeNull();
    expect((await b.tryAcquireOrRenew('b', 5_000)).holder).toBe('b');
  });

  it('rejects with an error naming the store when Redis cannot be reached', async () => {
    const port = await freePort();
    const s = store('lease-x', `redis://127.0.0.1:${port}`);
    const err = (await s.tryAcquireOrRenew('a', 1_000).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`leader lease (redis 127.0.0.1:${port} key lease-x): acquire or renew failed`);
  });
});
