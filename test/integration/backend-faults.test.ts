import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { trackedCleanups } from '../helpers/cleanups.js';
import { startFaultyBackend, type FaultyBackend } from '../helpers/faulty-backends.js';
import { closedLoop, countOf } from '../helpers/hostile-load.js';
import { recordScenario } from '../helpers/reliability.js';
import { startProxy, startServer } from '../helpers/servers.js';
import type { PassiveHealthOptions } from '../../src/proxy/outlier-detection.js';

/**
 * Backends that accept and never answer, and backends that answer garbage, behind the real proxy
 * with passive health at the config defaults (nginx max_fails 1 / fail_timeout 10 s, Envoy
 * outlier detection): idempotent requests are retried on the healthy backend and the faulty one
 * is ejected; a POST is never sent twice and fails cleanly with the error code.
 */
const PASSIVE: PassiveHealthOptions = { maxFails: 1, failTimeoutMs: 10_000, consecutive5xx: 5, consecutiveGatewayFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50, panicThresholdPercent: 0 };
const FIRST_BYTE_TIMEOUT_MS = 300;

const track = trackedCleanups();
const healthy = () => track(startServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
}));
const proxyFor = (urls: string[]) => track(startProxy(urls, { firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS, retries: 1, passiveHealth: PASSIVE }));

/** One request; the status and the error code of a JSON error body (or ''). */
async function send(url: string, method: 'GET' | 'POST', body?: string): Promise<{ status: number; code: string; text: string }> {
  const res = await request(url, { method, body: body ?? null });
  const text = await res.body.text();
  let code = '';
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    // not JSON: a backend's answer
  }
  return { status: res.statusCode, code, text };
}

const posts = (b: FaultyBackend) => b.requests.filter((r) => r.method === 'POST').length;

describe('a backend that accepts connections and never answers', () => {
  it('GETs time out after firstByteTimeoutMs and are retried on the healthy backend within the retry budget; the black hole is ejected', async () => {
    const hole = await track(startFaultyBackend({ kind: 'black-hole' }));
    const good = await healthy();
    const proxy = await proxyFor([hole.url, good.url]);
    const load = await closedLoop(proxy.url, { concurrency: 8, durationMs: 1500 });
    const victim = proxy.upstream.get('b1')!;
    const timedOut = countOf(load, 504);
    recordScenario({
      id: 'backend-black-hole',
      group: 'faults',
      scenario: 'One of 2 backends accepts connections and never answers',
      load: '8 closed-loop clients, GET, 1.5 s',
      faults: `black-hole backend; firstByteTimeout ${FIRST_BYTE_TIMEOUT_MS} ms; it caught ${hole.requests.length} requests before passive health ejected it`,
      sent: load.sent,
      failed: load.sent - countOf(load, 200),
      lost: countOf(load, 0),
      expectation: 'each request caught by the black hole is retried on the healthy backend while Envoy\'s retry budget allows (at least 3 retries in flight); the rest fail 504 with the code; the black hole is ejected after its first timeout',
    });
    // 8 clients can all be caught at once before the first timeout ejects it; 3 retries at once are always allowed
    expect(hole.requests.length).toBeGreaterThan(0);
    expect(hole.requests.length).toBeLessThanOrEqual(8);
    expect(countOf(load, 200) + timedOut).toBe(load.sent);
    expect(timedOut).toBeLessThanOrEqual(Math.max(0, hole.requests.length - 3));
    expect(victim.ejectedUntilMs).toBeGreaterThan(Date.now());
  });

  it('with 3 clients, all within the retry budget, no request fails', async () => {
    const hole = await track(startFaultyBackend({ kind: 'black-hole' }));
    const good = await healthy();
    const proxy = await proxyFor([hole.url, good.url]);
    const load = await closedLoop(proxy.url, { concurrency: 3, durationMs: 1000 });
    expect(hole.requests.length).toBeGreaterThan(0);
    expect(load.statuses).toEqual(new Map([[200, load.sent]]));
  });

  it('answers 504 PRESCALE_ERR_UPSTREAM_TIMEOUT with no backend to retry on, and sends a POST once', async () => {
    const hole = await track(startFaultyBackend({ kind: 'black-hole' }));
    const proxy = await proxyFor([hole.url]);
    const started = Date.now();
    const post = await send(`${proxy.url}/order`, 'POST', 'one order');
    expect(Date.now() - started).toBeGreaterThanOrEqual(FIRST_BYTE_TIMEOUT_MS - 20);
    expect([post.status, post.code]).toEqual([504, 'PRESCALE_ERR_UPSTREAM_TIMEOUT']);
    expect(posts(hole)).toBe(1);
    expect(proxy.upstream.get('b1')!.ejectedUntilMs).toBeGreaterThan(0);
    // ejected and alone: the next request is refused at once rather than sent into the hole
    const get = await send(`${proxy.url}/`, 'GET');
    expect([get.status, get.code]).toEqual([503, 'PRESCALE_ERR_NO_HEALTHY_BACKEND']);
    expect(hole.requests.length).toBe(1);
  });
});

