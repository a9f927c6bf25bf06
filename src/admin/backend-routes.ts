import { Router, type Response } from 'express';
import type { z } from 'zod';
import type { Backend } from '../proxy/backend.js';
import { describeIssues, sendApiError, type ApiErrorCode } from './api-error.js';
import type { BackendControl } from './backend-control.js';
import { addBody, deleteQuery, stateBody, weightBody, weightFromPercent } from './request-schemas.js';

/**
 * Parse `value` with `schema`, or answer 400 with every problem and return undefined. An absent
 * body (no JSON Content-Type) gets a hint saying so.
 */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, res: Response, code: ApiErrorCode = 'invalid_body'): z.output<S> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const hint = value === undefined ? ' (send a JSON body with Content-Type: application/json)' : '';
  sendApiError(res, 400, code, describeIssues(parsed.error) + hint);
  return undefined;
}

/** The backend `id`, or answer 404 (unknown) / 409 (draining for removal) and return undefined. */
export function findChangeable(control: BackendControl, id: string, res: Response): Backend | undefined {
  const backend = control.upstream.get(id);
  if (!backend) {
    sendApiError(res, 404, 'backend_not_found', `no backend with id "${id}"; GET /v1/backends lists them`);
    return undefined;
  }
  if (control.isRemoving(id)) {
    sendApiError(res, 409, 'backend_removing', `backend "${id}" is draining before removal and cannot be changed`);
    return undefined;
  }
  return backend;
}

/**
 * /v1/backends (HAProxy runtime API `show servers state`, `set weight`, `set server state`,
 * `add server`, `del server`). Every change mutates the Backend objects the balancer reads or
 * goes through the upstream's replace-the-list membership changes, so it applies from the next
 * pick without a restart and without touching requests in flight.
 */
export function backendRoutes(control: BackendControl): Router {
  const router = Router();
  const { upstream } = control;

  router.get('/backends', (_req, res) => {
    res.json({ backends: control.list() });
  });

  router.get('/backends/:id', (req, res) => {
    const backend = upstream.get(req.params.id);
    if (backend) res.json(control.view(backend));
    else sendApiError(res, 404, 'backend_not_found', `no backend with id "${req.params.id}"`);
  });

  router.put('/backends/:id/weight', (req, res) => {
    const backend = findChangeable(control, req.params.id, res);
    if (!backend) return;
    const body = parseOr400(weightBody, req.body, res);
    if (!body) return;
    const weight = body.weight ?? weightFromPercent(upstream.initialWeight(backend.id) ?? backend.weight, body.percent ?? 100);
    upstream.setWeight(backend.id, weight);
    res.json(control.view(backend));
  });

  router.put('/backends/:id/state', (req, res) => {
    const backend = findChangeable(control, req.params.id, res);
    if (!backend) return;
    const body = parseOr400(stateBody, req.body, res);
    if (!body) return;
    upstream.setState(backend.id, body.state);
    res.json(control.view(backend));
  });

  router.post('/backends', (req, res) => {
    const body = parseOr400(addBody, req.body, res);
    if (!body) return;
    const id = body.id ?? control.newId();
    if (upstream.get(id)) {
      sendApiError(res, 409, 'backend_exists', `a backend with id "${id}" exists${control.isRemoving(id) ? ' (draining before removal; retry once it is gone)' : ''}`);
      return;
    }
    const backend = control.admit(id, body.url, body.weight);
    if (!backend) throw new Error(`the admit callback did not add backend "${id}" to the upstream`);
    res.status(201).location(`/v1/backends/${encodeURIComponent(id)}`).json(control.view(backend));
  });

  router.delete('/backends/:id', async (req, res) => {
    const query = parseOr400(deleteQuery, req.query, res, 'invalid_query');
    if (!query) return;
    const backend = upstream.get(req.params.id);
    if (!backend) {
      sendApiError(res, 404, 'backend_not_found', `no backend with id "${req.params.id}"`);
      return;
    }
    const drainTimeoutMs = query.drainTimeoutMs ?? control.defaultDrainTimeoutMs;
    const removal = control.remove(backend.id, drainTimeoutMs);
    if (!query.wait) {
      res.status(202).json({ ...control.view(backend), drainTimeoutMs });
      return;
    }
    const { drained } = await removal;
    res.json({ id: backend.id, removed: true, drained });
  });

  return router;
}
