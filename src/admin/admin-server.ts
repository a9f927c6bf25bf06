import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Registry } from 'prom-client';
import { apiErrorHandler, sendApiError } from './api-error.js';
import { BackendControl, type RuntimeApiOptions } from './backend-control.js';
import { backendRoutes } from './backend-routes.js';
import { requireBearerForMutations } from './bearer-auth.js';
import { heartbeatRoutes } from './heartbeat-routes.js';

export { assertAdminBindSafe, isLoopbackHost } from './bind-safety.js';
export type { BackendView, RuntimeApiOptions } from './backend-control.js';
export { HeartbeatRegistry } from './heartbeat-registry.js';

export interface AdminSources {
  registry: Registry;
  /** JSON-serialisable status: backends, fleet, last decision and forecast. */
  status(): unknown;
  /** Recent scaling decisions, newest last, each with its inputs, winning rule and reason. */
  decisions?(): unknown[];
  /** The runtime API (/v1/backends, /v1/heartbeats); omitted: only the read-only endpoints. */
  runtime?: RuntimeApiOptions;
  /** Read-only routes mounted before /v1's runtime API: the live dashboard (src/web/dashboard.ts). */
  web?: express.Router;
}

/** Per app: starts its heartbeat sweeps and returns the stop function (run by listenAdmin). */
const sweepStarters = new WeakMap<express.Express, () => () => void>();

/**
 * The admin API on its own port (127.0.0.1 by default, never the proxy port), served by Express:
 * - GET /metrics  Prometheus text exposition (prom-client)
 * - GET /healthz  200 `{"status":"ok"}` while the process serves
 * - GET /v1/status  backends (state, weight, in-flight, health), desired/ready capacity,
 *   the latest decision with its reason and the latest forecast
 * - with `web`: the dashboard (GET /dashboard, GET /v1/events server-sent events, GET /v1/plots)
 * - with `runtime`: the runtime API of docs/admin-api.md (HAProxy runtime API / Envoy admin
 *   semantics): list, weigh, drain, add and remove backends, heartbeat registration. Mutations
 *   need `Authorization: Bearer <runtime.token>`; JSON errors `{"error":{"code","message"}}`.
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
  app.get('/v1/decisions', (req, res) => {
    const all = sources.decisions?.() ?? [];
    const limit = Math.max(1, Math.min(all.length || 1, Number(req.query['limit']) || all.length || 1));
    res.json({ decisions: all.slice(-limit) });
  });
  if (sources.web) app.use(sources.web);
  if (sources.runtime) {
    const control = new BackendControl(sources.runtime);
    const v1 = express.Router();
    v1.use(requireBearerForMutations(sources.runtime.token));
    v1.use(express.json({ limit: '16kb' }));
    v1.use(backendRoutes(control));
    v1.use(heartbeatRoutes(control));
    v1.use((req, res) => sendApiError(res, 404, 'not_found', `no admin endpoint ${req.method} ${req.originalUrl}; see docs/admin-api.md`));
    v1.use(apiErrorHandler);
    app.use('/v1', v1);
    sweepStarters.set(app, () => control.startHeartbeatSweeps());
  }
  return app;
}

/**
 * Listen on host:port (port 0 picks a free one). While the server listens, expired heartbeats
 * are swept on an unref'd interval; closing the server stops the sweeps.
 */
export async function listenAdmin(app: express.Express, host: string, port: number): Promise<{ server: Server; port: number }> {
  const listening = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => {
      if (err) reject(err);
      else resolve({ server, port: (server.address() as AddressInfo).port });
    });
    server.once('error', reject);
  });
  const start = sweepStarters.get(app);
  if (start) listening.server.once('close', start());
  return listening;
}
