import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBalancer, type AlgorithmName } from '../../src/proxy/balancers/index.js';
import { createHashKey, type HashKeySpec } from '../../src/proxy/hash-key.js';
import { createProxyHandler, type ProxyObserver } from '../../src/proxy/forward.js';
import { OutlierDetector, type PassiveHealthOptions } from '../../src/proxy/outlier-detection.js';
import { closeServer, listenProxy, type ListenOptions } from '../../src/proxy/server.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { createTrustedProxies } from '../../src/proxy/trusted-proxies.js';

/** A real HTTP server on 127.0.0.1:0 with the given handler; used as a backend in tests. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; port: number; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** prescale's proxy on 127.0.0.1:0 in front of `urls` (all ready and healthy). */
export async function startProxy(urls: string[], options: { firstByteTimeoutMs?: number; connectTimeoutMs?: number; retries?: number; observer?: ProxyObserver; algorithm?: AlgorithmName; hashKey?: HashKeySpec; maxConns?: number; queue?: { limit: number; timeoutMs: number }; retryOn?: number[]; totalTimeoutMs?: number; trustedProxies?: string[]; listen?: Omit<ListenOptions, 'host' | 'port'>; passiveHealth?: PassiveHealthOptions } = {}) {
  const group = { panic: false };
  const upstream = new Upstream(createBalancer(options.algorithm ?? 'round-robin'), {
    group,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    firstByteTimeoutMs: options.firstByteTimeoutMs ?? 5000,
    idleTimeoutMs: 5000,
    keepAliveConnections: 16,
    maxConns: options.maxConns,
  });
  urls.forEach((url, i) => upstream.add(`b${i + 1}`, url, 1, 'ready', true));
  const outlier = options.passiveHealth ? new OutlierDetector(options.passiveHealth, group, () => upstream.backends) : undefined;
  const handler = createProxyHandler({
    upstream,
    ...(outlier ? { outlier } : {}),
    retries: options.retries ?? 1,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.hashKey ? { hashKey: createHashKey(options.hashKey) } : {}),
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.retryOn ? { retryOn: options.retryOn } : {}),
    ...(options.totalTimeoutMs ? { totalTimeoutMs: options.totalTimeoutMs } : {}),
    ...(options.trustedProxies ? { trustedProxy: createTrustedProxies(options.trustedProxies) } : {}),
  });
  const { server, port } = await listenProxy(handler, { ...options.listen, host: '127.0.0.1', port: 0 });
  return {
    server,
    upstream,
    handler,
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
      await upstream.close();
    },
  };
}

/** A free port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = await startServer(() => {});
  const port = s.port;
  await s.close();
  return port;
}

/** A backend that reads the request and answers 200 "ok". */
export function startOkBackend(): ReturnType<typeof startServer> {
  return startServer((req, res) => {
    req.resume();
    res.end('ok');
  });
}
