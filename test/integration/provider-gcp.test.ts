import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { GcpManagedInstanceGroupProvider, type GcpProviderOptions } from '../../src/scaler/providers/gcp.js';
import { RATE_LIMIT_WINDOW_MS } from '../../src/scaler/providers/gcp-errors.js';
import { managedInstanceState } from '../../src/scaler/providers/gcp-instances.js';
import { withRetries } from '../../src/scaler/providers/retrying.js';
import { startGceEndpoint, type FakeGceEndpoint, type FakeGceOptions } from '../helpers/gce-endpoint.js';
import { deadPort } from '../helpers/servers.js';

const PROJECT = 'prescale-test';
const ZONE = 'europe-west1-b';
const GROUP = 'web';
const TOKEN = 'ya29.test-token-not-real';

// Every socket this file opens, by destination: nothing may try to reach Google (API, OAuth2 or
// the metadata server), only the fake on 127.0.0.1.
const destinations: string[] = [];
const originalConnect = net.Socket.prototype.connect;
beforeAll(() => {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as { host?: string; path?: string } | number | string;
    destinations.push(typeof options === 'object' && options !== null ? String(options.host ?? options.path ?? 'localhost') : String(args[1] ?? 'localhost'));
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
});

const endpoints: FakeGceEndpoint[] = [];
const providers: GcpManagedInstanceGroupProvider[] = [];

afterAll(async () => {
  net.Socket.prototype.connect = originalConnect;
  await Promise.all(providers.map((p) => p.close()));
  await Promise.all(endpoints.map((e) => e.close()));
  expect(destinations.length).toBeGreaterThan(0);
  expect(new Set(destinations)).toEqual(new Set(['127.0.0.1']));
});

async function setup(fake: Partial<FakeGceOptions> = {}, overrides: Partial<GcpProviderOptions> = {}) {
  const gce = await startGceEndpoint({ project: PROJECT, zone: ZONE, group: GROUP, ...fake });
  endpoints.push(gce);
  const warnings: string[] = [];
  const logger = { info: () => {}, error: () => {}, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
  const provider = new GcpManagedInstanceGroupProvider({ project: PROJECT, zone: ZONE, group: GROUP, port: 8080, apiEndpoint: gce.url, accessToken: TOKEN, logger, ...overrides });
  providers.push(provider);
  return { gce, provider, warnings };
}

/** The calls that change the group, as "method arg". */
function writes(gce: FakeGceEndpoint): string[] {
  return gce.requests
    .filter((r) => r.method === 'resize' || r.method === 'deleteInstances')
    .map((r) => (r.method === 'resize' ? `resize ${r.query.size}` : `deleteInstances ${((r.body as { instances: string[] }).instances).map((u) => u.split('/').pop()).join(',')}`));
}

async function failure(promise: Promise<unknown>): Promise<PrescaleError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PrescaleError);
  return error as PrescaleError;
}

describe('managedInstanceState', () => {
  it.each([
    ['NONE', 'RUNNING', 'running'],
    ['REFRESHING', 'RUNNING', 'running'],
    ['NONE', 'STAGING', 'provisioning'],
    ['NONE', undefined, 'provisioning'],
    ['CREATING', undefined, 'provisioning'],
    ['CREATING_WITHOUT_RETRIES', 'PROVISIONING', 'provisioning'],
    ['RECREATING', 'STOPPING', 'provisioning'],
    ['VERIFYING', 'RUNNING', 'provisioning'],
    ['STARTING', 'STAGING', 'provisioning'],
    ['RESUMING', 'SUSPENDED', 'provisioning'],
    ['SOMETHING_NEW', 'RUNNING', 'provisioning'],
    ['DELETING', 'RUNNING', null],
    ['ABANDONING', 'RUNNING', null],
    ['STOPPING', 'RUNNING', null],
    ['NONE', 'STOPPED', null],
    ['NONE', 'SUSPENDED', null],
    ['NONE', 'TERMINATED', null],
  ] as const)('currentAction %s with instanceStatus %s is %s', (action, status, expected) => {
    expect(managedInstanceState(action, status)).toBe(expected);
  });
});

