import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdminApp, listenAdmin } from '../../src/admin/admin-server.js';
import { HeartbeatRegistry } from '../../src/admin/heartbeat-registry.js';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { HealthChecker } from '../../src/proxy/health-check.js';
import { closeServer } from '../../src/proxy/server.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { startProxy, startServer } from '../helpers/servers.js';

const TOKEN = 'test-admin-token-0123456789';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A real backend on 127.0.0.1:0 answering 200 to everything (health checks included). */
async function okBackend(): Promise<string> {
  const s = await startServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  cleanups.push(() => s.close());
  return s.url;
}

interface AdminOptions {
  upstream?: Upstream;
  backends?: Array<{ id: string; url: string; weight: number }>;
  token?: string | undefined;
  heartbeats?: HeartbeatRegistry;
}

/** The admin app on 127.0.0.1:0 over a real Upstream, wired like app.ts (health checks, drain and remove). */
async function startAdmin(options: AdminOptions = {}) {
  const upstream = options.upstream ?? new Upstream(createBalancer('smooth-weighted-round-robin'), { connectTimeoutMs: 1000, firstByteTimeoutMs: 5000, idleTimeoutMs: 5000, keepAliveConnections: 4 });
  if (!options.upstream) cleanups.push(() => upstream.close());
  for (const b of options.backends ?? []) upstream.add(b.id, b.url, b.weight, 'ready', true);
  const health = new HealthChecker({ path: '/healthz', intervalMs: 20, timeoutMs: 500, rise: 1, fall: 2 }, (id, up) => {
    const backend = upstream.get(id);
    if (backend) backend.healthy = up;
  });
  cleanups.push(() => health.close());
  const app = createAdminApp({
    registry: new Registry(),
    status: () => ({ backends: upstream.status() }),
    runtime: {
      upstream,
      token: 'token' in options ? options.token : TOKEN,
      admit(id, url, weight) {
        upstream.add(id, url, weight, 'ready', false);
        health.add(id, url);
      },
      async drainAndRemove(id, drainTimeoutMs) {
        const result = await upstream.drainAndRemove(id, drainTimeoutMs);
        health.remove(id);
        return result;
      },
      ...(options.heartbeats ? { heartbeats: options.heartbeats } : {}),
      drainTimeoutMs: 5000,
    },
  });
  const { server, port } = await listenAdmin(app, '127.0.0.1', 0);
  cleanups.push(() => stop(server));
  const base = `http://127.0.0.1:${port}`;
  async function call(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, token: string | null = TOKEN) {
    const headers: Record<string, string> = {};
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, any> };
  }
  return { upstream, health, base, call };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return closeServer(server);
}

/** How many of `n` picks of the upstream's own balancer land on each backend id. */
function share(upstream: Upstream, n = 1000): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const id = upstream.pick()?.id ?? 'none';
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

describe('admin API: bearer auth on mutations', () => {
  it('serves GETs without a token, refuses a missing token with 401, a wrong one with 403, accepts the right one', async () => {
    const admin = await startAdmin({ backends: [{ id: 'b1', url: await okBackend(), weight: 1 }] });
    const list = await admin.call('GET', '/v1/backends', undefined, null);
    expect(list.status).toBe(200);
    expect(list.body.backends).toEqual([{ id: 'b1', url: expect.any(String), state: 'ready', weight: 1, initialWeight: 1, effectiveWeight: 1, inFlight: 0, healthy: true, removing: false }]);

    const missing = await admin.call('PUT', '/v1/backends/b1/weight', { weight: 2 }, null);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(missing.body.error.code).toBe('unauthorized');

    const wrong = await admin.call('PUT', '/v1/backends/b1/weight', { weight: 2 }, 'not-the-token');
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('forbidden');
    expect(admin.upstream.get('b1')?.weight).toBe(1);

    const ok = await admin.call('PUT', '/v1/backends/b1/weight', { weight: 2 });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: 'b1', weight: 2, effectiveWeight: 2, initialWeight: 1 });
  });

  it('refuses every mutation with 403 naming admin.token when no token is configured', async () => {
    const admin = await startAdmin({ token: undefined, backends: [{ id: 'b1', url: await okBackend(), weight: 1 }] });
    const res = await admin.call('PUT', '/v1/backends/b1/state', { state: 'drain' }, 'anything');
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'admin_token_not_set', message: expect.stringContaining('admin.token') });
    expect(admin.upstream.get('b1')?.state).toBe('ready');
    expect((await admin.call('GET', '/v1/backends', undefined, null)).status).toBe(200);
  });
});

