/**
 * Child-process entry for the hostile-input tests: prescale's real proxy (listenProxy +
 * createProxyHandler) in its own process, so a test can measure the proxy's memory, sockets and
 * handles apart from the test's own. Started by `startProxyProcess` (hostile-proxy.ts) with
 * `--expose-gc`; argv[2] is the JSON ProxyProcessOptions.
 *
 * IPC: sends `{ type: 'ready', port }` once listening; answers `{ type: 'stats' }` with
 * `{ type: 'stats', stats: ProxyProcessStats }` after three full GCs; exits on `{ type: 'stop' }`.
 */
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { createProxyHandler } from '../../src/proxy/forward.js';
import { closeServer, listenProxy } from '../../src/proxy/server.js';
import { Upstream } from '../../src/proxy/upstream.js';
import type { ProxyProcessOptions, ProxyProcessStats } from './hostile-proxy.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ProxyProcessOptions;
const statuses: Record<string, number> = {};
let inFlight = 0;

const upstream = new Upstream(createBalancer('round-robin'), {
  connectTimeoutMs: 1000,
  firstByteTimeoutMs: options.firstByteTimeoutMs ?? 5000,
  idleTimeoutMs: 5000,
  keepAliveConnections: options.keepAliveConnections ?? 64,
});
options.backends.forEach((url, i) => upstream.add(`b${i + 1}`, url, 1, 'ready', true));
const handler = createProxyHandler({
  upstream,
  retries: 1,
  observer: {
    requestStarted(n) {
      inFlight = n;
    },
    requestFinished(_start, _latency, status) {
      inFlight--;
      statuses[status] = (statuses[status] ?? 0) + 1;
    },
  },
});
const { server, port } = await listenProxy(handler, { ...options.listen, host: '127.0.0.1', port: 0 });

const gc = (globalThis as { gc?: () => void }).gc;

async function stats(): Promise<ProxyProcessStats> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const connections = await new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n)));
  const mem = process.memoryUsage();
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const backendInFlight = upstream.backends.reduce((sum, b) => sum + b.inFlight, 0);
  return { heapUsedBytes: mem.heapUsed, rssBytes: mem.rss, connections, handles, inFlight, backendInFlight, statuses: { ...statuses }, gc: gc !== undefined };
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') void stats().then((s) => process.send?.({ type: 'stats', stats: s }));
  if (msg.type === 'stop') {
    server.closeAllConnections();
    void closeServer(server)
      .then(() => upstream.close())
      .finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', port });