describe.concurrent('GcpManagedInstanceGroupProvider against a local Compute Engine endpoint', () => {
  it('describe maps currentAction to states, networkIP to urls and creationTimestamp to requestedAtMs, across pages', async () => {
    const createdAt = '2024-05-01T10:00:00.000-07:00';
    const { gce, provider } = await setup({
      pageSize: 2,
      creatingLists: 10,
      instances: [
        { name: 'web-aaaa', networkIP: '10.0.0.5', creationTimestamp: createdAt },
        { name: 'web-bbbb', currentAction: 'CREATING', instanceStatus: undefined },
        { name: 'web-cccc', currentAction: 'VERIFYING', instanceStatus: 'RUNNING' },
        { name: 'web-dddd', currentAction: 'DELETING' },
        { name: 'web-eeee', currentAction: 'ABANDONING' },
        { name: 'web-ffff', currentAction: 'NONE', instanceStatus: 'STOPPED' },
      ],
    }, { scheme: 'https', port: 8443 });
    const before = Date.now();
    const { instances } = await provider.describe();
    expect(instances.map((i) => [i.id, i.state, i.url])).toEqual([
      ['web-aaaa', 'running', 'https://10.0.0.5:8443'],
      ['web-bbbb', 'provisioning', null],
      ['web-cccc', 'provisioning', null],
    ]);
    expect(instances[0]?.requestedAtMs).toBe(Date.parse(createdAt));
    expect(instances[1]?.requestedAtMs).toBeGreaterThanOrEqual(before);

    const sent = gce.requests.map((r) => `${r.httpMethod} ${r.path.replace(`/compute/v1/projects/${PROJECT}/zones/${ZONE}/`, '')}${r.query.pageToken ? ` page ${r.query.pageToken}` : ''}`);
    expect(sent).toEqual([
      'POST instanceGroupManagers/web/listManagedInstances',
      'POST instanceGroupManagers/web/listManagedInstances page 2',
      'POST instanceGroupManagers/web/listManagedInstances page 4',
      'GET instances/web-aaaa',
    ]);
    expect(new Set(gce.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));

    // the address is cached per VM: a steady fleet costs list calls only
    await provider.describe();
    expect(gce.requests.filter((r) => r.method === 'get-instance')).toHaveLength(1);
  });

  it('scales out with resize: new instances are provisioning, then running with their own addresses; repeats send nothing', async () => {
    const { gce, provider } = await setup({ instances: [{ name: 'web-0001', networkIP: '10.0.0.2' }], creatingLists: 2 });
    await provider.setDesired(3);
    expect(writes(gce)).toEqual(['resize 3']);
    expect(gce.group().targetSize).toBe(3);

    const booting = (await provider.describe()).instances;
    expect(booting.map((i) => i.state)).toEqual(['running', 'provisioning', 'provisioning']);
    expect(booting.slice(1).every((i) => i.url === null && Math.abs(Date.now() - i.requestedAtMs) < 5_000)).toBe(true);
    await provider.describe();
    const running = (await provider.describe()).instances;
    expect(running.map((i) => i.state)).toEqual(['running', 'running', 'running']);
    expect(new Set(running.map((i) => i.url)).size).toBe(3);
    for (const instance of running) expect(instance.url).toMatch(/^http:\/\/10\.128\.\d+\.\d+:8080$|^http:\/\/10\.0\.0\.2:8080$/);
    expect(running.slice(1).map((i) => i.id)).toEqual(booting.slice(1).map((i) => i.id));

    await provider.setDesired(3);
    await provider.setDesired(3);
    expect(writes(gce)).toEqual(['resize 3']);
  });

  it('scales in by deleting exactly the named victims (which lowers targetSize); repeating it sends nothing', async () => {
    const names = ['web-0001', 'web-0002', 'web-0003', 'web-0004'];
    const { gce, provider } = await setup({ instances: names.map((name) => ({ name })) });
    await provider.setDesired(2, { remove: ['web-0002', 'web-0004'] });
    expect(writes(gce)).toEqual(['deleteInstances web-0002,web-0004']);
    const deleted = gce.requests.find((r) => r.method === 'deleteInstances');
    expect(deleted?.body).toEqual({
      instances: [
        `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/web-0002`,
        `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/web-0004`,
      ],
    });
    expect(gce.group().targetSize).toBe(2);
    expect((await provider.describe()).instances.map((i) => i.id)).toEqual(['web-0001', 'web-0003']);

    await provider.setDesired(2, { remove: ['web-0002', 'web-0004'] });
    expect(writes(gce)).toHaveLength(1);
    expect(gce.group().members.map((m) => m.name)).toEqual(['web-0001', 'web-0003']);
  });

  it('deletes the named victims it can and resizes for the rest when a name is unknown', async () => {
    const { gce, provider, warnings } = await setup({ instances: ['web-0001', 'web-0002', 'web-0003', 'web-0004'].map((name) => ({ name })) });
    await provider.setDesired(1, { remove: ['web-0003', 'web-gone'] });
    expect(writes(gce)).toEqual(['deleteInstances web-0003', 'resize 1']);
    expect(warnings).toEqual(['scale-in victim is not in the group; the group picks another']);
    expect(gce.group().targetSize).toBe(1);
    expect(gce.group().members.filter((m) => m.currentAction !== 'DELETING')).toHaveLength(1);
  });

  it('maps 429 rateLimitExceeded to PRESCALE_ERR_PROVIDER with Retry-After as retryAfterMs, without retrying by itself', async () => {
    const { gce, provider } = await setup({ instances: [{ name: 'web-0001' }] });
    gce.failNext('list', { code: 429, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', status: 'RESOURCE_EXHAUSTED', retryAfterSeconds: 7 });
    const err = await failure(provider.describe());
    expect(err.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(err.message).toBe(
      `gcp provider: instanceGroupManagers.listManagedInstances of projects/${PROJECT}/zones/${ZONE}/instanceGroupManagers/${GROUP} failed with HTTP 429 rateLimitExceeded: Rate Limit Exceeded (retry after 7000 ms)`,
    );
    expect(err.details).toMatchObject({ action: 'describe', status: 429, reason: 'rateLimitExceeded', retryAfterMs: 7_000 });
    expect(err.details?.retryable).toBeUndefined();
    expect(gce.requests).toHaveLength(1);

    gce.failNext('resize', { code: 429, reason: 'rateLimitExceeded', message: "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'", status: 'RESOURCE_EXHAUSTED' });
    const noHeader = await failure(provider.setDesired(2));
    expect(noHeader.message).toContain('HTTP 429 rateLimitExceeded');
    expect(noHeader.details).toMatchObject({ action: 'set-desired', status: 429, retryAfterMs: RATE_LIMIT_WINDOW_MS });

    gce.failNext('get-group', { code: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' });
    const legacy = await failure(provider.setDesired(2));
    expect(legacy.details).toMatchObject({ status: 403, reason: 'rateLimitExceeded', retryAfterMs: RATE_LIMIT_WINDOW_MS });
  });

  it('lets withRetries honour the Retry-After of a 429', async () => {
    const { gce, provider } = await setup({ instances: [{ name: 'web-0001', networkIP: '10.0.0.9' }] });
    gce.failNext('list', { code: 429, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', status: 'RESOURCE_EXHAUSTED', retryAfterSeconds: 1 });
    const waits: number[] = [];
    const retrying = withRetries(provider, { attempts: 2, baseDelayMs: 10, maxDelayMs: 5_000, random: () => 0, sleep: async (ms) => void waits.push(ms) });
    expect((await retrying.describe()).instances.map((i) => i.url)).toEqual(['http://10.0.0.9:8080']);
    expect(waits).toEqual([1_000]);
  });

  it('reports an unknown group as a 404 naming the resource and the settings to check, not retryable', async () => {
    const { gce, provider } = await setup({}, { group: 'no-such-group' });
    const err = await failure(provider.describe());
    expect(err.message).toBe(
      `gcp provider: instanceGroupManagers.listManagedInstances of projects/${PROJECT}/zones/${ZONE}/instanceGroupManagers/no-such-group failed with HTTP 404 notFound: ` +
        `The resource 'projects/${PROJECT}/zones/${ZONE}/instanceGroupManagers/no-such-group' was not found; check provider project, zone and group`,
    );
    expect(err.details).toMatchObject({ status: 404, reason: 'notFound', retryable: false });
    const onSet = await failure(provider.setDesired(3));
    expect(onSet.message).toContain('instanceGroupManagers.get of');
    expect(onSet.details).toMatchObject({ action: 'set-desired', status: 404 });
    expect(writes(gce)).toEqual([]);
  });

  it('reports a rejected deleteInstances (victim already going) with the API reason', async () => {
    const { gce, provider } = await setup({ instances: ['web-0001', 'web-0002'].map((name) => ({ name })) });
    gce.failNext('deleteInstances', { code: 400, reason: 'invalid', message: 'Instance is not a member of the managed instance group.', status: 'INVALID_ARGUMENT' });
    const err = await failure(provider.setDesired(1, { remove: ['web-0002'] }));
    expect(err.message).toContain('instanceGroupManagers.deleteInstances of');
    expect(err.message).toContain('HTTP 400 invalid: Instance is not a member');
    expect(err.details).toMatchObject({ status: 400, reason: 'invalid', retryable: false });
    expect(gce.group().targetSize).toBe(2);
  });

  it('reports an operation that comes back failed', async () => {
    const { gce, provider } = await setup({ instances: [{ name: 'web-0001' }] });
    gce.failNextOperation('resize', 'QUOTA_EXCEEDED', "Quota 'CPUS' exceeded. Limit: 8.0 in region europe-west1.");
    const err = await failure(provider.setDesired(9));
    expect(err.message).toBe(
      `gcp provider: instanceGroupManagers.resize of projects/${PROJECT}/zones/${ZONE}/instanceGroupManagers/${GROUP} failed with HTTP 403 QUOTA_EXCEEDED: Quota 'CPUS' exceeded. Limit: 8.0 in region europe-west1.`,
    );
    expect(err.details).toMatchObject({ status: 403, reason: 'QUOTA_EXCEEDED', retryable: false });
  });

  it('gives up on a call that does not answer within timeoutMs', async () => {
    const { gce, provider } = await setup({ instances: [{ name: 'web-0001' }] }, { timeoutMs: 300 });
    gce.hangNext('list');
    const started = Date.now();
    const err = await failure(provider.describe());
    expect(err.message).toBe(`gcp provider: instanceGroupManagers.listManagedInstances of projects/${PROJECT}/zones/${ZONE}/instanceGroupManagers/${GROUP} did not answer within 300 ms`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(gce.requests.filter((r) => r.method === 'list')).toHaveLength(1);
  });

  it('reports an unreachable endpoint', async () => {
    const port = await deadPort();
    const provider = new GcpManagedInstanceGroupProvider({ project: PROJECT, zone: ZONE, group: GROUP, port: 8080, apiEndpoint: `http://127.0.0.1:${port}`, accessToken: TOKEN });
    providers.push(provider);
    const err = await failure(provider.describe());
    expect(err.message).toMatch(/could not reach the Compute API: ECONNREFUSED$/);
    expect(err.details?.retryable).toBeUndefined();
  });

  it('rejects bad options before any request, and refuses to send default credentials over plain HTTP', () => {
    const base = { project: PROJECT, zone: ZONE, group: GROUP, port: 8080, accessToken: TOKEN };
    const configError = (options: GcpProviderOptions): string => {
      try {
        new GcpManagedInstanceGroupProvider(options);
      } catch (error) {
        expect((error as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
        return (error as Error).message;
      }
      throw new Error('expected PRESCALE_ERR_CONFIG');
    };
    expect(configError({ ...base, accessToken: undefined, apiEndpoint: 'http://127.0.0.1:1' })).toMatch(/plain HTTP: set accessToken/);
    expect(configError({ ...base, apiEndpoint: 'ftp://example.com' })).toMatch(/apiEndpoint: expected an http\(s\):\/\/ origin/);
    expect(configError({ ...base, apiEndpoint: 'https://compute.googleapis.com/compute/v1' })).toMatch(/apiEndpoint/);
    expect(configError({ ...base, zone: '' })).toMatch(/zone: expected a non-empty string/);
    expect(configError({ ...base, port: 0 })).toMatch(/port: expected an integer 1–65535/);
    expect(configError({ ...base, timeoutMs: 0 })).toMatch(/timeoutMs/);
  });

  it('does no I/O when built with Application Default Credentials and closed unused', async () => {
    const before = destinations.length;
    const provider = new GcpManagedInstanceGroupProvider({ project: PROJECT, zone: ZONE, group: GROUP, port: 8080 });
    await provider.close();
    expect(destinations.length).toBe(before);
  });

  it('fails after close() without touching the group', async () => {
    const { gce, provider } = await setup({ instances: [{ name: 'web-0001' }] });
    await provider.close();
    await provider.close();
    const err = await failure(provider.setDesired(0));
    expect(err.details).toMatchObject({ action: 'set-desired', retryable: false });
    expect(gce.requests).toEqual([]);
    expect(gce.group().targetSize).toBe(1);
  });
});
