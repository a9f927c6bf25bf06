import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyHandler } from './forward.js';

export interface ListenOptions {
  host: string;
  port: number;
}

/**
 * Serve a proxy handler on a plain node:http server (the hot path: no Express per-request work).
 * Malformed requests are answered 400 by node's parser (RFC 9112 §2.2 and §6.3) and never reach
 * the handler. Header and request timeouts bound slow clients.
 * @returns the listening server and its bound port (useful with port 0).
 */
export async function listenProxy(handler: ProxyHandler, options: ListenOptions): Promise<{ server: Server; port: number }> {
  const server = createServer({ keepAliveTimeout: 5_000, headersTimeout: 20_000, requestTimeout: 300_000 }, (req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Stop accepting, let in-flight requests finish, close idle keep-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
