/**
 * A fake Kubernetes API server on 127.0.0.1:0 for the kubernetes provider's tests. It answers in
 * the real wire format (Scale, PodList, Pod, Status objects) for the few endpoints the provider
 * uses, keeps state, and plays the controllers:
 *
 * - PATCH .../{deployments|statefulsets}/{name}/scale (merge or strategic merge patch only, as
 *   the real server; a JSON-patch body that is not an array gets 400 like the real one) sets
 *   spec.replicas and reconciles at once.
 * - Deployment scale-out adds Pending pods named like ReplicaSet pods; StatefulSet scale-out adds
 *   the missing ordinals. A Pending pod becomes Running + Ready with a pod IP after
 *   `readyAfterLists` pod list calls.
 * - Deployment scale-in ranks pods as the ReplicaSet controller does (pkg/controller/controller_utils.go
 *   ActivePodsWithRanks, simplified): unscheduled < scheduled, Pending < Running, not ready <
 *   ready, lower controller.kubernetes.io/pod-deletion-cost first, then newer first. StatefulSet
 *   scale-in removes the highest ordinals.
 * - A removed pod is terminating (deletionTimestamp set) for one more pod list, then gone.
 * - `failNext` queues an error answer (Status object, optional Retry-After); `hangNext` never answers.
 * - Every request is recorded with its content-type, authorization and parsed body.
 * - coordination.k8s.io/v1 Leases (leader election): GET, POST (409 AlreadyExists when present)
 *   and PUT with optimistic concurrency like the real server: a PUT whose metadata.resourceVersion
 *   is not the current one gets 409 Conflict, one without it 422 Invalid (Leases allow no
 *   unconditional update). Every write bumps the resourceVersion.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface FakePod {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  creationTimestamp: string;
  deletionTimestamp?: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  podIP?: string;
  nodeName?: string;
  /** Pod list calls left until a Pending pod turns Running + Ready. */
  listsUntilReady: number;
}

export interface FakeWorkload {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
  replicas: number;
  labels: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

interface Failure {
  code: number;
  reason: string;
  message: string;
  retryAfterSeconds?: number;
  match?: { method?: string; pathIncludes?: string };
}

const RESOURCE = { Deployment: 'deployments', StatefulSet: 'statefulsets' } as const;
const SCALE_PATH = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets)\/([^/]+)\/scale$/;
const PODS_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/;
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;
const LEASES_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;

/** A stored Lease as the API server returns it. */
export interface FakeLease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string; annotations?: Record<string, string> };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export async function startKubeApiServer(options: { readyAfterLists?: number; token?: string } = {}) {
  const readyAfterLists = options.readyAfterLists ?? 2;
  const workloads = new Map<string, FakeWorkload>();
  const pods = new Map<string, FakePod>();
  const leases = new Map<string, FakeLease>();
  let leaseVersion = 100;
  const requests: RecordedRequest[] = [];
  const failures: Failure[] = [];
  let hangs = 0;
  let sequence = 0;
  let ipSequence = 0;
  let clockMs = Date.parse('2025-01-01T00:00:00Z');

  const key = (namespace: string, name: string): string => `${namespace}/${name}`;
  const tick = (): string => new Date((clockMs += 1_000)).toISOString();
  const podsOf = (w: FakeWorkload): FakePod[] =>
    [...pods.values()].filter((p) => p.namespace === w.namespace && matches(p.labels, w.labels));

  function addPod(workload: FakeWorkload, overrides: Partial<FakePod> = {}): FakePod {
    sequence += 1;
    const name =
      workload.kind === 'StatefulSet'
        ? `${workload.name}-${nextOrdinal(workload)}`
        : `${workload.name}-7d4b9c8f5-${String(sequence).padStart(5, 'x')}`;
    const pod: FakePod = {
      name,
      namespace: workload.namespace,
      uid: `uid-${sequence}`,
      labels: { ...workload.labels },
      annotations: {},
      creationTimestamp: tick(),
      phase: 'Pending',
      ready: false,
      listsUntilReady: readyAfterLists,
      ...overrides,
    };
    pods.set(key(pod.namespace, pod.name), pod);
    return pod;
  }

  function nextOrdinal(w: FakeWorkload): number {
    const taken = new Set(podsOf(w).map((p) => Number(p.name.slice(w.name.length + 1))));
    let ordinal = 0;
    while (taken.has(ordinal)) ordinal += 1;
    return ordinal;
  }

  function reconcile(w: FakeWorkload): void {
    const live = podsOf(w).filter((p) => p.deletionTimestamp === undefined);
    for (let i = live.length; i < w.replicas; i += 1) addPod(w);
    const excess = live.length - w.replicas;
    if (excess <= 0) return;
    const doomed = w.kind === 'StatefulSet' ? [...live].sort(byOrdinalDesc(w.name)) : [...live].sort(replicaSetDeletionRank);
    for (const pod of doomed.slice(0, excess)) pod.deletionTimestamp = tick();
  }

