import { Router } from 'express';
import { sendApiError } from './api-error.js';
import type { BackendControl } from './backend-control.js';
import { parseOr400 } from './backend-routes.js';
import { backendId, heartbeatBody } from './request-schemas.js';

/** Same backend address whatever the spelling (`http://h:1` and `http://h:1/`). */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/**
 * /v1/heartbeats: self-registration with a TTL (Consul TTL checks; Eureka's renew). The first
 * `PUT /v1/heartbeats/:id` admits the backend like `POST /v1/backends` (health-checked, traffic
 * once healthy) and answers 201; later ones refresh its TTL and answer 200. A backend whose TTL
 * passes without a heartbeat is drained and removed by the registry's sweep.
 */
export function heartbeatRoutes(control: BackendControl): Router {
  const router = Router();
  const { upstream, heartbeats } = control;

  router.get('/heartbeats', (_req, res) => {
    const nowMs = heartbeats.now();
    res.json({ heartbeats: heartbeats.list().map((e) => ({ id: e.id, ttlMs: e.ttlMs, expiresAtMs: e.expiresAtMs, expiresInMs: e.expiresAtMs - nowMs })) });
  });

  router.put('/heartbeats/:id', (req, res) => {
    const id = req.params.id;
    const idCheck = backendId.safeParse(id);
    if (!idCheck.success) {
      sendApiError(res, 400, 'invalid_id', `id "${id}": ${idCheck.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    const body = parseOr400(heartbeatBody, req.body, res);
    if (!body) return;
    if (control.isRemoving(id)) {
      sendApiError(res, 409, 'backend_removing', `backend "${id}" is draining before removal; the next heartbeat after it is gone registers it again`);
      return;
    }
    const existing = upstream.get(id);
    if (existing && !sameUrl(existing.url, body.url)) {
      sendApiError(res, 409, 'backend_exists', `backend "${id}" exists with url ${existing.url}, not ${body.url}`);
      return;
    }
    if (existing && body.weight !== undefined) upstream.setWeight(id, body.weight);
    const backend = existing ?? control.admit(id, body.url, body.weight ?? 1);
    if (!backend) throw new Error(`the admit callback did not add backend "${id}" to the upstream`);
    const { entry } = heartbeats.beat(id, body.ttlMs);
    res
      .status(existing ? 200 : 201)
      .json({ ...control.view(backend), heartbeat: { ttlMs: entry.ttlMs, expiresAtMs: entry.expiresAtMs } });
  });

  return router;
}