/** Garbage answers: none may be relayed to a client. */
const GARBAGE: Array<[string, string]> = [
  ['binary junk', '\x00\xff\x16\x03\x01JUNK\r\n\r\n'],
  ['a status line that is not HTTP', 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['Content-Length and Transfer-Encoding together', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\nok'],
  ['a NUL in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok'],
  ['bare LF line endings', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok'],
];

describe('a backend that answers garbage', () => {
  let sent = 0;
  let failed = 0;
  let retriedGets = 0;
  let twice = 0;

  it.each(GARBAGE)('%s: 502 PRESCALE_ERR_UPSTREAM_CONNECT alone, GETs retried elsewhere with a healthy backend, a POST sent once', async (_name, bytes) => {
    const junk = await track(startFaultyBackend({ kind: 'garbage', bytes }));
    const alone = await proxyFor([junk.url]);
    const get = await send(`${alone.url}/`, 'GET');
    expect([get.status, get.code]).toEqual([502, 'PRESCALE_ERR_UPSTREAM_CONNECT']);
    expect(get.text).not.toContain('JUNK');

    // round robin starts at b1, the garbage: the first GETs meet it and are retried on b2
    const junkForGets = await track(startFaultyBackend({ kind: 'garbage', bytes }));
    const good = await healthy();
    const forGets = await proxyFor([junkForGets.url, good.url]);
    const gets = await Promise.all(Array.from({ length: 20 }, () => send(`${forGets.url}/`, 'GET')));
    expect(gets.map((g) => g.status)).toEqual(Array(20).fill(200));
    expect(junkForGets.requests.length).toBeGreaterThan(0);
    expect(forGets.upstream.get('b1')!.ejectedUntilMs).toBeGreaterThan(0);

    const junkForPost = await track(startFaultyBackend({ kind: 'garbage', bytes }));
    const forPost = await proxyFor([junkForPost.url, good.url]);
    const post = await send(`${forPost.url}/order`, 'POST', 'one order');
    expect([post.status, post.code]).toEqual([502, 'PRESCALE_ERR_UPSTREAM_CONNECT']);
    expect(posts(junkForPost)).toBe(1);

    sent += 22;
    failed += [get, post, ...gets].filter((r) => r.status !== 200).length;
    retriedGets += junkForGets.requests.length;
    twice += posts(junkForPost) - 1;
  });

  it('records the garbage scenarios', () => {
    recordScenario({
      id: 'backend-garbage',
      group: 'faults',
      scenario: `A backend answers garbage (${GARBAGE.map(([n]) => n).join('; ')})`,
      load: 'per kind: 1 GET with it alone; 20 concurrent GETs and 1 POST with a healthy second backend',
      faults: `${GARBAGE.length} kinds of invalid response; ${retriedGets} GETs met the garbage and were retried`,
      sent,
      failed,
      lost: twice,
      expectation: 'failed = 2 per kind, both a clean 502 with the code: the GET with no other backend and the POST (never retried; it reached the backend once); 0 of the 20 GETs failed',
    });
    expect(sent).toBe(22 * GARBAGE.length);
    expect([failed, twice]).toEqual([2 * GARBAGE.length, 0]);
  });
});