  /** One pod list call: terminating pods go, Pending ones progress. */
  function advance(): void {
    for (const [k, pod] of pods) {
      if (pod.deletionTimestamp !== undefined) {
        pods.delete(k);
        continue;
      }
      if (pod.phase === 'Pending' && pod.listsUntilReady > 0) {
        pod.listsUntilReady -= 1;
        if (pod.listsUntilReady === 0) {
          ipSequence += 1;
          Object.assign(pod, { phase: 'Running', ready: true, podIP: `10.244.0.${ipSequence}`, nodeName: 'node-1' });
        }
      }
    }
  }

  function scaleObject(w: FakeWorkload) {
    const live = podsOf(w).filter((p) => p.deletionTimestamp === undefined);
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: w.name, namespace: w.namespace, uid: `scale-${w.name}`, resourceVersion: String(sequence), creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: { replicas: w.replicas },
      status: { replicas: live.length, selector: Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(',') },
    };
  }

  function route(req: IncomingMessage, url: URL, body: unknown, res: ServerResponse): void {
    const contentType = req.headers['content-type'];
    let m = SCALE_PATH.exec(url.pathname);
    if (m) {
      const [, ns, resource, name] = m as unknown as [string, string, string, string];
      const w = workloads.get(key(ns, name));
      if (!w || RESOURCE[w.kind] !== resource) return notFound(res, `${resource}.apps "${name}" not found`, resource, name);
      if (req.method === 'GET') return send(res, 200, scaleObject(w));
      if (req.method === 'PATCH') {
        if (!isObjectPatch(contentType)) return badPatch(res, contentType, body);
        const replicas = (body as { spec?: { replicas?: unknown } }).spec?.replicas;
        if (typeof replicas === 'number') w.replicas = replicas;
        reconcile(w);
        return send(res, 200, scaleObject(w));
      }
    }
    m = PODS_PATH.exec(url.pathname);
    if (m && req.method === 'GET') {
      const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
      const items = [...pods.values()].filter((p) => p.namespace === m?.[1] && matches(p.labels, selector)).map(podObject);
      advance();
      return send(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(sequence) }, items });
    }
    m = LEASES_PATH.exec(url.pathname);
    if (m) return leaseRoute(req.method ?? '', m[1] as string, m[2], body, res);
    m = POD_PATH.exec(url.pathname);
    if (m && req.method === 'PATCH') {
      const pod = pods.get(key(m[1] as string, m[2] as string));
      if (!pod) return notFound(res, `pods "${m[2]}" not found`, 'pods', m[2] as string);
      if (!isObjectPatch(contentType)) return badPatch(res, contentType, body);
      const annotations = (body as { metadata?: { annotations?: Record<string, string | null> } }).metadata?.annotations ?? {};
      for (const [k, v] of Object.entries(annotations)) {
        if (v === null) delete pod.annotations[k];
        else pod.annotations[k] = v;
      }
      return send(res, 200, podObject(pod));
    }
    return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }

  function leaseRoute(method: string, ns: string, name: string | undefined, body: unknown, res: ServerResponse): void {
    const sent = body as { metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> }; spec?: FakeLease['spec'] } | undefined;
    const store = (leaseName: string, previous: FakeLease | undefined): FakeLease => {
      leaseVersion += 1;
      const lease: FakeLease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: leaseName,
          namespace: ns,
          uid: previous?.metadata.uid ?? `lease-uid-${leaseVersion}`,
          resourceVersion: String(leaseVersion),
          creationTimestamp: previous?.metadata.creationTimestamp ?? tick(),
          ...(sent?.metadata?.annotations ? { annotations: sent.metadata.annotations } : {}),
        },
        spec: sent?.spec ?? {},
      };
      leases.set(key(ns, leaseName), lease);
      return lease;
    };
    const gone = (n: string) => send(res, 404, { ...status(404, 'NotFound', `leases.coordination.k8s.io "${n}" not found`), details: { name: n, group: 'coordination.k8s.io', kind: 'leases' } });
    if (method === 'POST' && name === undefined) {
      const n = sent?.metadata?.name ?? '';
      if (leases.has(key(ns, n))) return send(res, 409, { ...status(409, 'AlreadyExists', `leases.coordination.k8s.io "${n}" already exists`), details: { name: n, group: 'coordination.k8s.io', kind: 'leases' } });
      return send(res, 201, store(n, undefined));
    }
    if (name === undefined) return send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    const current = leases.get(key(ns, name));
    if (method === 'GET') return current ? send(res, 200, current) : gone(name);
    if (method === 'PUT') {
      if (!current) return gone(name);
      const version = sent?.metadata?.resourceVersion;
      if (!version) return send(res, 422, status(422, 'Invalid', `Lease.coordination.k8s.io "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`));
      if (version !== current.metadata.resourceVersion) {
        return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`));
      }
      return send(res, 200, store(name, current));
    }
    return send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body,
      });
      if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
        return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      }
      if (hangs > 0) {
        hangs -= 1;
        return;
      }
      const index = failures.findIndex((f) => (f.match?.method ?? req.method) === req.method && url.pathname.includes(f.match?.pathIncludes ?? ''));
      if (index >= 0) {
        const [failure] = failures.splice(index, 1) as [Failure];
        const headers: Record<string, string> = failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
        return send(res, failure.code, status(failure.code, failure.reason, failure.message), headers);
      }
      route(req, url, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    requests,
    /** Create a workload with `replicas` pods already Running + Ready. */
    addWorkload(kind: FakeWorkload['kind'], namespace: string, name: string, replicas: number): FakeWorkload {
      const w: FakeWorkload = { kind, namespace, name, replicas, labels: { app: name } };
      workloads.set(key(namespace, name), w);
      for (let i = 0; i < replicas; i += 1) {
        ipSequence += 1;
        addPod(w, { phase: 'Running', ready: true, podIP: `10.244.0.${ipSequence}`, nodeName: 'node-1', listsUntilReady: 0 });
      }
      return w;
    },
    /** Add one pod to `workload` with the given state (not counted in replicas). */
    addPod,
    pods: (namespace: string): FakePod[] => [...pods.values()].filter((p) => p.namespace === namespace),
    pod: (namespace: string, name: string): FakePod | undefined => pods.get(key(namespace, name)),
    lease: (namespace: string, name: string): FakeLease | undefined => leases.get(key(namespace, name)),
    /** Mark a pod terminating as if deleted by someone else (shown once more, then gone). */
    terminate(namespace: string, name: string): void {
      const pod = pods.get(key(namespace, name));
      if (pod) pod.deletionTimestamp = tick();
    },
    /** Answer the next request that matches with a Status error. */
    failNext(failure: Failure): void {
      failures.push(failure);
    },
    /** Never answer the next request. */
    hangNext(): void {
      hangs += 1;
    },
    /** A KubeConfig built in code, as a user of the provider would for an API server URL and token. */
    kubeConfig(token = options.token ?? 'test-token', server = url): KubeConfig {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server, skipTLSVerify: true }],
        users: [{ name: 'prescale', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'prescale' }],
        currentContext: 'fake',
      });
      return kc;
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeKubeApiServer = Awaited<ReturnType<typeof startKubeApiServer>>;

function podObject(pod: FakePod) {
  const ready = pod.ready ? 'True' : 'False';
  return {
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      labels: pod.labels,
      annotations: pod.annotations,
      creationTimestamp: pod.creationTimestamp,
      ...(pod.deletionTimestamp !== undefined ? { deletionTimestamp: pod.deletionTimestamp } : {}),
    },
    spec: { ...(pod.nodeName ? { nodeName: pod.nodeName } : {}), containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: 8080 }] }] },
    status: {
      phase: pod.phase,
      ...(pod.podIP ? { podIP: pod.podIP, podIPs: [{ ip: pod.podIP }] } : {}),
      conditions: [
        { type: 'PodScheduled', status: pod.nodeName ? 'True' : 'False' },
        { type: 'Ready', status: ready },
      ],
    },
  };
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notFound(res: ServerResponse, message: string, kind: string, name: string): void {
  send(res, 404, { ...status(404, 'NotFound', message), details: { name, group: 'apps', kind } });
}

function isObjectPatch(contentType: string | undefined): boolean {
  return contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json';
}

function badPatch(res: ServerResponse, contentType: string | undefined, body: unknown): void {
  if (contentType === 'application/json-patch+json' && !Array.isArray(body)) {
    return send(res, 400, status(400, 'BadRequest', 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp'));
  }
  send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got ${contentType}`));
}

function send(res: ServerResponse, code: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function parseSelector(selector: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const term of selector.split(',').filter(Boolean)) {
    const [k, v] = term.split('=') as [string, string | undefined];
    out[k] = v ?? '';
  }
  return out;
}

function matches(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function byOrdinalDesc(name: string) {
  return (a: FakePod, b: FakePod): number => Number(b.name.slice(name.length + 1)) - Number(a.name.slice(name.length + 1));
}

/** Lower rank is deleted first (ReplicaSet controller, simplified). */
function replicaSetDeletionRank(a: FakePod, b: FakePod): number {
  const scheduled = (p: FakePod): number => (p.nodeName ? 1 : 0);
  const phase = (p: FakePod): number => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[p.phase] ?? 0;
  const cost = (p: FakePod): number => Number(p.annotations[DELETION_COST] ?? 0);
  return (
    scheduled(a) - scheduled(b) ||
    phase(a) - phase(b) ||
    Number(a.ready) - Number(b.ready) ||
    cost(a) - cost(b) ||
    Date.parse(b.creationTimestamp) - Date.parse(a.creationTimestamp)
  );
}
