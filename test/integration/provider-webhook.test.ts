import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { withRetries } from '../../src/scaler/providers/retrying.js';
import { WebhookProvider, parseRetryAfterMs, signature, verifySignature } from '../../src/scaler/providers/webhook.js';

const SECRET = 'test-secret-0123456789abcdef';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
}

/** A receiver that checks every signature with verifySignature; the path picks its behaviour. */
const received: Received[] = [];
let fleet: { id: string; url: string; state: 'running'; requestedAtMs: number }[] = [];
let limitedCalls = 0;
let server: Server;
let base = '';

function handle(path: string, raw: Buffer, reply: (status: number, body: string, headers?: Record<string, string>) => void): void {
  const call = JSON.parse(raw.toString('utf8')) as { action: string; desired?: number; remove?: string[] };
  if (path === '/fleet') {
    if (call.action === 'describe') return reply(200, JSON.stringify({ instances: fleet }));
    fleet = fleet.filter((i) => !(call.remove ?? []).includes(i.id));
    for (let n = 1; fleet.length < (call.desired ?? 0); n += 1) {
      if (!fleet.some((i) => i.id === `pod-${n}`)) fleet.push({ id: `pod-${n}`, url: `http://10.0.0.${n}:8080`, state: 'running', requestedAtMs: 1_700_000_000_000 + n });
    }
    fleet = fleet.slice(0, call.desired);
    return reply(200, JSON.stringify({ ok: true }));
  }
  if (path === '/broken') return reply(500, '<html><body>Internal Server Error: database is down</body></html>');
  if (path === '/limited') return reply(429, 'slow down', { 'retry-after': '2' });
  if (path === '/limited-once') return limitedCalls++ === 0 ? reply(429, 'slow down', { 'retry-after': '1' }) : reply(200, '{"ok":true}');
  if (path === '/garbage') return reply(200, 'not json at all');
  if (path === '/slow') return; // never answers; the client must give up
  reply(404, 'no such hook');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, raw });
      const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
      };
      const timestamp = req.headers['x-prescale-timestamp'];
      const sig = req.headers['x-prescale-signature'];
      if (!verifySignature(SECRET, typeof timestamp === 'string' ? timestamp : undefined, raw, typeof sig === 'string' ? sig : undefined)) {
        return reply(401, '{"error":"bad signature"}');
      }
      handle(path, raw, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

const providers: WebhookProvider[] = [];
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function webhook(path: string, overrides: { secret?: string; timeoutMs?: number } = {}): WebhookProvider {
  const p = new WebhookProvider({ url: `${base}${path}`, secret: overrides.secret ?? SECRET, timeoutMs: overrides.timeoutMs ?? 5_000 });
  providers.push(p);
  return p;
}

async function failure(call: Promise<unknown>): Promise<PrescaleError> {
  const error = await call.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(PrescaleError);
  expect((error as PrescaleError).code).toBe('PRESCALE_ERR_PROVIDER');
  return error as PrescaleError;
}

describe('WebhookProvider', () => {
  it('round-trips set-desired and describe as signed JSON POSTs', async () => {
    const p = webhook('/fleet');
    await p.setDesired(3);
    await p.setDesired(2, { remove: ['pod-2'] });
    const { instances } = await p.describe();
    expect(instances).toEqual([
      { id: 'pod-1', url: 'http://10.0.0.1:8080', state: 'running', requestedAtMs: 1_700_000_000_001 },
      { id: 'pod-3', url: 'http://10.0.0.3:8080', state: 'running', requestedAtMs: 1_700_000_000_003 },
    ]);

    const bodies = received.filter((r) => r.path === '/fleet').map((r) => JSON.parse(r.raw.toString('utf8')) as unknown);
    expect(bodies).toEqual([
      { action: 'set-desired', desired: 3, remove: [] },
      { action: 'set-desired', desired: 2, remove: ['pod-2'] },
      { action: 'describe' },
    ]);
    const last = received.filter((r) => r.path === '/fleet').at(-1) as Received;
    expect(last.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(last.headers['x-prescale-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(last.headers['x-prescale-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('signs timestamp and raw body: a tampered body, timestamp or secret fails verification, and so does a stale timestamp', async () => {
    await webhook('/fleet').describe();
    const { headers, raw } = received.filter((r) => r.path === '/fleet').at(-1) as Received;
    const ts = headers['x-prescale-timestamp'] as string;
    const sig = headers['x-prescale-signature'] as string;
    const nowMs = Number(ts) * 1000;
    expect(verifySignature(SECRET, ts, raw, sig, { nowMs })).toBe(true);
    expect(verifySignature(SECRET, ts, raw.toString('utf8'), sig, { nowMs })).toBe(true);
    expect(verifySignature(SECRET, ts, raw.toString('utf8').replace('describe', 'set-desired'), sig, { nowMs })).toBe(false);
    expect(verifySignature(SECRET, String(Number(ts) + 1), raw, sig, { nowMs })).toBe(false);
    expect(verifySignature('another-secret', ts, raw, sig, { nowMs })).toBe(false);
    expect(verifySignature(SECRET, ts, raw, sig, { nowMs: nowMs + 301_000 })).toBe(false);
    expect(verifySignature(SECRET, ts, raw, sig, { nowMs: nowMs + 301_000, toleranceSeconds: Infinity })).toBe(true);
    expect(verifySignature(SECRET, ts, raw, sig.replace('sha256=', 'sha1='), { nowMs })).toBe(false);
    expect(verifySignature(SECRET, ts, raw, sig.slice(0, -2), { nowMs })).toBe(false);
    expect(verifySignature(SECRET, undefined, raw, sig, { nowMs })).toBe(false);
    expect(verifySignature(SECRET, ts, raw, undefined, { nowMs })).toBe(false);
    expect(signature(SECRET, ts, raw)).toBe(sig);
  });

  it('a wrong secret is refused by the receiver with 401, reported as not worth retrying', async () => {
    const err = await failure(webhook('/fleet', { secret: 'wrong-secret-0123456789' }).describe());
    expect(err.message).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/fleet answered 401 to describe: "\{\\"error\\":\\"bad signature\\"\}"/);
    expect(err.details).toMatchObject({ status: 401, retryable: false });
  });

  it('reports a 500 with the status and a body excerpt', async () => {
    const err = await failure(webhook('/broken').setDesired(2));
    expect(err.message).toMatch(/answered 500 to set-desired: ".*database is down.*"/);
    expect(err.details).toMatchObject({ action: 'set-desired', status: 500 });
    expect(err.details?.retryable).toBeUndefined();
  });

  it('turns a 429 Retry-After into details.retryAfterMs', async () => {
    const err = await failure(webhook('/limited').describe());
    expect(err.message).toMatch(/answered 429 to describe \(Retry-After 2000 ms\): "slow down"/);
    expect(err.details).toMatchObject({ status: 429, retryAfterMs: 2_000 });
  });

  it('withRetries waits out the Retry-After of a 429 and then succeeds', async () => {
    const sleeps: number[] = [];
    const p = withRetries(webhook('/limited-once'), { attempts: 3, baseDelayMs: 100, maxDelayMs: 5_000, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) });
    await p.setDesired(1);
    expect(sleeps).toEqual([1_000]);
    expect(limitedCalls).toBe(2);
  });

  it('aborts a call that takes longer than timeoutMs', async () => {
    const startMs = Date.now();
    const err = await failure(webhook('/slow', { timeoutMs: 300 }).describe());
    const elapsedMs = Date.now() - startMs;
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(err.message).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/slow did not answer describe within 300 ms/);
  });

  it('rejects a 2xx answer that is not JSON, or a connection that is refused', async () => {
    expect((await failure(webhook('/garbage').describe())).message).toMatch(/answered 200 to describe with "not json at all" instead of JSON/);
    const closed = new WebhookProvider({ url: 'http://127.0.0.1:1/hook?token=hidden', secret: SECRET, timeoutMs: 2_000 });
    providers.push(closed);
    const err = await failure(closed.describe());
    expect(err.message).toMatch(/POST http:\/\/127\.0\.0\.1:1\/hook failed during describe: ECONNREFUSED/);
    expect(err.message).not.toContain('hidden');
  });

  it.each([
    ['7', 7_000],
    ['0', 0],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Thu, 01 Jan 2026 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ] as const)('parses Retry-After %j as %j ms', (header, expected) => {
    expect(parseRetryAfterMs(header, Date.parse('2026-01-01T00:00:00Z'))).toBe(expected);
  });

  it('rejects a url that is not http(s) and an empty secret as configuration errors', () => {
    expect(() => new WebhookProvider({ url: 'ftp://example.com', secret: SECRET, timeoutMs: 1_000 })).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
    expect(() => new WebhookProvider({ url: base, secret: '', timeoutMs: 1_000 })).toThrow(/secret/);
  });
});
