/**
 * A fake Compute Engine API on 127.0.0.1:0 for one zonal managed instance group, speaking the
 * REST wire format of compute/v1 so the real @google-cloud/compute clients (REST transport, path
 * transcoding, JSON decoding, paging, error handling) run against it:
 *
 *   GET  /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{g}                        → InstanceGroupManager
 *   POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{g}/listManagedInstances   → { managedInstances, nextPageToken? }
 *   POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{g}/resize?size=N          → Operation
 *   POST /compute/v1/projects/{p}/zones/{z}/instanceGroupManagers/{g}/deleteInstances        → Operation; body { instances: [url...] }
 *   GET  /compute/v1/projects/{p}/zones/{z}/instances/{name}                                 → Instance
 *
 * Every request must carry `Authorization: Bearer ...` (present, not verified), else 401. Errors
 * use the Compute error body: { error: { code, message, errors: [{ message, domain, reason }],
 * status } }; an unknown group or instance is 404 notFound with "The resource '...' was not found".
 *
 * Group behaviour: resize up adds CREATING instances (no VM yet, so instances.get is 404) that
 * turn NONE / RUNNING after `creatingLists` listManagedInstances calls; resize down marks the
 * newest instances DELETING; deleteInstances marks exactly the named ones DELETING and lowers
 * targetSize by one each (400 if one is not a member or is already being deleted, and then nothing
 * changes). A DELETING instance is shown by one more list, then leaves the group. Operations come
 * back with status RUNNING (scheduled), as the real API answers before the actions finish.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer } from './servers.js';

export type GceMethod = 'get-group' | 'list' | 'resize' | 'deleteInstances' | 'get-instance';

export interface FakeManagedInstanceSeed {
  readonly name?: string;
  /** ManagedInstance.currentAction; default 'NONE'. */
  readonly currentAction?: string;
  /** Instance status; default RUNNING for NONE, absent (no VM yet) for CREATING. */
  readonly instanceStatus?: string;
  readonly networkIP?: string;
  readonly creationTimestamp?: string;
}

export interface FakeGceOptions {
  readonly project: string;
  readonly zone: string;
  readonly group: string;
  readonly instances?: readonly FakeManagedInstanceSeed[];
  /** listManagedInstances calls a new instance stays CREATING before NONE / RUNNING; default 1. */
  readonly creatingLists?: number;
  /** Managed instances per listManagedInstances page, to exercise nextPageToken; default all. */
  readonly pageSize?: number;
}

export interface RecordedGceRequest {
  readonly method: GceMethod | 'unknown';
  readonly httpMethod: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly authorization: string | undefined;
}

export interface FakeGceError {
  /** HTTP status, e.g. 429. */
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  /** google.rpc.Code name, e.g. 'RESOURCE_EXHAUSTED'; left out of the body when absent. */
  readonly status?: string;
  /** Retry-After header value in seconds. */
  readonly retryAfterSeconds?: number;
}

interface FakeInstance {
  readonly name: string;
  readonly id: string;
  currentAction: string;
  instanceStatus: string | undefined;
  readonly networkIP: string;
  readonly creationTimestamp: string;
  creatingLeft: number;
}

class GceError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly status?: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

const GOOGLEAPIS = 'https://www.googleapis.com/compute/v1';

