import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { KubernetesProvider, statefulSetVictims, type KubernetesProviderOptions } from '../../src/scaler/providers/kubernetes.js';
import type { Fleet } from '../../src/scaler/provider.js';
import { DELETION_COST, startKubeApiServer, type FakeKubeApiServer } from '../helpers/kube-apiserver.js';
import { deadPort } from '../helpers/servers.js';

const TOKEN = 'prescale-test-token';
const servers: FakeKubeApiServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function apiServer(options: { readyAfterLists?: number } = {}): Promise<FakeKubeApiServer> {
  const server = await startKubeApiServer({ token: TOKEN, ...options });
  servers.push(server);
  return server;
}

function provider(api: FakeKubeApiServer, overrides: Partial<KubernetesProviderOptions> = {}) {
  const warnings: string[] = [];
  const logger = { info: () => {}, error: () => {}, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
  const p = new KubernetesProvider({ namespace: 'shop', kind: 'Deployment', name: 'web', port: 8080, kubeConfig: api.kubeConfig(), logger, ...overrides });
  return { p, warnings };
}

async function until(p: KubernetesProvider, done: (fleet: Fleet) => boolean, attempts = 20): Promise<Fleet> {
  for (let i = 0; i < attempts; i += 1) {
    const fleet = await p.describe();
    if (done(fleet)) return fleet;
  }
  throw new Error('fleet never reached the expected state');
}

async function providerError(promise: Promise<unknown>): Promise<PrescaleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PrescaleError);
  return error as PrescaleError;
}

describe('kubernetes provider: describe', () => {
  it('reads the selector from the scale subresource and lists pods by it, with the bearer token', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 1);
    await provider(api).p.describe();
    const [scale, list] = api.requests;
    expect(scale).toMatchObject({ method: 'GET', path: '/apis/apps/v1/namespaces/shop/deployments/web/scale', authorization: `Bearer ${TOKEN}` });
    expect(list).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/shop/pods' });
    expect(list?.query.get('labelSelector')).toBe('app=web');
  });

  it('maps ready Running pods to running at http://podIP:port and the rest to provisioning; terminating and finished pods are left out', async () => {
    const api = await apiServer();
    const web = api.addWorkload('Deployment', 'shop', 'web', 1);
    const running = api.pods('shop')[0]!;
    const pending = api.addPod(web, { phase: 'Pending', listsUntilReady: 99 });
    const notReady = api.addPod(web, { phase: 'Running', ready: false, podIP: '10.244.9.9', nodeName: 'node-1', listsUntilReady: 0 });
    const ipv6 = api.addPod(web, { phase: 'Running', ready: true, podIP: 'fd00::17', nodeName: 'node-1', listsUntilReady: 0 });
    api.addPod(web, { phase: 'Succeeded', nodeName: 'node-1', listsUntilReady: 0 });
    const terminating = api.addPod(web, { phase: 'Running', ready: true, podIP: '10.244.9.10', nodeName: 'node-1', listsUntilReady: 0 });
    api.terminate('shop', terminating.name);
    api.addWorkload('Deployment', 'shop', 'other', 1);

    const { instances } = await provider(api).p.describe();

    expect(instances).toEqual([
      { id: running.name, url: `http://${running.podIP}:8080`, state: 'running', requestedAtMs: Date.parse(running.creationTimestamp) },
      { id: pending.name, url: null, state: 'provisioning', requestedAtMs: Date.parse(pending.creationTimestamp) },
      { id: notReady.name, url: null, state: 'provisioning', requestedAtMs: Date.parse(notReady.creationTimestamp) },
      { id: ipv6.name, url: 'http://[fd00::17]:8080', state: 'running', requestedAtMs: Date.parse(ipv6.creationTimestamp) },
    ]);
  });

  it('lists StatefulSet pods in ordinal order', async () => {
    const api = await apiServer();
    api.addWorkload('StatefulSet', 'shop', 'db', 3);
    // recreate db-0 so that it is the newest pod
    api.pods('shop').find((pod) => pod.name === 'db-0')!.creationTimestamp = '2030-01-01T00:00:00Z';
    const { instances } = await provider(api, { kind: 'StatefulSet', name: 'db' }).p.describe();
    expect(instances.map((i) => i.id)).toEqual(['db-0', 'db-1', 'db-2']);
  });
});

