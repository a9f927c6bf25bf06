/**
 * Leader election inside the service (startApp, in process) with a real redis-server and an exec
 * fleet: a leader that loses Redis stops scaling, and followers drain the leader's scale-in
 * victims before the provider removes them.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { createExecFleet } from '../helpers/exec-fleet.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startServer } from '../helpers/servers.js';

const LEASE = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, renewIntervalMs: 300 };
const SLACK_MS = 500;

let backends: Array<Awaited<ReturnType<typeof startServer>>>;
const apps: App[] = [];

interface LeaderStatus { leader: { kind: string; isLeader: boolean; identity: string; holder: string | null; decision: { desired: number; victims: string[] } | null } }

function config(name: string, redisUrl: string, provider: object, scaler: object) {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { healthCheck: { intervalMs: 100, rise: 1 } },
    series: { intervalMs: 300, logDir: freshLogDir() },
    forecast: { historyFrom: 'none' },
    scaler: { policy: 'reactive', capacityPerBackendRps: 10, targetUtilization: 1, minBackends: 1, maxBackends: 5, leadTimeMs: '1s', ...scaler },
    provider,
    leader: { kind: 'redis', redis: { url: redisUrl, key: 'prescale:test-leader' }, identity: name, ...LEASE },
  };
}

async function start(input: object): Promise<App> {
  const app = await startConfiguredApp(input);
  apps.push(app);
  return app;
}

const leaderOf = async (app: App) => ((await (await request(`http://127.0.0.1:${app.adminPort}/v1/status`)).body.json()) as LeaderStatus).leader;

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

/** `rps` requests per second to the app's proxy until stopped. */
function load(app: App, rps: number) {
  const timer = setInterval(() => {
    for (let i = 0; i < rps / 20; i++) void request(`http://127.0.0.1:${app.proxyPort}/`).then((r) => r.body.dump(), () => undefined);
  }, 50);
  return () => clearInterval(timer);
}

beforeAll(async () => {
  backends = await Promise.all([0, 1, 2, 3, 4].map(() => startServer((req, res) => {
    req.resume();
    res.end('ok');
  })));
});

afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  await Promise.all(backends?.map((b) => b.close()) ?? []);
});

describe('leader election in the service', () => {
  it('a leader that loses Redis steps down by its renew deadline and makes no provider call after', async () => {
    const redis: RedisServer = await startRedisServer();
    try {
      const fleet = await createExecFleet(backends.map((b) => b.url), 1);
      const app = await start(config('lost', redis.url, fleet.provider('lost'), { scaleInStabilizationMs: '1h' }));
      expect(await leaderOf(app)).toMatchObject({ kind: 'redis', isLeader: true, identity: 'lost', holder: 'lost' });
      // while leading, load makes it scale
      let stopLoad = load(app, 25);
      await until('scale-out while leading', async () => (await fleet.ids()).length >= 3, 10_000);
      stopLoad();

      await redis.kill();
      const stepDownMs = await until('step-down', async () => !(await leaderOf(app)).isLeader, 5_000);
      expect(stepDownMs).toBeLessThanOrEqual(LEASE.renewDeadlineMs + SLACK_MS);
      const callsAtStepDown = (await fleet.calls()).length;
      stopLoad = load(app, 45); // would need 5 backends
      await new Promise((r) => setTimeout(r, 1_500));
      stopLoad();
      expect((await fleet.calls()).length).toBe(callsAtStepDown);
      expect(await leaderOf(app)).toMatchObject({ isLeader: false, identity: 'lost' });
      const metrics = await (await request(`http://127.0.0.1:${app.adminPort}/metrics`)).body.text();
      expect(metrics).toMatch(/^prescale_leader 0$/m);
      expect(metrics).toMatch(/^prescale_leader_lease_failures [1-9]\d*$/m);
    } finally {
      await redis.kill();
    }
  });

  it('followers drain the instances the leader removes before the provider removes them', async () => {
    const redis = await startRedisServer();
    try {
      const fleet = await createExecFleet(backends.map((b) => b.url), 3);
      const scaler = { scaleInStabilizationMs: '1500ms', maxBackends: 3 };
      const leader = await start(config('a', redis.url, fleet.provider('a'), scaler));
      const stopLoad = load(leader, 40); // (re)fills the fleet to its maximum, 3, and holds it until the follower is up
      const follower = await start(config('a-follower', redis.url, fleet.provider('a-follower'), scaler));
      expect((await leaderOf(leader)).isLeader).toBe(true);
      expect((await leaderOf(follower)).isLeader).toBe(false);
      // both see and admit the whole fleet
      await until('follower ready', () => follower.upstream.readyCount() === 3, 15_000);
      // the leader's first tick (no load yet) may have scaled in and out again: wait until the
      // fleet is back at 3 and no provider call has come for a second (the load holds it at 3)
      const quiet = async () => {
        const calls = await fleet.calls();
        const last = calls.length === 0 ? 0 : Math.max(...calls.map((c) => c.atMs));
        return Date.now() - last > 1_000 && (await fleet.ids()).length === 3 && leader.upstream.readyCount() === 3 && follower.upstream.readyCount() === 3;
      };
      await until('startup scale-in settled', quiet, 15_000);
      const watched = follower.upstream.status().map((b) => b.id);
      const since = Date.now();
      stopLoad();

      // no load: the leader scales in to 1; record when the follower stops routing to each instance
      const leftFollowerAt = new Map<string, number>();
      const watch = setInterval(() => {
        const routed = new Set(follower.upstream.status().filter((b) => b.state === 'ready').map((b) => b.id));
        for (const id of watched) if (!routed.has(id) && !leftFollowerAt.has(id)) leftFollowerAt.set(id, Date.now());
      }, 5);
      try {
        await until('scale-in to 1', async () => (await fleet.ids()).length === 1, 15_000);
        await until('follower forgot the removed', () => follower.upstream.backends.length === 1, 5_000);
      } finally {
        clearInterval(watch);
      }
      const removals = (await fleet.calls()).filter((c) => c.remove.length > 0 && c.atMs > since);
      expect(removals.length).toBe(2);
      for (const call of removals) {
        expect(call.who).toBe('a');
        for (const id of call.remove) {
          expect(watched).toContain(id);
          expect(leftFollowerAt.get(id), `follower drained ${id} before its removal`).toBeLessThan(call.atMs);
        }
      }
      const survivor = (await fleet.ids())[0] as string;
      expect(follower.upstream.status().map((b) => [b.id, b.state])).toEqual([[survivor, 'ready']]);
    } finally {
      await redis.kill();
    }
  });
});