describe('admin API: weights and states change the balancer without a restart', () => {
  it('an absolute weight of 3 against 1 gives about 75/25 of 1,000 picks', async () => {
    const admin = await startAdmin({ backends: [{ id: 'b1', url: await okBackend(), weight: 1 }, { id: 'b2', url: await okBackend(), weight: 1 }] });
    expect(share(admin.upstream)).toEqual({ b1: 500, b2: 500 });
    expect((await admin.call('PUT', '/v1/backends/b1/weight', { weight: 3 })).status).toBe(200);
    const counts = share(admin.upstream);
    expect(counts.b1).toBeGreaterThanOrEqual(740);
    expect(counts.b1).toBeLessThanOrEqual(760);
    expect(counts.b2).toBe(1000 - (counts.b1 ?? 0));
  });

  it('a percent weight is relative to the initial weight (HAProxy set weight 50%)', async () => {
    const admin = await startAdmin({ backends: [{ id: 'b1', url: await okBackend(), weight: 3 }, { id: 'b2', url: await okBackend(), weight: 2 }] });
    const half = await admin.call('PUT', '/v1/backends/b2/weight', { percent: 50 });
    expect(half.body).toMatchObject({ weight: 1, initialWeight: 2 });
    const counts = share(admin.upstream);
    expect(counts.b1).toBeGreaterThanOrEqual(740);
    expect(counts.b1).toBeLessThanOrEqual(760);
    // relative to the initial weight, not the current one: 100% restores 2
    expect((await admin.call('PUT', '/v1/backends/b2/weight', { percent: 100 })).body.weight).toBe(2);
  });

  it('answers 400 for bad weight bodies and 404 for an unknown backend', async () => {
    const admin = await startAdmin({ backends: [{ id: 'b1', url: await okBackend(), weight: 1 }] });
    for (const body of [{ weight: -1 }, { weight: 1001 }, { weight: 1.5 }, { weight: 2, percent: 50 }, {}, { weight: 2, extra: true }]) {
      const res = await admin.call('PUT', '/v1/backends/b1/weight', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_body');
    }
    const badJson = await admin.call('PUT', '/v1/backends/b1/weight', '{"weight":');
    expect(badJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const unknown = await admin.call('PUT', '/v1/backends/nope/weight', { weight: 2 });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'backend_not_found' } } });
    expect(admin.upstream.get('b1')?.weight).toBe(1);
  });

  it('drain and maint take a backend out of the picks; ready puts it back', async () => {
    const admin = await startAdmin({ backends: [{ id: 'b1', url: await okBackend(), weight: 1 }, { id: 'b2', url: await okBackend(), weight: 1 }] });
    const drained = await admin.call('PUT', '/v1/backends/b1/state', { state: 'drain' });
    expect(drained.body).toMatchObject({ id: 'b1', state: 'drain' });
    expect(share(admin.upstream)).toEqual({ b2: 1000 });
    await admin.call('PUT', '/v1/backends/b1/state', { state: 'maint' });
    expect(share(admin.upstream)).toEqual({ b2: 1000 });
    await admin.call('PUT', '/v1/backends/b1/state', { state: 'ready' });
    expect(share(admin.upstream).b1).toBeGreaterThanOrEqual(490);
    expect((await admin.call('PUT', '/v1/backends/b1/state', { state: 'down' })).status).toBe(400);
  });
});

