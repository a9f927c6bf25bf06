import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector, type StepDownReason } from '../../src/scaler/leader/leader-elector.js';
import { RedisLeaseStore } from '../../src/scaler/leader/redis-lease-store.js';
import { handoverBoundMs, leaseTimingsProblem, resolveLeaseTimings } from '../../src/scaler/leader/lease-timings.js';
import { startRedisServer, startTcpRelay, type RedisServer, type TcpRelay } from '../helpers/redis-server.js';

const TIMINGS = { leaseDurationMs: 900, renewDeadlineMs: 600, retryPeriodMs: 150 };
/** Timers on a busy 2-core machine fire late; bounds get this much slack. */
const SLACK_MS = 400;

let redis: RedisServer;
let keySeq = 0;
const electors: LeaderElector[] = [];
const relays: TcpRelay[] = [];

function elector(identity: string, key: string, url = redis.url): LeaderElector {
  const e = new LeaderElector({ store: new RedisLeaseStore({ url, key, commandTimeoutMs: TIMINGS.retryPeriodMs }), identity, ...TIMINGS });
  electors.push(e);
  return e;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await redis?.stop();
});

describe('leader election timings', () => {
  it.each([
    [{ leaseDurationMs: 15_000 }, { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, renewIntervalMs: 5_000 }, null],
    [{ leaseDurationMs: 3_000, renewIntervalMs: 500 }, { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, renewIntervalMs: 500 }, null],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 15_000 }, { leaseDurationMs: 15_000, renewDeadlineMs: 15_000, renewIntervalMs: 5_000 }, 'renewDeadlineMs (15000) < leaseDurationMs'],
    [{ leaseDurationMs: 15_000, renewIntervalMs: 12_000 }, { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, renewIntervalMs: 12_000 }, 'renewIntervalMs (12000) < renewDeadlineMs'],
  ])('%j resolves to %j (problem: %s)', (input, resolved, problem) => {
    expect(resolveLeaseTimings(input)).toEqual(resolved);
    const found = leaseTimingsProblem(resolved);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it('states the handover bound as leaseDuration + renewInterval', () => {
    expect(handoverBoundMs(resolveLeaseTimings({ leaseDurationMs: 15_000 }))).toBe(20_000);
  });

  it('refuses timings where a leader could act after its lease expired', () => {
    const store = new RedisLeaseStore({ url: 'redis://127.0.0.1:1', key: 'k', commandTimeoutMs: 100 });
    expect(() => new LeaderElector({ store, identity: 'a', leaseDurationMs: 1000, renewDeadlineMs: 1000, retryPeriodMs: 100 })).toThrow(RangeError);
    void store.close();
  });
});

