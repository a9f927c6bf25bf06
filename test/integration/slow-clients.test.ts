import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedLoop, countOf, quantile } from '../helpers/hostile-load.js';
import { recordScenario } from '../helpers/reliability.js';
import { startProxy, startServer } from '../helpers/servers.js';

/**
 * Slowloris against the real proxy with short listener timeouts: clients that trickle their
 * header bytes, and clients that trickle their body, are cut off at headersTimeoutMs and
 * requestTimeoutMs (408, then close), reconnecting at once as an attacker would, while
 * well-behaved clients keep being served.
 */
const HEADERS_TIMEOUT_MS = 800;
const REQUEST_TIMEOUT_MS = 1600;
const SLOW_HEADER_CLIENTS = 150;
const SLOW_BODY_CLIENTS = 50;
/** Uploads that send 20 KiB at once and then trickle: they stream, each holding one upstream connection (16 in the pool). */
const SLOW_UPLOAD_CLIENTS = 8;
const DRIP_MS = 250;

type Kind = 'header' | 'body' | 'upload';
const HEADS: Record<Kind, string> = {
  header: 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ',
  body: 'POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n',
  upload: `POST /slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'u'.repeat(20_480)}`,
};

interface SlowOutcome {
  /** ms from connect to the proxy closing the connection. */
  heldMs: number;
  reply: string;
}

/** One slow connection: send `head`, then one byte of `drip` every DRIP_MS until the proxy closes it. */
function slowConnection(port: number, head: string, drip: string): Promise<SlowOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    let i = 0;
    const timer = setInterval(() => {
      if (socket.writable) socket.write(drip[i++ % drip.length]!);
    }, DRIP_MS);
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ heldMs: performance.now() - started, reply });
    });
    socket.on('connect', () => socket.write(head));
  });
}

describe('slow clients (slowloris) hit the header and request timeouts; the proxy keeps serving', () => {
  let backend: Awaited<ReturnType<typeof startServer>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  /** Slow requests the backend saw begin, and saw complete, by path. */
  const started = new Map<string, number>();
  const completed = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  /** Requests open at the backend: begun, not yet answered or aborted. */
  let backendOpen = 0;

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      let bytes = 0;
      if (req.url !== '/') bump(started, req.url!);
      backendOpen++;
      res.once('close', () => backendOpen--);
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        if (req.url !== '/') bump(completed, req.url!);
        res.end(`ok ${bytes}`);
      });
    });
    proxy = await startProxy([backend.url], { listen: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } });
  });
  afterAll(async () => {
    await proxy.close();
    await backend.close();
  });

  it('cuts off every slow-header and slow-body connection with 408 and serves normal clients meanwhile', async () => {
    const baseline = await closedLoop(proxy.url, { concurrency: 4, durationMs: 800 });
    let attacking = true;
    const outcomes: Record<Kind, SlowOutcome[]> = { header: [], body: [], upload: [] };
    const attacker = async (kind: Kind): Promise<void> => {
      while (attacking) outcomes[kind].push(await slowConnection(proxy.port, HEADS[kind], kind === 'header' ? 'abcdefgh' : 'x'));
    };
    const attackers = [
      ...Array.from({ length: SLOW_HEADER_CLIENTS }, () => attacker('header')),
      ...Array.from({ length: SLOW_BODY_CLIENTS }, () => attacker('body')),
      ...Array.from({ length: SLOW_UPLOAD_CLIENTS }, () => attacker('upload')),
    ];
    await new Promise((r) => setTimeout(r, 300)); // the slow connections are all open
    const underAttack = await closedLoop(proxy.url, { concurrency: 4, durationMs: 3000 });
    attacking = false;
    await Promise.all(attackers);

    const all = [...outcomes.header, ...outcomes.body, ...outcomes.upload];
    const sent = underAttack.sent;
    const failed = sent - countOf(underAttack, 200);
    recordScenario({
      id: 'hostile-slowloris',
      group: 'hostile input',
      scenario: 'Slowloris: clients trickle header bytes or body bytes one every 250 ms and reconnect when cut off, while normal clients send GETs',
      load: `4 closed-loop clients, GET, 3 s; p50 ${quantile(underAttack.latenciesMs, 0.5).toFixed(1)} ms / p99 ${quantile(underAttack.latenciesMs, 0.99).toFixed(1)} ms (baseline p99 ${quantile(baseline.latenciesMs, 0.99).toFixed(1)} ms)`,
      faults: `${SLOW_HEADER_CLIENTS} slow-header + ${SLOW_BODY_CLIENTS} slow-body + ${SLOW_UPLOAD_CLIENTS} slow-upload (20 KiB, then a trickle) connections at a time (${all.length} in all), headersTimeout ${HEADERS_TIMEOUT_MS} ms, requestTimeout ${REQUEST_TIMEOUT_MS} ms`,
      sent,
      failed,
      lost: countOf(underAttack, 0),
      expectation: 'every slow connection answered 408 and closed within its timeout + 1 s; a trickled body never reaches a backend, a slow upload is aborted upstream; 0 normal requests failed, each faster than the header timeout',
    });

    expect(countOf(baseline, 200)).toBe(baseline.sent);
    expect(sent).toBeGreaterThan(50);
    expect(underAttack.statuses).toEqual(new Map([[200, sent]]));
    // served alongside the slow clients, not after them: every request took less than the header timeout
    expect(Math.max(...underAttack.latenciesMs)).toBeLessThan(HEADERS_TIMEOUT_MS);

    expect(outcomes.header.length).toBeGreaterThanOrEqual(SLOW_HEADER_CLIENTS);
    expect(outcomes.body.length).toBeGreaterThanOrEqual(SLOW_BODY_CLIENTS);
    for (const o of outcomes.header) {
      expect(o.reply).toMatch(/^HTTP\/1\.1 408 /);
      expect(o.heldMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1000);
    }
    for (const o of [...outcomes.body, ...outcomes.upload]) {
      expect(o.reply).toMatch(/^HTTP\/1\.1 408 /);
      expect(o.heldMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(o.heldMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
    }
    // a body trickled from its first byte is held at the proxy: no backend ever sees the request
    expect(started.get('/slow-body')).toBeUndefined();
    // an upload that streamed is cut off upstream too: begun at the backend, never completed
    expect(started.get('/slow-upload')).toBe(outcomes.upload.length);
    expect(completed.get('/slow-upload')).toBeUndefined();
    await expect.poll(() => backendOpen).toBe(0);
    const open = await new Promise<number>((resolve) => proxy.server.getConnections((_, n) => resolve(n)));
    expect(open).toBe(0);
  });
});