/** Starts the fake; see the module comment for what it models. */
export async function startGceEndpoint(options: FakeGceOptions) {
  const { project, zone, group: groupName } = options;
  const zonePath = `projects/${project}/zones/${zone}`;
  const groupPath = `${zonePath}/instanceGroupManagers/${groupName}`;
  const requests: RecordedGceRequest[] = [];
  const failures: Array<{ method: GceMethod; error: FakeGceError }> = [];
  const hanging: GceMethod[] = [];
  const operationErrors: Array<{ method: GceMethod; code: string; message: string; httpStatus: number }> = [];
  let sequence = 0;
  let operations = 0;
  const create = (seed: FakeManagedInstanceSeed = {}): FakeInstance => {
    sequence += 1;
    const action = seed.currentAction ?? 'CREATING';
    return {
      name: seed.name ?? `${groupName}-${randomBytes(2).toString('hex')}${sequence}`,
      id: String(4_000_000_000_000_000_000n + BigInt(sequence)),
      currentAction: action,
      instanceStatus: 'instanceStatus' in seed ? seed.instanceStatus : action === 'NONE' ? 'RUNNING' : undefined,
      networkIP: seed.networkIP ?? `10.128.${Math.floor(sequence / 250)}.${(sequence % 250) + 2}`,
      creationTimestamp: seed.creationTimestamp ?? new Date().toISOString(),
      creatingLeft: options.creatingLists ?? 1,
    };
  };
  const members: FakeInstance[] = (options.instances ?? []).map((seed) => create({ currentAction: 'NONE', ...seed }));
  let targetSize = members.filter((m) => !['DELETING', 'ABANDONING'].includes(m.currentAction)).length;
  const live = () => members.filter((m) => m.currentAction !== 'DELETING' && m.currentAction !== 'ABANDONING');
  const instanceUrl = (name: string) => `${GOOGLEAPIS}/${zonePath}/instances/${name}`;

  function operation(method: 'resize' | 'deleteInstances') {
    operations += 1;
    const failed = operationErrors.findIndex((o) => o.method === method);
    const failure = failed >= 0 ? operationErrors.splice(failed, 1)[0] : undefined;
    const name = `operation-${Date.now()}-${randomBytes(6).toString('hex')}`;
    return {
      kind: 'compute#operation',
      id: String(7_000_000_000_000_000_000n + BigInt(operations)),
      name,
      zone: `${GOOGLEAPIS}/${zonePath}`,
      operationType: `compute.instanceGroupManagers.${method}`,
      targetLink: `${GOOGLEAPIS}/${groupPath}`,
      targetId: '1234567890123456789',
      status: failure ? 'DONE' : 'RUNNING',
      user: 'prescale@example.iam.gserviceaccount.com',
      progress: failure ? 100 : 0,
      insertTime: new Date().toISOString(),
      startTime: new Date().toISOString(),
      selfLink: `${GOOGLEAPIS}/${zonePath}/operations/${name}`,
      ...(failure
        ? { endTime: new Date().toISOString(), error: { errors: [{ code: failure.code, message: failure.message }] }, httpErrorStatusCode: failure.httpStatus, httpErrorMessage: 'FORBIDDEN' }
        : {}),
    };
  }

  function groupResource() {
    const count = (action: string) => members.filter((m) => m.currentAction === action).length;
    return {
      kind: 'compute#instanceGroupManager',
      id: '1234567890123456789',
      creationTimestamp: '2024-01-15T02:00:00.000-08:00',
      name: groupName,
      zone: `${GOOGLEAPIS}/${zonePath}`,
      instanceTemplate: `${GOOGLEAPIS}/projects/${project}/global/instanceTemplates/${groupName}-template`,
      instanceGroup: `${GOOGLEAPIS}/${zonePath}/instanceGroups/${groupName}`,
      baseInstanceName: groupName,
      fingerprint: randomBytes(8).toString('base64'),
      currentActions: { none: count('NONE'), creating: count('CREATING'), deleting: count('DELETING'), abandoning: count('ABANDONING'), recreating: 0, refreshing: 0, restarting: 0, verifying: count('VERIFYING') },
      status: { isStable: members.every((m) => m.currentAction === 'NONE') },
      targetSize,
      selfLink: `${GOOGLEAPIS}/${groupPath}`,
      updatePolicy: { type: 'OPPORTUNISTIC', instanceRedistributionType: 'NONE', minimalAction: 'REPLACE' },
    };
  }

  function managedInstance(m: FakeInstance) {
    return {
      instance: instanceUrl(m.name),
      name: m.name,
      ...(m.instanceStatus ? { id: m.id, instanceStatus: m.instanceStatus } : {}),
      currentAction: m.currentAction,
      version: { instanceTemplate: `${GOOGLEAPIS}/projects/${project}/global/instanceTemplates/${groupName}-template` },
    };
  }

  /** One list later: CREATING counts down to NONE / RUNNING, DELETING leaves the group. */
  function advance(): void {
    for (let i = members.length - 1; i >= 0; i -= 1) {
      const m = members[i] as FakeInstance;
      if (m.currentAction === 'DELETING' || m.currentAction === 'ABANDONING') members.splice(i, 1);
      else if (m.currentAction === 'CREATING' && --m.creatingLeft <= 0) {
        m.currentAction = 'NONE';
        m.instanceStatus = 'RUNNING';
      }
    }
  }

  function list(query: Record<string, string>) {
    const start = Number(query.pageToken ?? 0);
    const size = Math.min(options.pageSize ?? Infinity, Number(query.maxResults ?? Infinity));
    const page = members.slice(start, start + size).map(managedInstance);
    const more = start + size < members.length;
    if (!more) advance();
    return { managedInstances: page, ...(more ? { nextPageToken: String(start + size) } : {}) };
  }

  function resize(query: Record<string, string>) {
    const size = Number(query.size);
    if (!Number.isInteger(size) || size < 0) throw new GceError(400, 'invalid', `Invalid value for field 'size': '${query.size}'. Must be greater than or equal to 0.`, 'INVALID_ARGUMENT');
    const current = live();
    for (let i = current.length; i < size; i += 1) members.push(create());
    // like the MIG: give up instances that are still being created before running ones, newest first
    const byPreference = [...current].reverse().sort((a, b) => Number(b.currentAction === 'CREATING') - Number(a.currentAction === 'CREATING'));
    for (const victim of byPreference.slice(0, Math.max(0, current.length - size))) victim.currentAction = 'DELETING';
    targetSize = size;
    return operation('resize');
  }

  function deleteInstances(body: unknown) {
    const urls = (body as { instances?: unknown })?.instances;
    if (!Array.isArray(urls) || urls.length === 0) throw new GceError(400, 'required', "Required field 'instances' not specified", 'INVALID_ARGUMENT');
    const victims = urls.map((url) => {
      const name = String(url).split('/').pop() ?? '';
      const member = members.find((m) => m.name === name);
      if (!member || member.currentAction === 'DELETING' || member.currentAction === 'ABANDONING') {
        throw new GceError(400, 'invalid', `Instance '${instanceUrl(name)}' is not a member of the managed instance group or is already being deleted or abandoned.`, 'INVALID_ARGUMENT');
      }
      return member;
    });
    for (const victim of victims) victim.currentAction = 'DELETING';
    targetSize -= victims.length;
    return operation('deleteInstances');
  }

  function getInstance(name: string) {
    const m = members.find((candidate) => candidate.name === name);
    if (!m || m.instanceStatus === undefined) throw notFound(`${zonePath}/instances/${name}`);
    return {
      kind: 'compute#instance',
      id: m.id,
      creationTimestamp: m.creationTimestamp,
      name: m.name,
      machineType: `${GOOGLEAPIS}/${zonePath}/machineTypes/e2-small`,
      status: m.instanceStatus,
      zone: `${GOOGLEAPIS}/${zonePath}`,
      networkInterfaces: [
        {
          kind: 'compute#networkInterface',
          name: 'nic0',
          network: `${GOOGLEAPIS}/projects/${project}/global/networks/default`,
          subnetwork: `${GOOGLEAPIS}/projects/${project}/regions/${zone.replace(/-[a-z]$/, '')}/subnetworks/default`,
          networkIP: m.networkIP,
          stackType: 'IPV4_ONLY',
          fingerprint: randomBytes(8).toString('base64'),
        },
      ],
      metadata: { kind: 'compute#metadata', items: [{ key: 'created-by', value: `${groupPath}` }] },
      selfLink: instanceUrl(m.name),
    };
  }

  function route(httpMethod: string, path: string): { method: GceMethod; name?: string } | undefined {
    const prefix = `/compute/v1/${zonePath}/`;
    if (!path.startsWith(prefix)) return undefined;
    const rest = path.slice(prefix.length).split('/');
    if (rest[0] === 'instances' && rest.length === 2 && httpMethod === 'GET') return { method: 'get-instance', name: rest[1] };
    if (rest[0] !== 'instanceGroupManagers' || rest.length < 2) return undefined;
    const verb = rest[2];
    if (rest.length === 2 && httpMethod === 'GET') return { method: 'get-group', name: rest[1] };
    if (rest.length === 3 && httpMethod === 'POST' && verb === 'listManagedInstances') return { method: 'list', name: rest[1] };
    if (rest.length === 3 && httpMethod === 'POST' && (verb === 'resize' || verb === 'deleteInstances')) return { method: verb, name: rest[1] };
    return undefined;
  }

  function dispatch(method: GceMethod, name: string, query: Record<string, string>, body: unknown): unknown {
    const failed = failures.findIndex((f) => f.method === method);
    if (failed >= 0) {
      const { error } = failures.splice(failed, 1)[0] as { error: FakeGceError };
      throw new GceError(error.code, error.reason, error.message, error.status, error.retryAfterSeconds);
    }
    if (method === 'get-instance') return getInstance(name);
    if (name !== groupName) throw notFound(`${zonePath}/instanceGroupManagers/${name}`);
    if (method === 'get-group') return groupResource();
    if (method === 'list') return list(query);
    if (method === 'resize') return resize(query);
    return deleteInstances(body);
  }

  const server = await startServer((req, res) => {
    void readBody(req).then((text) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const query = Object.fromEntries(url.searchParams);
      const httpMethod = req.method ?? 'GET';
      const found = route(httpMethod, decodeURIComponent(url.pathname));
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // recorded as text
      }
      const authorization = req.headers.authorization;
      requests.push({ method: found?.method ?? 'unknown', httpMethod, path: url.pathname, query, body, authorization });
      if (found && hanging.includes(found.method)) {
        hanging.splice(hanging.indexOf(found.method), 1);
        return;
      }
      try {
        if (!authorization?.startsWith('Bearer ')) {
          throw new GceError(401, 'required', 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'UNAUTHENTICATED');
        }
        if (!found) throw new GceError(404, 'notFound', `The requested URL ${url.pathname} was not found on this server.`);
        send(res, 200, dispatch(found.method, found.name ?? '', query, body));
      } catch (caught) {
        const error = caught instanceof GceError ? caught : new GceError(500, 'backendError', String(caught), 'INTERNAL');
        sendError(res, error);
      }
    });
  });

  return {
    url: server.url,
    port: server.port,
    /** Every request in arrival order. */
    requests,
    /** The group now: targetSize and each member's name and action (a copy). */
    group: () => ({ targetSize, members: members.map((m) => ({ name: m.name, currentAction: m.currentAction, instanceStatus: m.instanceStatus })) }),
    /** The next `times` calls of `method` fail with `error` instead of acting. */
    failNext(method: GceMethod, error: FakeGceError, times = 1): void {
      for (let i = 0; i < times; i += 1) failures.push({ method, error });
    },
    /** The next call of `method` is never answered. */
    hangNext(method: GceMethod): void {
      hanging.push(method);
    },
    /** The next `method` operation comes back DONE with this error (the change still applies). */
    failNextOperation(method: 'resize' | 'deleteInstances', code: string, message: string, httpStatus = 403): void {
      operationErrors.push({ method, code, message, httpStatus });
    },
    close: () => server.close(),
  };
}

export type FakeGceEndpoint = Awaited<ReturnType<typeof startGceEndpoint>>;

function notFound(resource: string): GceError {
  // Compute's 404 body has no google.rpc `status`, only the legacy errors[].reason
  return new GceError(404, 'notFound', `The resource '${resource}' was not found`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: GceError): void {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8' };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  res.writeHead(error.code, headers);
  const detail = { message: error.message, domain: error.code === 429 ? 'usageLimits' : 'global', reason: error.reason };
  res.end(JSON.stringify({ error: { code: error.code, message: error.message, errors: [detail], ...(error.status ? { status: error.status } : {}) } }));
}