describe('kubernetes provider: setDesired', () => {
  it('scales out with a merge patch of the scale subresource; new pods go from provisioning to running', async () => {
    const api = await apiServer({ readyAfterLists: 2 });
    api.addWorkload('Deployment', 'shop', 'web', 1);
    const { p } = provider(api);

    await p.setDesired(3);

    const patch = api.requests.find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({
      path: '/apis/apps/v1/namespaces/shop/deployments/web/scale',
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 3 } },
    });
    expect(patch?.query.get('fieldManager')).toBe('prescale');
    const first = await p.describe();
    expect(first.instances.map((i) => i.state)).toEqual(['running', 'provisioning', 'provisioning']);
    const later = await until(p, (fleet) => fleet.instances.every((i) => i.state === 'running'));
    expect(later.instances).toHaveLength(3);
    expect(later.instances.every((i) => /^http:\/\/10\.244\.0\.\d+:8080$/.test(i.url ?? ''))).toBe(true);
  });

  it('is idempotent: the same desired size twice leaves the same fleet', async () => {
    const api = await apiServer({ readyAfterLists: 1 });
    api.addWorkload('Deployment', 'shop', 'web', 1);
    const { p } = provider(api);
    await p.setDesired(2);
    await p.setDesired(2);
    const fleet = await until(p, (f) => f.instances.every((i) => i.state === 'running'));
    expect(fleet.instances).toHaveLength(2);
  });

  it('scale-in with named victims removes exactly those pods', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 5);
    const { p } = provider(api);
    const ids = (await p.describe()).instances.map((i) => i.id);
    const victims = [ids[1]!, ids[3]!];

    await p.setDesired(3, { remove: victims });

    const annotations = api.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/pods/'));
    expect(annotations.map((r) => r.path.split('/').pop()).sort()).toEqual([...victims].sort());
    for (const r of annotations) {
      expect(r.contentType).toBe('application/merge-patch+json');
      expect(r.body).toEqual({ metadata: { annotations: { [DELETION_COST]: '-1000' } } });
    }
    const fleet = await until(p, (f) => f.instances.length === 3);
    expect(fleet.instances.map((i) => i.id)).toEqual([ids[0], ids[2], ids[4]]);
  });

  it('a victim marked by a scale-in that failed is not removed by the next scale-in', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 3);
    const { p } = provider(api);
    const ids = (await p.describe()).instances.map((i) => i.id);
    api.failNext({ code: 429, reason: 'TooManyRequests', message: 'slow down', retryAfterSeconds: 1, match: { method: 'PATCH', pathIncludes: '/scale' } });
    await expect(p.setDesired(2, { remove: [ids[0]!] })).rejects.toThrow(/429/);
    expect(api.pod('shop', ids[0]!)?.annotations[DELETION_COST]).toBe('-1000');

    await p.setDesired(2, { remove: [ids[2]!] });

    expect(api.pod('shop', ids[0]!)?.annotations[DELETION_COST]).toBeUndefined();
    const fleet = await until(p, (f) => f.instances.length === 2);
    expect(fleet.instances.map((i) => i.id)).toEqual([ids[0], ids[1]]);
  });

  it('warns about a victim that is gone and still sets the size', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 2);
    const { p, warnings } = provider(api);
    await p.setDesired(2, { remove: ['web-gone-12345'] });
    expect(warnings).toEqual(['scale-in victim is not in the fleet; ignoring it']);
    expect(api.requests.at(-1)).toMatchObject({ method: 'PATCH', body: { spec: { replicas: 2 } } });
  });

  it('warns when a not-ready pod outranks a ready victim for the ReplicaSet controller', async () => {
    const api = await apiServer();
    const web = api.addWorkload('Deployment', 'shop', 'web', 2);
    api.addPod(web, { listsUntilReady: 99 });
    const { p, warnings } = provider(api);
    const ready = (await p.describe()).instances.find((i) => i.state === 'running')!;
    await p.setDesired(2, { remove: [ready.id] });
    expect(warnings).toEqual([expect.stringContaining('deletes not-ready pods before ready ones')]);
  });

  it('StatefulSet: removes the highest-ordinal victims and refuses any other victim', async () => {
    const api = await apiServer();
    api.addWorkload('StatefulSet', 'shop', 'db', 4);
    const { p } = provider(api, { kind: 'StatefulSet', name: 'db' });
    const fleet = await p.describe();

    const error = await providerError(p.setDesired(3, { remove: ['db-1'] }));
    expect(error.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(error.message).toContain('removes its highest ordinals on scale-in (db-3), not db-1');
    expect(api.requests.some((r) => r.method === 'PATCH')).toBe(false);

    const victims = statefulSetVictims(fleet.instances, 2, 'db').map((i) => i.id);
    expect(victims).toEqual(['db-3', 'db-2']);
    await p.setDesired(2, { remove: victims });
    expect(api.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual(['/apis/apps/v1/namespaces/shop/statefulsets/db/scale']);
    const after = await until(p, (f) => f.instances.length === 2);
    expect(after.instances.map((i) => i.id)).toEqual(['db-0', 'db-1']);
  });

  it('refuses a bad size and calls after close()', async () => {
    const api = await apiServer();
    const { p } = provider(api);
    await expect(p.setDesired(-1)).rejects.toMatchObject({ code: 'PRESCALE_ERR_PROVIDER' });
    await p.close();
    await expect(p.setDesired(1)).rejects.toThrow('kubernetes provider is closed');
    expect(api.requests).toEqual([]);
  });
});

