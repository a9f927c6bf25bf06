import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyProcess, type ProxyProcess, type ProxyProcessStats } from '../helpers/hostile-proxy.js';
import { recordScenario } from '../helpers/reliability.js';
import { startServer } from '../helpers/servers.js';

/**
 * 10,000 clients that go away mid-response (the leak other Node proxies have): the proxy runs in
 * its own process (--expose-gc) in front of a backend that streams a large, slow body; each
 * client destroys its socket after the first response bytes. Afterwards the proxy's connections,
 * handles and heap return to their baseline and every upstream response was aborted at the
 * backend, none left streaming to the end.
 */
const ABORTS = 10_000;
const CONCURRENCY = 200;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const CHUNKS = 100; // 6.4 MB over ~2 s if nobody aborts
const FIRST = Buffer.alloc(1024, 'x');

/** One client: GET, wait for the first bytes of the body, destroy. Resolves true when bytes arrived. */
function abortAfterFirstBytes(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    socket.on('connect', () => socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1', 0, Math.min(d.length, 256));
      if (head.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(head.startsWith('HTTP/1.1 200'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

async function abortMany(port: number, count: number): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      if (await abortAfterFirstBytes(port)) ok++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ok, failed: count - ok };
}

describe('client aborts mid-response', () => {
  let backend: Awaited<ReturnType<typeof startServer>>;
  let proxy: ProxyProcess;
  const counts = { started: 0, finished: 0, aborted: 0, open: 0 };

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      counts.started++;
      counts.open++;
      res.once('finish', () => counts.finished++);
      res.once('close', () => {
        counts.open--;
        if (!res.writableFinished) counts.aborted++;
      });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': FIRST.length + CHUNK.length * CHUNKS });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(CHUNK);
        if (++sent === CHUNKS) {
          clearInterval(timer);
          res.end();
        }
      }, 20);
      res.write(FIRST);
    });
    proxy = await startProxyProcess({ backends: [backend.url] });
  });
  afterAll(async () => {
    await proxy.stop();
    await backend.close();
  });

  /** Stats once nothing is in flight anywhere (or after 10 s). */
  async function settled(): Promise<ProxyProcessStats> {
    const deadline = Date.now() + 10_000;
    let s = await proxy.stats();
    while ((s.connections > 0 || s.inFlight > 0 || s.backendInFlight > 0 || counts.open > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await proxy.stats();
    }
    return s;
  }

  it(`returns sockets, handles and memory to baseline after ${ABORTS} aborts, and aborts every upstream response`, async () => {
    // warm up JIT, pools and buffers, then take the baseline
    await abortMany(proxy.port, 1000);
    const base = await settled();
    const startedBefore = counts.started;
    const backendConnsBefore = await new Promise<number>((r) => backend.server.getConnections((_, n) => r(n)));

    const t0 = performance.now();
    const run = await abortMany(proxy.port, ABORTS);
    const elapsedMs = performance.now() - t0;
    const after = await settled();
    const backendConnsAfter = await new Promise<number>((r) => backend.server.getConnections((_, n) => r(n)));
    const heapGrowthMiB = (after.heapUsedBytes - base.heapUsedBytes) / 2 ** 20;
    const rssGrowthMiB = (after.rssBytes - base.rssBytes) / 2 ** 20;

    recordScenario({
      id: 'hostile-client-aborts',
      group: 'hostile input',
      scenario: `${ABORTS} clients destroy their socket after the first bytes of a 6.4 MB streamed response`,
      load: `${CONCURRENCY} concurrent clients, ${(elapsedMs / 1000).toFixed(1)} s`,
      faults: 'client socket destroyed mid-response',
      sent: ABORTS,
      failed: run.failed,
      lost: after.inFlight + after.backendInFlight + counts.open,
      expectation: `connections and in-flight back to 0, handles within +5, heap after GC within +8 MiB (measured ${heapGrowthMiB.toFixed(1)} MiB, RSS ${rssGrowthMiB.toFixed(1)} MiB); every upstream response aborted at the backend`,
    });

    expect(base.gc).toBe(true);
    expect(run.failed).toBe(0);
    expect(after.connections).toBe(0);
    expect(after.inFlight).toBe(0);
    expect(after.backendInFlight).toBe(0);
    expect(after.handles).toBeLessThanOrEqual(base.handles + 5);
    expect(heapGrowthMiB).toBeLessThan(8);
    expect(rssGrowthMiB).toBeLessThan(96);
    // the proxy answered each as "client closed" and aborted the upstream exchange
    expect((after.statuses['499'] ?? 0) - (base.statuses['499'] ?? 0)).toBe(ABORTS);
    expect(counts.started - startedBefore).toBe(ABORTS);
    expect(counts.open).toBe(0);
    expect(counts.finished).toBe(0);
    expect(backendConnsAfter).toBeLessThanOrEqual(Math.max(backendConnsBefore, 64));
  }, 90_000);
});