describe('leader election over a real redis-server', () => {
  it('elects exactly one of three replicas; the others see it as holder', async () => {
    const key = `election-${++keySeq}`;
    const all = [elector('a', key), elector('b', key), elector('c', key)];
    await Promise.all(all.map((e) => e.start()));
    await new Promise((r) => setTimeout(r, 3 * TIMINGS.retryPeriodMs));
    const leaders = all.filter((e) => e.isLeader());
    expect(leaders).toHaveLength(1);
    const leader = leaders[0] as LeaderElector;
    for (const e of all) expect(e.state().holder).toBe(leader.identity);
  });

  it('hands over at the next attempt when the leader stops and releases the lease', async () => {
    const key = `election-${++keySeq}`;
    const a = elector('a', key);
    const b = elector('b', key);
    await a.start();
    await b.start();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    await a.stop();
    const tookMs = await until(() => b.isLeader(), TIMINGS.leaseDurationMs);
    expect(tookMs).toBeLessThan(TIMINGS.retryPeriodMs + SLACK_MS);
  });

  it('a partitioned leader stops leading at its renew deadline, before the other replica can take the lease', async () => {
    const key = `election-${++keySeq}`;
    const relay = await startTcpRelay(redis.port);
    relays.push(relay);
    const a = elector('a', key, relay.url);
    const b = elector('b', key);
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    let aLeadingWhenBTookOver: boolean | null = null;
    b.on('started-leading', () => (aLeadingWhenBTookOver = a.isLeader()));
    const reasons: StepDownReason[] = [];
    a.on('stopped-leading', (reason: StepDownReason) => reasons.push(reason));
    await new Promise((r) => setTimeout(r, TIMINGS.retryPeriodMs));
    relay.cut();
    const stepDownMs = await until(() => !a.isLeader(), 5_000);
    const takeoverMs = stepDownMs + (await until(() => b.isLeader(), 5_000));
    // fencing: when b took the lease, a had already stopped acting
    expect(aLeadingWhenBTookOver).toBe(false);
    expect(stepDownMs).toBeLessThanOrEqual(TIMINGS.renewDeadlineMs + SLACK_MS);
    // the lease outlived a's last renew (≤ one retry period before the cut) by leaseDuration
    expect(takeoverMs).toBeGreaterThanOrEqual(TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs - 50);
    expect(takeoverMs).toBeLessThanOrEqual(handoverBoundMs({ ...TIMINGS, renewIntervalMs: TIMINGS.retryPeriodMs }) + SLACK_MS);
    await until(() => reasons.length > 0, 5_000); // the event follows the step-down; a busy machine may delay it
    expect(reasons).toEqual(['renew-deadline']);
    expect(a.failures).toBeGreaterThan(0);
  });

  it('emits renew-deadline even when its deadline timer fires before the monotonic clock reaches the deadline', async () => {
    // a clock at half speed makes every timer fire "early" by that clock, as libuv's cached loop time can
    const key = `election-${++keySeq}`;
    const relay = await startTcpRelay(redis.port);
    relays.push(relay);
    const slow = new LeaderElector({
      store: new RedisLeaseStore({ url: relay.url, key, commandTimeoutMs: TIMINGS.retryPeriodMs }),
      identity: 'slow-clock',
      ...TIMINGS,
      clock: () => performance.now() / 2,
    });
    electors.push(slow);
    await slow.start();
    expect(slow.isLeader()).toBe(true);
    const reasons: StepDownReason[] = [];
    slow.on('stopped-leading', (reason: StepDownReason) => reasons.push(reason));
    relay.cut();
    await until(() => reasons.length > 0, 4 * TIMINGS.renewDeadlineMs + SLACK_MS);
    expect(reasons).toEqual(['renew-deadline']);
    expect(slow.isLeader()).toBe(false);
  });

  it('a leader that loses Redis steps down by its renew deadline and stays a follower', async () => {
    const own = await startRedisServer();
    try {
      const a = elector('a', 'lost', own.url);
      await a.start();
      expect(a.isLeader()).toBe(true);
      await own.kill();
      const stepDownMs = await until(() => !a.isLeader(), 5_000);
      expect(stepDownMs).toBeLessThanOrEqual(TIMINGS.renewDeadlineMs + SLACK_MS);
      await new Promise((r) => setTimeout(r, 2 * TIMINGS.retryPeriodMs));
      expect(a.isLeader()).toBe(false);
      expect(a.state()).toMatchObject({ isLeader: false, identity: 'a' });
      expect(a.failures).toBeGreaterThan(0);
    } finally {
      await own.kill();
    }
  });

  it("carries the leader's published decision and victims to the followers", async () => {
    const key = `election-${++keySeq}`;
    const a = elector('a', key);
    const b = elector('b', key);
    await a.start();
    await b.start();
    expect(await b.publish({ desired: 9, reason: 'hold', detail: '', atMs: 1, victims: [] })).toBe(false);
    expect(await a.publish({ desired: 3, reason: 'scale-in', detail: '4 → 3', atMs: 2, victims: ['vm-4'] })).toBe(true);
    await until(() => b.state().decision?.desired === 3, 2_000);
    expect(b.state().decision).toEqual({ holder: 'a', desired: 3, reason: 'scale-in', detail: '4 → 3', atMs: 2, victims: ['vm-4'] });
    expect(b.leaderVictims()).toEqual(['vm-4']);
    expect(a.leaderVictims()).toEqual([]);
  });
});
