/**
 * Leader election through a Kubernetes Lease when the provider is Kubernetes: two replicas
 * (startApp in process) against the fake API server, both with provider kind kubernetes and a
 * lease that takes its namespace, kubeconfig and server from the provider. Only the Lease holder
 * patches the scale subresource; when it stops, it releases the Lease and the other replica leads
 * at its next attempt, without scaling the Deployment again.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { freshLogDir, startConfiguredApp } from '../helpers/app.js';
import { startKubeApiServer, type FakeKubeApiServer } from '../helpers/kube-apiserver.js';

const TOKEN = 'leader-test-token';
const LEASE = { leaseDurationMs: 2_000, renewDeadlineMs: 1_300, renewIntervalMs: 300 };
let api: FakeKubeApiServer;
let kubeconfig: string;
const apps: App[] = [];

function config(identity: string) {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { healthCheck: { intervalMs: 1000, timeoutMs: 200 } },
    series: { intervalMs: 300, logDir: freshLogDir() },
    forecast: { historyFrom: 'none' },
    scaler: { policy: 'reactive', capacityPerBackendRps: 10, minBackends: 2, maxBackends: 4, leadTimeMs: '1s', scaleInStabilizationMs: '1h' },
    provider: { kind: 'kubernetes', namespace: 'shop', target: { kind: 'Deployment', name: 'web' }, port: 8080, kubeconfig, server: api.url, retry: { attempts: 1 } },
    leader: { kind: 'kubernetes', identity, ...LEASE },
  };
}

const leaderOf = async (app: App) =>
  ((await (await request(`http://127.0.0.1:${app.adminPort}/v1/status`)).body.json()) as { leader: { kind: string; isLeader: boolean; holder: string | null; decision: { desired: number } | null } }).leader;
const scalePatches = () => api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/web/scale'));

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

beforeAll(async () => {
  api = await startKubeApiServer({ token: TOKEN });
  const dir = mkdtempSync(join(tmpdir(), 'prescale-kube-leader-'));
  kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{ name: prod, cluster: { server: "https://kube.invalid:6443" } }]',
    `users: [{ name: bot, user: { token: "${TOKEN}" } }]`,
    'contexts: [{ name: prod, context: { cluster: prod, user: bot } }]',
    'current-context: prod',
  ].join('\n'));
});

afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  await api?.close();
});

describe('leader election with a Kubernetes Lease', () => {
  it('only the Lease holder scales the Deployment; on its shutdown the other leads without scaling again', async () => {
    api.addWorkload('Deployment', 'shop', 'web', 1);
    const first = await startConfiguredApp(config('pod-a'));
    apps.push(first);
    const second = await startConfiguredApp(config('pod-b'));
    apps.push(second);
    expect(await leaderOf(first)).toMatchObject({ kind: 'kubernetes', isLeader: true, holder: 'pod-a' });
    expect(await leaderOf(second)).toMatchObject({ kind: 'kubernetes', isLeader: false, holder: 'pod-a' });
    expect(api.lease('shop', 'prescale-leader')?.spec).toMatchObject({ holderIdentity: 'pod-a', leaseDurationSeconds: 2 });

    // the leader raised the Deployment to minBackends once; the follower sees its decision
    await until('follower sees the decision', async () => (await leaderOf(second)).decision?.desired === 2, 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(scalePatches().map((r) => r.body)).toEqual([{ spec: { replicas: 2 } }]);

    // a graceful stop releases the Lease: the follower leads at its next attempt
    await first.stop();
    apps.splice(apps.indexOf(first), 1);
    const tookMs = await until('second leads', async () => (await leaderOf(second)).isLeader, 5_000);
    expect(tookMs).toBeLessThan(LEASE.renewIntervalMs + 1_000);
    expect(api.lease('shop', 'prescale-leader')?.spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 1 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(scalePatches()).toHaveLength(1);
  });
});
