import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyHandler } from './forward.js';
import { createCertificateReloader, readTlsFiles, type TlsFiles } from './tls.js';
import type { UpgradeListener } from './upgrade.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Terminate TLS with these PEM files (node:https); omit for plain HTTP. */
  tls?: TlsFiles | undefined;
  /**
   * Handler of HTTP/1.1 Upgrade requests (WebSocket), e.g. `createUpgradeHandler(...)`. Without
   * it, upgrade requests reach `handler` as ordinary requests and lose their Upgrade header.
   */
  upgrade?: UpgradeListener | undefined;
}

export interface ProxyListener {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  /**
   * Re-read the TLS files and serve them to new connections; established connections keep their
   * certificate. Rejects with PrescaleError('PRESCALE_ERR_CONFIG') naming a bad file, and the
   * previous certificate stays in use. Resolves at once on a plain HTTP listener.
   */
  reload(): Promise<void>;
}

/** Header and request timeouts bound slow clients; a TLS handshake gets as long as the headers. */
const TIMEOUTS = { keepAliveTimeout: 5_000, headersTimeout: 20_000, requestTimeout: 300_000 } as const;

/** Client sockets of open upgrade tunnels per listener, which `closeServer` must end itself. */
const tunnels = new WeakMap<Server, Set<Duplex>>();

/**
 * Serve a proxy handler on a plain node:http server, or node:https with `options.tls` (the hot
 * path: no Express per-request work). Malformed requests are answered 400 by node's parser
 * (RFC 9112 §2.2 and §6.3) and never reach the handler. Header and request timeouts bound slow
 * clients; upgraded connections (WebSocket tunnels) are not subject to them.
 * Throws PrescaleError('PRESCALE_ERR_CONFIG') naming the file when the TLS certificate or key is
 * missing or invalid; rejects with the listen error (e.g. EADDRINUSE).
 * @returns the listening server, its bound port and `reload()` for the TLS certificate.
 */
export async function listenProxy(handler: ProxyHandler, options: ListenOptions): Promise<ProxyListener> {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => handler(req, res);
  let server: Server;
  let reload = (): Promise<void> => Promise.resolve();
  if (options.tls !== undefined) {
    const material = await readTlsFiles(options.tls);
    const httpsServer = createHttpsServer({ ...TIMEOUTS, handshakeTimeout: TIMEOUTS.headersTimeout, ...material }, onRequest);
    reload = createCertificateReloader(httpsServer, options.tls);
    server = httpsServer;
  } else {
    server = createServer(TIMEOUTS, onRequest);
  }
  if (options.upgrade !== undefined) trackUpgrades(server, options.upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port, reload };
}

/**
 * Stop accepting, let in-flight requests finish, close idle keep-alive sockets, and close open
 * upgrade tunnels (a WebSocket has no natural end a shutdown could wait for; its client
 * reconnects). Resolves when every connection is closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    for (const socket of tunnels.get(server) ?? []) socket.destroy();
  });
}

function trackUpgrades(server: Server, upgrade: UpgradeListener): void {
  const open = new Set<Duplex>();
  tunnels.set(server, open);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    upgrade(req, socket, head);
  });
}
