import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_ANNOTATION, KubernetesLeaseStore } from '../../src/scaler/leader/kubernetes-lease-store.js';
import { LeaderElector } from '../../src/scaler/leader/leader-elector.js';
import { startKubeApiServer, type FakeKubeApiServer } from '../helpers/kube-apiserver.js';
import { startTcpRelay, type TcpRelay } from '../helpers/redis-server.js';

const NS = 'shop';
let api: FakeKubeApiServer;
let leaseSeq = 0;
const relays: TcpRelay[] = [];

/** A store with a hand-driven monotonic clock (ms). */
function store(name: string, clock: { ms: number } = { ms: 0 }, server?: string): KubernetesLeaseStore {
  return new KubernetesLeaseStore({ kubeConfig: api.kubeConfig(undefined, server), namespace: NS, name, requestTimeoutMs: 2_000, clock: () => clock.ms, now: () => Date.parse('2025-03-01T10:00:00Z') + clock.ms });
}

const writes = (name: string) => api.requests.filter((r) => r.path.endsWith(`/leases/${name}`) && r.method === 'PUT').length;

beforeAll(async () => {
  api = await startKubeApiServer();
});

afterAll(async () => {
  for (const r of relays) await r.close();
  await api?.close();
});

describe('Kubernetes Lease store (client-go LeaseLock semantics)', () => {
  it('creates the Lease held by the first replica; a second sees it held and writes nothing', async () => {
    const name = `lease-${++leaseSeq}`;
    expect(await store(name).tryAcquireOrRenew('a', 900)).toEqual({ holder: 'a', decision: null });
    const lease = api.lease(NS, name);
    expect(lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(lease?.spec.renewTime).toMatch(/^2025-03-01T10:00:00\.\d{6}Z$/); // MicroTime
    expect(await store(name).tryAcquireOrRenew('b', 900)).toEqual({ holder: 'a', decision: null });
    expect(writes(name)).toBe(0);
  });

  it('renews with the resourceVersion it read and keeps acquireTime and transitions', async () => {
    const name = `lease-${++leaseSeq}`;
    const clock = { ms: 0 };
    const a = store(name, clock);
    await a.tryAcquireOrRenew('a', 5_000);
    const first = api.lease(NS, name);
    clock.ms = 1_500;
    expect((await a.tryAcquireOrRenew('a', 5_000)).holder).toBe('a');
    const renewed = api.lease(NS, name);
    expect(Number(renewed?.metadata.resourceVersion)).toBeGreaterThan(Number(first?.metadata.resourceVersion));
    expect(renewed?.spec.acquireTime).toBe(first?.spec.acquireTime);
    expect(renewed?.spec.renewTime).not.toBe(first?.spec.renewTime);
    expect(renewed?.spec.leaseTransitions).toBe(0);
  });

  it('takes an expired lease only after seeing the record unchanged for leaseDurationSeconds on its own clock', async () => {
    const name = `lease-${++leaseSeq}`;
    await store(name).tryAcquireOrRenew('a', 2_000);
    const clock = { ms: 10_000 };
    const b = store(name, clock);
    expect((await b.tryAcquireOrRenew('b', 2_000)).holder).toBe('a'); // first seen at 10 000
    clock.ms = 11_900;
    expect((await b.tryAcquireOrRenew('b', 2_000)).holder).toBe('a');
    clock.ms = 12_001;
    expect((await b.tryAcquireOrRenew('b', 2_000)).holder).toBe('b');
    expect(api.lease(NS, name)?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('lets exactly one of two replicas racing for an expired lease win (409 Conflict for the other)', async () => {
    const name = `lease-${++leaseSeq}`;
    await store(name).tryAcquireOrRenew('a', 1_000);
    const clock = { ms: 0 };
    const [b, c] = [store(name, clock), store(name, clock)];
    await Promise.all([b.tryAcquireOrRenew('b', 1_000), c.tryAcquireOrRenew('c', 1_000)]);
    clock.ms = 5_000;
    const results = await Promise.all([b.tryAcquireOrRenew('b', 1_000), c.tryAcquireOrRenew('c', 1_000)]);
    const winners = results.filter((r, i) => r.holder === ['b', 'c'][i]);
    expect(winners).toHaveLength(1);
    expect(api.lease(NS, name)?.spec.holderIdentity).toBe(winners[0]?.holder);
  });

  it('the fake API server refuses a stale resourceVersion with 409 and a missing one with 422', async () => {
    const name = `lease-${++leaseSeq}`;
    await store(name).tryAcquireOrRenew('a', 1_000);
    const lease = api.lease(NS, name);
    const put = (resourceVersion?: string) =>
      request(`${api.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...lease, metadata: { ...lease?.metadata, resourceVersion } }),
      }).then(async (r) => (await r.body.dump(), r.statusCode));
    expect(await put('1')).toBe(409);
    expect(await put(undefined)).toBe(422);
    expect(await put(lease?.metadata.resourceVersion)).toBe(200);
  });

  it('publishes the decision as an annotation only while holding the lease', async () => {
    const name = `lease-${++leaseSeq}`;
    const [a, b] = [store(name), store(name)];
    await a.tryAcquireOrRenew('a', 5_000);
    const decision = { holder: 'a', desired: 4, reason: 'forecast-scale-out', detail: 'p90', atMs: 7, victims: [] };
    expect(await b.publish('b', { ...decision, holder: 'b' })).toBe(false);
    expect(await a.publish('a', decision)).toBe(true);
    expect(JSON.parse(api.lease(NS, name)?.metadata.annotations?.[DECISION_ANNOTATION] ?? 'null')).toEqual(decision);
    expect(await b.tryAcquireOrRenew('b', 5_000)).toEqual({ holder: 'a', decision });
    await a.tryAcquireOrRenew('a', 5_000); // a renew keeps the annotation
    expect((await b.tryAcquireOrRenew('b', 5_000)).decision).toEqual(decision);
  });

  it("runs one replica's renew and publish one at a time, so they never conflict with each other", async () => {
    const name = `lease-${++leaseSeq}`;
    const a = store(name);
    await a.tryAcquireOrRenew('a', 5_000);
    const decision = { holder: 'a', desired: 2, reason: 'hold', detail: '', atMs: 1, victims: [] };
    const results = await Promise.all([a.tryAcquireOrRenew('a', 5_000), a.publish('a', decision), a.tryAcquireOrRenew('a', 5_000), a.publish('a', decision)]);
    expect(results).toEqual([{ holder: 'a', decision: null }, true, { holder: 'a', decision }, true]);
  });

  it('on release empties holderIdentity so another replica acquires at once', async () => {
    const name = `lease-${++leaseSeq}`;
    const [a, b] = [store(name), store(name)];
    await a.tryAcquireOrRenew('a', 5_000);
    await b.tryAcquireOrRenew('b', 5_000);
    await b.release('b'); // not the holder: nothing happens
    expect(api.lease(NS, name)?.spec.holderIdentity).toBe('a');
    await a.release('a');
    expect(api.lease(NS, name)?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect((await b.tryAcquireOrRenew('b', 5_000)).holder).toBe('b');
  });

  it('a partitioned leader steps down at its renew deadline; the other replica leads within leaseDuration + renewInterval', async () => {
    const name = `lease-${++leaseSeq}`;
    const relay = await startTcpRelay(api.port);
    relays.push(relay);
    const timings = { leaseDurationMs: 2_000, renewDeadlineMs: 1_300, retryPeriodMs: 300 };
    const storeOf = (server?: string) => new KubernetesLeaseStore({ kubeConfig: api.kubeConfig(undefined, server), namespace: NS, name, requestTimeoutMs: 250 });
    const a = new LeaderElector({ store: storeOf(`http://127.0.0.1:${relay.port}`), identity: 'a', ...timings });
    const b = new LeaderElector({ store: storeOf(), identity: 'b', ...timings });
    try {
      await a.start();
      await b.start();
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      let aLeadingWhenBTookOver: boolean | null = null;
      b.on('started-leading', () => (aLeadingWhenBTookOver = a.isLeader()));
      relay.cut();
      const cutAt = performance.now();
      while (!b.isLeader() && performance.now() - cutAt < 6_000) await new Promise((r) => setTimeout(r, 10));
      const takeoverMs = performance.now() - cutAt;
      expect(b.isLeader()).toBe(true);
      expect(aLeadingWhenBTookOver).toBe(false);
      expect(takeoverMs).toBeGreaterThanOrEqual(timings.leaseDurationMs - timings.retryPeriodMs);
      expect(takeoverMs).toBeLessThanOrEqual(timings.leaseDurationMs + 2 * timings.retryPeriodMs + 500);
      expect(api.lease(NS, name)?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