describe('admin API: adding and removing backends', () => {
  it('adds a backend that is listed at once and takes traffic once its health checks pass', async () => {
    const admin = await startAdmin({ backends: [{ id: 'b1', url: await okBackend(), weight: 1 }] });
    const url = await okBackend();
    const added = await admin.call('POST', '/v1/backends', { id: 'new-1', url, weight: 3 });
    expect(added.status).toBe(201);
    expect(added.headers['location']).toBe('/v1/backends/new-1');
    expect(added.body).toMatchObject({ id: 'new-1', url, state: 'ready', weight: 3 });
    const ids = (await admin.call('GET', '/v1/backends')).body.backends.map((b: { id: string }) => b.id);
    expect(ids).toEqual(['b1', 'new-1']);

    expect(await admin.health.waitUntilUp('new-1', 2000)).toBe(true);
    expect((await admin.call('GET', '/v1/backends/new-1')).body.healthy).toBe(true);
    expect(share(admin.upstream).b1).toBeLessThanOrEqual(260);

    expect((await admin.call('POST', '/v1/backends', { id: 'new-1', url })).status).toBe(409);
    const generated = await admin.call('POST', '/v1/backends', { url });
    expect(generated.status).toBe(201);
    expect(generated.body.id).toMatch(/^admin-[0-9a-f]{8}$/);
    expect(generated.body.weight).toBe(1);
    expect((await admin.call('POST', '/v1/backends', { url: 'ftp://x' })).status).toBe(400);
  });

  it('DELETE drains: an in-flight slow request completes 200, then the backend is gone', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const arrivedP = new Promise<void>((resolve) => (arrived = resolve));
    const slow = await startServer((req, res) => {
      req.resume();
      arrived();
      release = () => res.end('slow done');
    });
    cleanups.push(() => slow.close());
    const proxy = await startProxy([slow.url]);
    cleanups.push(() => proxy.close());
    const admin = await startAdmin({ upstream: proxy.upstream });

    const inFlight = request(`${proxy.url}/slow`).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
    await arrivedP;
    const accepted = await admin.call('DELETE', '/v1/backends/b1?drainTimeoutMs=10000');
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ id: 'b1', state: 'drain', removing: true, inFlight: 1, drainTimeoutMs: 10000 });

    let deleteSettled = false;
    const waited = admin.call('DELETE', '/v1/backends/b1?wait=true').finally(() => (deleteSettled = true));
    const during = await admin.call('GET', '/v1/backends');
    expect(during.body.backends).toMatchObject([{ id: 'b1', removing: true, inFlight: 1 }]);
    expect(deleteSettled).toBe(false);
    expect(proxy.upstream.pick()).toBeUndefined();

    release();
    expect(await inFlight).toEqual({ status: 200, text: 'slow done' });
    expect(await waited).toMatchObject({ status: 200, body: { id: 'b1', removed: true, drained: true } });
    expect((await admin.call('GET', '/v1/backends')).body.backends).toEqual([]);
    expect((await admin.call('DELETE', '/v1/backends/b1')).status).toBe(404);
    expect((await admin.call('DELETE', '/v1/backends/b1?drainTimeoutMs=soon')).status).toBe(400);
  });
});

describe('admin API: heartbeats', () => {
  it('registers on the first heartbeat, refreshes on the next, and removes the backend once its TTL passes', async () => {
    let nowMs = 1_000_000;
    const heartbeats = new HeartbeatRegistry({ now: () => nowMs });
    const admin = await startAdmin({ heartbeats });
    const url = await okBackend();

    const first = await admin.call('PUT', '/v1/heartbeats/hb-1', { url, ttlMs: 10_000, weight: 2 });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: 'hb-1', url, weight: 2, state: 'ready', heartbeat: { ttlMs: 10_000, expiresAtMs: 1_010_000 } });
    expect(await admin.health.waitUntilUp('hb-1', 2000)).toBe(true);

    nowMs += 8_000;
    const refresh = await admin.call('PUT', '/v1/heartbeats/hb-1', { url, ttlMs: 10_000 });
    expect(refresh.status).toBe(200);
    expect(refresh.body).toMatchObject({ weight: 2, heartbeat: { expiresAtMs: 1_018_000 } });
    expect((await admin.call('PUT', '/v1/heartbeats/hb-1', { url: 'http://127.0.0.1:1', ttlMs: 10_000 })).status).toBe(409);

    nowMs += 9_999; // 17.999 s after the first beat, 9.999 s after the refresh
    expect(heartbeats.sweep(nowMs)).toEqual([]);
    expect(admin.upstream.get('hb-1')).toBeDefined();

    nowMs += 1;
    expect(heartbeats.sweep(nowMs)).toEqual(['hb-1']);
    await vi.waitFor(() => expect(admin.upstream.get('hb-1')).toBeUndefined());
    expect((await admin.call('GET', '/v1/backends')).body.backends).toEqual([]);
    expect((await admin.call('GET', '/v1/heartbeats')).body.heartbeats).toEqual([]);

    // a later heartbeat registers it again
    expect((await admin.call('PUT', '/v1/heartbeats/hb-1', { url, ttlMs: 10_000 })).status).toBe(201);
  });
});
