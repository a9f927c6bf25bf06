/**
 * A capacity provider that errors, hangs and throttles, at the app level: the real service
 * (startApp) with the webhook provider pointed at a fleet controller this test runs on 127.0.0.1.
 * The controller starts and stops real HTTP backends on set-desired and can answer 500, never
 * answer, answer 429 with Retry-After, or apply a set-desired and then never answer (so the
 * retry repeats it). Traffic flows through the proxy the whole time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../src/scaler/providers/webhook.js';
import { recordScenario } from '../helpers/reliability.js';
import { startServer } from '../helpers/servers.js';

type Mode = 'ok' | 'error' | 'hang' | 'throttle';
interface Call {
  action: string;
  desired?: number;
  mode: Mode;
  atMs: number;
  /** When the connection closed: the answer was sent, or the client gave up. */
  closedMs?: number;
}

const SECRET = 'provider-faults-hmac-secret-0123';

/** The fleet controller behind the webhook provider (see the module comment). */
async function startFleet(initial: number) {
  const backends = new Map<string, Awaited<ReturnType<typeof startServer>>>();
  const calls: Call[] = [];
  const state = { mode: 'ok' as Mode, hangAfterApply: false, badSignatures: 0, sizeChanges: 0, smallestAsked: Infinity };
  let seq = 0;
  const add = async () => backends.set(`i-${++seq}`, await startServer((req, res) => void req.resume().on('end', () => res.end('ok'))));
  const drop = async (id: string) => {
    await backends.get(id)?.close();
    backends.delete(id);
  };
  for (let i = 0; i < initial; i++) await add();

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const call: Call = { action: '?', mode: state.mode, atMs: Date.now() };
    calls.push(call);
    res.once('close', () => (call.closedMs = Date.now()));
    if (!verifySignature(SECRET, req.headers[TIMESTAMP_HEADER] as string, body, req.headers[SIGNATURE_HEADER] as string)) {
      state.badSignatures++;
      res.writeHead(401).end('bad signature');
      return;
    }
    const message = JSON.parse(body) as { action: string; desired?: number; remove?: string[] };
    call.action = message.action;
    if (message.desired !== undefined) call.desired = message.desired;
    if (state.mode === 'hang') return; // never answers: the provider's timeout must end it
    if (state.mode === 'error') return void res.writeHead(500).end('{"error":"the cloud API is down"}');
    if (state.mode === 'throttle') return void res.writeHead(429, { 'retry-after': '1' }).end('slow down');
    if (message.action === 'describe') {
      const instances = [...backends].map(([id, b]) => ({ id, url: b.url, state: 'running' }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ instances }));
    }
    const desired = message.desired as number;
    state.smallestAsked = Math.min(state.smallestAsked, desired);
    const before = backends.size;
    for (const id of message.remove ?? []) await drop(id);
    while (backends.size < desired) await add();
    while (backends.size > desired) await drop([...backends.keys()].pop() as string);
    if (backends.size !== before) state.sizeChanges++;
    if (state.hangAfterApply) {
      state.hangAfterApply = false; // applied, but the answer never comes: the retry asks again
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }

  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return {
    url: server.url,
    calls,
    state,
    size: () => backends.size,
    async close() {
      await server.close();
      await Promise.all([...backends.keys()].map(drop));
    },
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('a provider that errors, hangs and throttles', () => {
  it('backs off, counts the errors, keeps min capacity, bounds hung calls and recovers without a double scale-out', { timeout: 60_000 }, async () => {
    const fleet = await startFleet(2);
    closers.push(() => fleet.close());
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    const parsed = validateConfig({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { healthCheck: { intervalMs: 50, rise: 1 } },
      series: { intervalMs: 1000, logDir: join(mkdtempSync(join(tmpdir(), 'prescale-provider-faults-')), 'traffic') },
      forecast: { historyFrom: 'none' },
      scaler: { policy: 'reactive', capacityPerBackendRps: 12, targetUtilization: 1, minBackends: 2, maxBackends: 4, leadTimeMs: '1s', scaleInStabilizationMs: '5m' },
      provider: { kind: 'webhook', url: `${fleet.url}/fleet`, secret: SECRET, timeoutMs: 300, retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1500 } },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const app: App = await startApp(parsed.config, { logger });
    closers.push(() => app.stop());
    let ticks = 0;
    app.loop.on('tick', () => ticks++);
    await until('2 ready backends', () => app.upstream.readyCount() === 2);

    // traffic through the proxy during every phase; the pace sets the reactive decision
    const traffic = { paceMs: 125, sent: 0, failed: 0, lost: 0, running: true, minReady: Infinity };
    const sampler = setInterval(() => (traffic.minReady = Math.min(traffic.minReady, app.upstream.readyCount())), 10);
    const client = (async () => {
      while (traffic.running) {
        traffic.sent++;
        void request(`http://127.0.0.1:${app.proxyPort}/work`, { headersTimeout: 10_000 })
          .then(async (r) => {
            await r.body.dump();
            if (r.statusCode !== 200) traffic.failed++;
          })
          .catch(() => traffic.lost++);
        await new Promise((r) => setTimeout(r, traffic.paceMs));
      }
    })();
    const inMode = (mode: Mode) => fleet.calls.filter((c) => c.mode === mode);

    // 1. errors: every call retried with backoff, then given up until the next interval
    fleet.state.mode = 'error';
    const ticksBefore = ticks;
    await until('two failed rounds of 3 attempts', () => inMode('error').length >= 6);
    expect(ticks).toBeGreaterThan(ticksBefore); // still deciding
    const retries = logs.filter((l) => l['msg'] === 'provider call failed; retrying');
    expect(retries.map((l) => l['attempt'])).toEqual(expect.arrayContaining([1, 2]));
    expect(retries.every((l) => (l['attempt'] as number) <= 2 && (l['delayMs'] as number) <= 1500)).toBe(true);
    expect(JSON.stringify(logs)).toContain('gave up after 3 attempts');

    // 2. hangs: each call is cut at the provider's 300 ms timeout; the loop keeps ticking
    fleet.state.mode = 'hang';
    const ticksAtHang = ticks;
    await until('4 hung calls cut short', () => inMode('hang').filter((c) => c.closedMs !== undefined).length >= 4);
    for (const c of inMode('hang').filter((h) => h.closedMs !== undefined)) expect((c.closedMs as number) - c.atMs).toBeLessThan(2_000);
    await until('ticks during the hang', () => ticks > ticksAtHang + 1);

    // 3. throttling: Retry-After 1 s is honoured
    fleet.state.mode = 'throttle';
    await until('3 throttled calls', () => inMode('throttle').length >= 3);
    const throttled = inMode('throttle');
    const gaps = throttled.slice(1).map((c, i) => c.atMs - (throttled[i] as Call).atMs);
    expect(gaps.filter((g) => g >= 950).length).toBeGreaterThanOrEqual(1);
    const honoured = logs.filter((l) => l['msg'] === 'provider call failed; retrying' && JSON.stringify(l['err']).includes('answered 429'));
    expect(honoured.length).toBeGreaterThanOrEqual(1);
    expect(honoured.every((l) => l['delayMs'] === 1000)).toBe(true);

    // capacity never dropped below min while the provider failed, and nothing asked for less
    expect(traffic.minReady).toBeGreaterThanOrEqual(2);
    expect(fleet.size()).toBe(2);
    expect(fleet.state.sizeChanges).toBe(0);

    // 4. recovery, then load that needs 3 backends; the first set-desired is applied but unanswered
    fleet.state.mode = 'ok';
    fleet.state.hangAfterApply = true;
    traffic.paceMs = 33; // about 28 rps: 3 backends at 12 rps each, with room for jitter in 1-s buckets (24 < load ≤ 36)
    await until('3 ready backends', () => app.upstream.readyCount() === 3, 20_000);
    traffic.running = false;
    await client;
    clearInterval(sampler);
    const setDesired = fleet.calls.filter((c) => c.mode === 'ok' && c.action === 'set-desired');
    // the unanswered call was retried with the same size (idempotent), never desired + 1
    expect(setDesired.length).toBeGreaterThanOrEqual(2);
    expect(setDesired.every((c) => c.desired === 3)).toBe(true);
    expect(fleet.state.sizeChanges).toBe(1); // scaled out once, not twice
    expect(fleet.size()).toBe(3);
    expect(app.loop.desiredBackends).toBe(3);
    expect(fleet.state.smallestAsked).toBeGreaterThanOrEqual(2);
    expect(fleet.state.badSignatures).toBe(0);
    expect(traffic.minReady).toBeGreaterThanOrEqual(2);

    const metrics = await (await request(`http://127.0.0.1:${app.adminPort}/metrics`)).body.text();
    const errors = (op: string) => Number(new RegExp(`^prescale_provider_call_errors_total\\{operation="${op}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(errors('describe')).toBeGreaterThanOrEqual(4); // two error rounds, hangs, throttles (each after retries)
    expect(errors('set_desired')).toBe(0); // its one timeout was retried successfully
    await new Promise((r) => setTimeout(r, 300)); // let the last proxied responses land
    expect(traffic.failed).toBe(0);
    expect(traffic.lost).toBe(0);
    recordScenario({
      id: 'provider-errors-hangs-throttles',
      group: 'faults',
      scenario: 'webhook provider answers 500, then hangs, then 429 Retry-After 1 s, then recovers; the first scale-out is applied but unanswered',
      load: `GETs through the proxy at 8 then about 28 rps, ${Math.round(fleet.calls.length)} provider calls`,
      faults: `${inMode('error').length} × 500, ${inMode('hang').length} hung (timeout 300 ms), ${inMode('throttle').length} × 429, 1 lost set-desired answer`,
      sent: traffic.sent,
      failed: traffic.failed,
      lost: traffic.lost,
      expectation: 'backoff with Retry-After, error metric, ready ≥ min 2 throughout, one scale-out 2 → 3 (no double), 0 failed',
    });
  });
});
