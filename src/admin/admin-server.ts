import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Registry } from 'prom-client';

export interface AdminSources {
  registry: Registry;
  /** JSON-serialisable status: backends, fleet, last decision and forecast. */
  status(): unknown;
}

/**
 * The admin API on its own port (127.0.0.1 by default, never the proxy port), served by Express:
 * - GET /metrics  Prometheus text exposition (prom-client)
 * - GET /healthz  200 `{"status":"ok"}` while the process serves
 * - GET /v1/status  backends (state, weight, in-flight, health), desired/ready capacity,
 *   the latest decision with its reason and the latest forecast
 */
export function createAdminApp(sources: AdminSources): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.type(sources.registry.contentType).send(await sources.registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/v1/status', (_req, res) => {
    res.json(sources.status());
  });
  return app;
}

/** Listen on host:port (port 0 picks a free one). */
export async function listenAdmin(app: express.Express, host: string, port: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => {
      if (err) reject(err);
      else resolve({ server, port: (server.address() as AddressInfo).port });
    });
    server.once('error', reject);
  });
}
