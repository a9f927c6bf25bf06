import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRequests, startRecordingBackend, type RecordingBackend } from '../helpers/hostile-backend.js';
import { responseStatuses } from '../helpers/hostile-client.js';
import { fuzzInputs } from '../helpers/hostile-fuzz.js';
import { startProxyProcess, type ProxyProcess, type ProxyProcessStats } from '../helpers/hostile-proxy.js';
import { recordScenario } from '../helpers/reliability.js';

/**
 * A bounded, seeded fuzz run of random and mutated raw requests (test/helpers/hostile-fuzz.ts)
 * against the real proxy in its own process, in front of the strict recording backend. Oracle:
 * the backend never sees a malformed stream, and never a request that a strict reading of the
 * client's bytes does not contain; the proxy never answers 500/502/503/504 to input alone, closes
 * every connection, keeps serving, and its heap after GC stays flat.
 */
const SEED = 0x5eed_8a;
const MAX_INPUTS = 10_000;
const BUDGET_MS = 9000;
const CONCURRENCY = 64;

/**
 * Write `bytes`, half-close 150 ms later (answers to complete requests come first: node ends a
 * half-closed connection at once), collect the answer until the proxy closes (or 5 s: hung).
 */
function exchange(port: number, bytes: Buffer): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => done(false), 5000);
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    socket.on('connect', () => {
      socket.write(bytes);
      setTimeout(() => socket.end(), 150);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
  });
}

describe('hostile fuzz: random and mutated requests', () => {
  let backend: RecordingBackend;
  let proxy: ProxyProcess;

  beforeAll(async () => {
    backend = await startRecordingBackend();
    proxy = await startProxyProcess({ backends: [backend.url] });
  });
  afterAll(async () => {
    await proxy.stop();
    await backend.close();
  });

  async function run(seed: number, max: number, budgetMs: number) {
    const inputs = fuzzInputs(seed, max);
    const allowed = new Map<string, number>();
    const statuses = new Map<number, number>();
    let sent = 0;
    let hung = 0;
    const end = Date.now() + budgetMs;
    const worker = async (): Promise<void> => {
      for (let next = inputs.next(); !next.done && Date.now() < end; next = inputs.next()) {
        sent++;
        for (const r of clientRequests(next.value.bytes)) allowed.set(r, (allowed.get(r) ?? 0) + 1);
        const reply = await exchange(proxy.port, next.value.bytes);
        if (!reply.closed) hung++;
        for (const s of responseStatuses(reply.text)) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return { sent, hung, statuses, allowed };
  }

  /** Stats once nothing is open on the proxy (or after 5 s). */
  async function settled(): Promise<ProxyProcessStats> {
    const deadline = Date.now() + 5000;
    let s = await proxy.stats();
    while ((s.connections > 0 || s.inFlight > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await proxy.stats();
    }
    return s;
  }

  it(`survives up to ${MAX_INPUTS} hostile inputs in ${BUDGET_MS / 1000} s: nothing malformed or unasked-for reaches the backend, memory stays flat`, async () => {
    await run(SEED + 1, 500, 5000); // warm-up, another seed
    const base = await settled();
    backend.reset();

    const t0 = performance.now();
    const result = await run(SEED, MAX_INPUTS, BUDGET_MS);
    const elapsedS = (performance.now() - t0) / 1000;
    const after = await settled();

    const received = new Map<string, number>();
    for (const r of backend.requests) received.set(`${r.method} ${r.target}`, (received.get(`${r.method} ${r.target}`) ?? 0) + 1);
    const unasked = [...received].filter(([k, n]) => n > (result.allowed.get(k) ?? 0));
    const serverErrors = [...result.statuses].filter(([s]) => s >= 500 && s !== 501 && s !== 505).reduce((sum, [, n]) => sum + n, 0);
    const heapGrowthMiB = (after.heapUsedBytes - base.heapUsedBytes) / 2 ** 20;
    const rssGrowthMiB = (after.rssBytes - base.rssBytes) / 2 ** 20;
    const byStatus = [...result.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');

    recordScenario({
      id: 'hostile-fuzz',
      group: 'hostile input',
      scenario: `Seeded fuzz (seed ${SEED}): random bytes and mutated valid requests, one connection each, half-closed 150 ms after sending`,
      load: `${CONCURRENCY} concurrent connections, ${elapsedS.toFixed(1)} s; answers ${byStatus}; ${backend.requests.length} requests forwarded (${Math.max(0, backend.requests.length - (result.statuses.get(200) ?? 0))} still in flight at the client's half-close, answered 499)`,
      faults: 'CR/LF/NUL and CL/TE insertions, folded, duplicated and deleted lines, case flips, truncation, smuggled request lines, random bytes',
      sent: result.sent,
      failed: serverErrors,
      lost: result.hung + unasked.length + backend.malformed.length,
      expectation: `no 500/502/503/504 (failed); no hung connection, malformed stream or unasked-for request at the backend (lost); heap after GC within +8 MiB (measured ${heapGrowthMiB.toFixed(1)} MiB, RSS ${rssGrowthMiB.toFixed(1)} MiB)`,
    });

    expect(result.sent).toBeGreaterThan(500);
    expect(backend.malformed).toEqual([]);
    expect(unasked).toEqual([]);
    expect(backend.requests.length).toBeGreaterThan(0); // the oracle had something to check
    expect(serverErrors).toBe(0);
    expect(result.hung).toBe(0);
    expect(after.connections).toBe(0);
    expect(after.inFlight).toBe(0);
    expect(heapGrowthMiB).toBeLessThan(8);
    expect(rssGrowthMiB).toBeLessThan(96);

    // and it still serves a plain request correctly
    const reply = await exchange(proxy.port, Buffer.from('GET /after-fuzz HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(responseStatuses(reply.text)).toEqual([200]);
    expect(reply.text.endsWith('ok GET /after-fuzz')).toBe(true);
  }, 45_000);
});
