import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp, listenAdmin } from '../../src/admin/admin-server.js';
import { Forecaster } from '../../src/forecast/forecaster.js';
import { createModel } from '../../src/forecast/registry.js';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { closeServer } from '../../src/proxy/server.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { ControlLoop, type TickReport } from '../../src/scaler/control-loop.js';
import { TrafficSeries } from '../../src/series/traffic-series.js';
import { createDashboard, type Dashboard, type DashboardSnapshot, type TickEvent } from '../../src/web/dashboard.js';

const INTERVAL = 1000;
const HORIZON = 4;

/** GET `path` with node:http as sent (no normalisation); resolves the response, body unread. */
function get(port: number, path: string, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => httpRequest({ host: '127.0.0.1', port, path, method }, resolve).on('error', reject).end());
}

function body(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (s += c));
    res.on('end', () => resolve(s));
    res.on('error', reject);
  });
}

/** Reads named events off a live event stream. */
class Events {
  private buffer = '';
  readonly list: Array<{ event: string; data: unknown }> = [];
  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      this.buffer += c;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end).split('\n');
        this.buffer = this.buffer.slice(end + 2);
        const event = block.find((l) => l.startsWith('event: '))?.slice(7);
        const data = block.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (event) this.list.push({ event, data: JSON.parse(data) });
      }
    });
  }
  async next<T>(event: string, after = 0, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.list.slice(after).find((e) => e.event === event);
      if (found) return found.data as T;
      if (Date.now() > deadline) throw new Error(`no ${event} event; got ${this.list.map((e) => e.event).join(',')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  count(event: string): number {
    return this.list.filter((e) => e.event === event).length;
  }
}

let port: number;
let dashboard: Dashboard;
let loop: ControlLoop;
let series: TrafficSeries;
let upstream: Upstream;
let close: () => Promise<void>;
let root: string;
/** Boundary the seeded history ends at; ticks happen after it. */
let b0: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'prescale-web-'));
  mkdirSync(join(root, 'plots'));
  writeFileSync(join(root, 'plots', 'simulate.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  writeFileSync(join(root, 'secret.svg'), '<svg>top secret</svg>');
  symlinkSync(join(root, 'secret.svg'), join(root, 'plots', 'link-out.svg'));

  series = new TrafficSeries({ intervalMs: INTERVAL, capacity: 1000 });
  b0 = Math.floor(Date.now() / INTERVAL) * INTERVAL;
  series.seed(Array.from({ length: 60 }, (_, i) => 20 + (i % 10)), b0);
  upstream = new Upstream(createBalancer('round-robin'), { connectTimeoutMs: 500, firstByteTimeoutMs: 500, idleTimeoutMs: 500, keepAliveConnections: 1 });
  upstream.add('web-1', 'http://127.0.0.1:9', 3, 'ready', true);
  upstream.add('web-2', 'http://127.0.0.1:10', 1, 'maint', false);
  const forecaster = new Forecaster({ models: [createModel('naive', { seasonLength: 10, windowIntervals: 10, intervalsPerDay: 86_400 })], horizon: HORIZON, quantile: 0.9, backtestOrigins: 5, reselectEvery: 10 });
  loop = new ControlLoop({
    policy: { mode: 'predictive', capacityPerBackendRps: 10, targetUtilization: 0.8, minBackends: 1, maxBackends: 10, scaleInStabilizationMs: 60_000 },
    leadTimeMs: 2000,
    drainTimeoutMs: 100,
    series,
    forecaster,
    balancer: {
      admit: (id, url) => void upstream.add(id, url, 1, 'ready', true),
      ids: () => upstream.backends.map((b) => b.id),
      readyCount: () => upstream.readyCount(),
      drainAndRemove: (id, ms) => upstream.drainAndRemove(id, ms),
    },
    provider: null,
  });
  const reports: TickReport[] = [];
  loop.on('tick', (r: TickReport) => reports.push(r));
  await loop.start(undefined, false);
  dashboard = createDashboard({
    meta: { intervalMs: INTERVAL, quantile: 0.9, capacityPerBackendRps: 10, targetUtilization: 0.8, historyIntervals: 50 },
    loop,
    series,
    backends: () => upstream.backends,
    reports: () => reports,
    plotsDir: join(root, 'plots'),
    stream: { maxClients: 3, heartbeatMs: 1000 },
    backendsEveryMs: 40,
  });
  const app = createAdminApp({
    registry: new Registry(),
    status: () => ({}),
    web: dashboard.router,
    runtime: { upstream, token: undefined, admit: () => {} },
  });
  const listening = await listenAdmin(app, '127.0.0.1', 0);
  port = listening.port;
  close = async () => {
    dashboard.close();
    await closeServer(listening.server);
    await upstream.close();
  };
});

afterAll(async () => {
  await close?.();
});

/** Record `n` requests finishing inside the interval starting at `startMs`, then tick at the next boundary. */
async function tickWith(startMs: number, n: number): Promise<TickReport> {
  for (let i = 0; i < n; i++) series.record({ startMs: startMs + 10 + i, latencyMs: 5, status: 200, bytes: 10, backend: 'web-1' });
  return loop.tick(startMs + INTERVAL + 5);
}

describe('the dashboard page and its assets', () => {
  it('serves the page with a strict CSP, and / redirects to it', async () => {
    const page = await get(port, '/dashboard');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(await body(page)).toContain('id="chart-rps"');
    const root = await get(port, '/');
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/dashboard');
  });

  it('serves uPlot from node_modules and the client module, nothing else', async () => {
    const uplot = await get(port, '/dashboard/assets/uPlot.esm.js');
    expect(uplot.statusCode).toBe(200);
    expect(uplot.headers['content-type']).toMatch(/javascript/);
    expect(await body(uplot)).toContain('export { uPlot as default }');
    const client = await get(port, '/dashboard/assets/dashboard.js');
    expect(await body(client)).toContain("new EventSource('/v1/events')");
    expect(await body(await get(port, '/dashboard/assets/charts.js'))).toContain("from '/dashboard/assets/uPlot.esm.js'");
    for (const path of ['/dashboard/assets/dashboard-router.ts', '/dashboard/assets/..%2Fdashboard-router.ts', '/dashboard/assets/../../package.json', '/dashboard/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const res = await get(port, path);
      expect(res.statusCode, path).toBe(404);
      expect(await body(res), path).not.toContain('"dependencies"');
    }
  });
});

describe('GET /v1/events', () => {
  it('starts with a snapshot of history, then sends one tick per control-loop tick with the forecast band ahead', async () => {
    const first = await tickWith(b0, 30);
    const events = new Events(await get(port, '/v1/events'));
    expect(events.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const snap = await events.next<DashboardSnapshot>('snapshot');
    expect(snap.meta).toEqual({ intervalMs: INTERVAL, quantile: 0.9, capacityPerBackendRps: 10, targetUtilization: 0.8, historyIntervals: 50 });
    expect(snap.observed).toHaveLength(50); // 61 closed intervals, the newest 50
    expect(snap.observed.at(-1)).toEqual({ t: b0, rps: 30, errors: 0, latencyP99Ms: expect.any(Number) });
    expect(snap.capacity).toEqual([{ t: b0 + INTERVAL, desired: first.decision.desired, ready: 1, instances: 0 }]);
    expect(snap.band.map((p) => p.t)).toEqual([0, 1, 2, 3].map((i) => b0 + INTERVAL + i * INTERVAL));
    expect(snap.decisions).toHaveLength(1);
    expect(snap.decisions[0]!.reason).toBe(first.decision.reason);

    const second = await tickWith(b0 + INTERVAL, 12);
    const tick = await events.next<TickEvent>('tick');
    const t = b0 + 2 * INTERVAL;
    expect(tick.t).toBe(t);
    expect(tick.observed).toMatchObject({ t: b0 + INTERVAL, rps: 12 });
    expect(tick.capacity).toEqual({ t, desired: second.decision.desired, ready: 1, instances: 0 });
    expect(tick.band.map((p) => p.t)).toEqual([0, 1, 2, 3].map((i) => t + i * INTERVAL));
    for (const p of tick.band) {
      expect(Number.isFinite(p.pointRps) && Number.isFinite(p.upperRps)).toBe(true);
      expect(p.upperRps).toBeGreaterThanOrEqual(p.pointRps);
    }
    // naive: the point forecast is the last interval's count, 12 per 1 s
    expect(tick.band[0]!.pointRps).toBe(12);
    expect(tick.decision).toMatchObject({ desired: second.decision.desired, previous: first.decision.desired, reason: second.decision.reason, detail: second.decision.detail });
    events.res.destroy();

    // a page connecting later sees the band behind now (the forecast each tick made for its interval) and the latest ahead
    const later = new Events(await get(port, '/v1/events'));
    const snap2 = await later.next<DashboardSnapshot>('snapshot');
    expect(snap2.band.map((p) => p.t)).toEqual([b0 + INTERVAL, ...[0, 1, 2, 3].map((i) => t + i * INTERVAL)]);
    expect(snap2.capacity.map((c) => c.t)).toEqual([b0 + INTERVAL, t]);
    expect(snap2.decisions.map((d) => d.previous)).toEqual([null, first.decision.desired]);
    later.res.destroy();
  });

  it('sends the backend table every backendsEveryMs with state, weights, in-flight and latency', async () => {
    upstream.get('web-1')!.observeLatency(42, performance.timeOrigin + performance.now());
    const events = new Events(await get(port, '/v1/events'));
    const first = await events.next<{ backends: Array<Record<string, unknown>> }>('backends');
    expect(first.backends.map((b) => b.id)).toEqual(['web-1', 'web-2']);
    expect(first.backends[0]).toMatchObject({ state: 'ready', healthy: true, weight: 3, effectiveWeight: 3, inFlight: 0 });
    expect(first.backends[0]!.latencyMs).toBeGreaterThan(30);
    expect(first.backends[1]).toMatchObject({ state: 'maint', healthy: false, weight: 1 });
    const seen = events.count('backends');
    await events.next('backends', events.list.length);
    expect(events.count('backends')).toBeGreaterThan(seen);
    events.res.destroy();
  });

  it('removes a closed stream at once, adds no loop listener per client, and refuses clients beyond the limit', async () => {
    const loopListeners = loop.listenerCount('tick');
    const clients = await Promise.all([1, 2, 3].map(() => get(port, '/v1/events')));
    expect(clients.map((c) => c.statusCode)).toEqual([200, 200, 200]);
    await until(() => dashboard.stream.size === 3);
    expect(loop.listenerCount('tick')).toBe(loopListeners);
    const fourth = await get(port, '/v1/events');
    expect(fourth.statusCode).toBe(503);
    expect(JSON.parse(await body(fourth)).error.code).toBe('too_many_clients');
    for (const c of clients) c.destroy();
    await until(() => dashboard.stream.size === 0);
    const fifth = await get(port, '/v1/events');
    expect(fifth.statusCode).toBe(200);
    fifth.destroy();
  });

  it('answers HEAD without holding a stream open', async () => {
    const res = await get(port, '/v1/events', 'HEAD');
    expect(res.statusCode).toBe(200);
    await body(res);
    expect(dashboard.stream.size).toBe(0);
  });
});

describe('plots', () => {
  it('lists the SVGs of the plots directory and serves one sandboxed', async () => {
    const list = JSON.parse(await body(await get(port, '/v1/plots'))) as { plots: Array<{ name: string }> };
    expect(list.plots.map((p) => p.name)).toEqual(['simulate.svg']);
    const svg = await get(port, '/plots/simulate.svg');
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.headers['content-security-policy']).toContain('sandbox');
    expect(svg.headers['x-content-type-options']).toBe('nosniff');
    expect(await body(svg)).toContain('<svg');
  });

  it.each([
    '/plots/..%2Fsecret.svg',
    '/plots/%2e%2e%2fsecret.svg',
    '/plots/..%5Csecret.svg',
    '/plots/../secret.svg',
    '/plots/%2E%2E/secret.svg',
    '/plots/link-out.svg',
    '/plots/secret.svg',
    '/plots/.%2E%2Fsecret.svg',
  ])('never serves a file outside the directory: %s → 404', async (path) => {
    const res = await get(port, path);
    expect(res.statusCode).toBe(404);
    expect(await body(res)).not.toContain('top secret');
  });
});

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