describe('kubernetes provider: errors', () => {
  it('a missing Deployment is a PRESCALE_ERR_PROVIDER naming it, with status and reason', async () => {
    const api = await apiServer();
    const error = await providerError(provider(api, { name: 'nope' }).p.describe());
    expect(error.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(error.message).toBe(
      'kubernetes: read scale of Deployment shop/nope failed: HTTP 404 NotFound: deployments.apps "nope" not found (check provider namespace, kind and name)',
    );
    expect(error.details).toEqual({ status: 404, reason: 'NotFound' });
  });

  it('429 carries retryAfterMs from Retry-After', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 1);
    api.failNext({ code: 429, reason: 'TooManyRequests', message: 'too many requests, please try again later', retryAfterSeconds: 7 });
    const error = await providerError(provider(api).p.setDesired(2));
    expect(error.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(error.message).toMatch(/^kubernetes: scale Deployment shop\/web to 2 failed: HTTP 429 TooManyRequests: too many requests/);
    expect(error.details).toEqual({ status: 429, reason: 'TooManyRequests', retryAfterMs: 7_000 });
  });

  it('a wrong token is 401 Unauthorized with a hint', async () => {
    const api = await apiServer();
    const p = new KubernetesProvider({ namespace: 'shop', kind: 'Deployment', name: 'web', port: 8080, kubeConfig: api.kubeConfig('wrong') });
    const error = await providerError(p.describe());
    expect(error.message).toContain('HTTP 401 Unauthorized');
    expect(error.message).toContain('check the credentials');
  });

  it('an API server that does not answer fails after requestTimeoutMs; one that is down fails at once', async () => {
    const api = await apiServer();
    api.hangNext();
    const slow = await providerError(provider(api, { requestTimeoutMs: 200 }).p.describe());
    expect(slow.message).toBe('kubernetes: read scale of Deployment shop/web failed: no answer within 200 ms');

    const down = await providerError(provider(api, { kubeConfig: api.kubeConfig(TOKEN, `http://127.0.0.1:${await deadPort()}`) }).p.describe());
    expect(down.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(down.message).toContain('ECONNREFUSED');
  });

  it('bad options are PRESCALE_ERR_CONFIG, all problems at once', () => {
    expect(() => new KubernetesProvider({ namespace: 'Shop!', kind: 'Deployment', name: 'web', port: 0, kubeConfig: undefined, server: 'http://127.0.0.1:1' })).toThrow(
      /namespace: expected a DNS label.*; port: expected 1-65535, got 0/,
    );
  });

  it('refuses plain http to anything but a loopback address, so a token never crosses a network in clear', async () => {
    const api = await apiServer();
    const options = { namespace: 'shop', kind: 'Deployment', name: 'web', port: 8080, kubeConfig: api.kubeConfig() } as const;
    expect(() => new KubernetesProvider({ ...options, server: 'http://10.0.0.1:8080' })).toThrow(
      expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG', message: expect.stringContaining('plain http is allowed to a loopback address only') }),
    );
    expect(() => new KubernetesProvider({ ...options, server: 'kube:6443' })).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG' }));
  });
});

describe('kubernetes provider: connection settings', () => {
  it('loads a kubeconfig file and lets `server` replace its cluster URL, keeping the user', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 2);
    const dir = mkdtempSync(join(tmpdir(), 'prescale-kube-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: prod, cluster: { server: "https://kube.invalid:6443" } }]',
        `users: [{ name: bot, user: { token: "${TOKEN}" } }]`,
        'contexts: [{ name: prod, context: { cluster: prod, user: bot } }]',
        'current-context: prod',
      ].join('\n'),
    );
    const p = new KubernetesProvider({ namespace: 'shop', kind: 'Deployment', name: 'web', port: 8080, kubeconfig: file, server: api.url });
    expect((await p.describe()).instances).toHaveLength(2);
    expect(api.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('client-node 1.3 sends application/json-patch+json for a patch unless told otherwise (why the provider sets merge patch)', async () => {
    const api = await apiServer();
    api.addWorkload('Deployment', 'shop', 'web', 1);
    const apps = api.kubeConfig().makeApiClient(AppsV1Api);
    await expect(apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'shop', body: { spec: { replicas: 2 } } })).rejects.toMatchObject({ code: 400 });
    expect(api.requests.at(-1)?.contentType).toBe('application/json-patch+json');
  });
});

describe('statefulSetVictims', () => {
  const pods = ['db-0', 'db-1', 'db-10', 'db-2', 'other-3', 'db-x'].map((id) => ({ id }));
  it.each([
    { count: 2, statefulSet: 'db', expected: ['db-10', 'db-2'] },
    { count: 0, statefulSet: 'db', expected: [] },
    { count: -1, statefulSet: 'db', expected: [] },
    { count: Number.NaN, statefulSet: 'db', expected: [] },
    { count: 9, statefulSet: 'db', expected: ['db-10', 'db-2', 'db-1', 'db-0'] },
    { count: 2.7, statefulSet: 'db', expected: ['db-10', 'db-2'] },
    { count: 2, statefulSet: undefined, expected: ['db-10', 'other-3'] },
  ])('removes the $count highest ordinals of $statefulSet', ({ count, statefulSet, expected }) => {
    const copy = [...pods];
    expect(statefulSetVictims(pods, count, statefulSet).map((p) => p.id)).toEqual(expected);
    expect(pods).toEqual(copy);
  });
});
