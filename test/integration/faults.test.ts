import { request, Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { createProxyHandler } from '../../src/proxy/forward.js';
import { OutlierDetector } from '../../src/proxy/outlier-detection.js';
import { closeServer, listenProxy } from '../../src/proxy/server.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { LocalProcessProvider } from '../../src/scaler/providers/local-process.js';
import { recordScenario } from '../helpers/reliability.js';

/**
 * Faults on real child processes (the bundled sample backend) behind the real proxy:
 * counts what was sent, what failed and what was lost.
 */
describe('faults under load', () => {
  const provider = new LocalProcessProvider({ backend: { concurrency: 8, serviceTimeMs: 20, queueLimit: 200, queueTimeoutMs: 5000 }, bootDelayMs: 0 });
  const group = { panic: false };
  const upstream = new Upstream(createBalancer('p2c'), { group, connectTimeoutMs: 500, firstByteTimeoutMs: 5000, idleTimeoutMs: 5000, keepAliveConnections: 32 });
  const outlier = new OutlierDetector(
    { maxFails: 1, failTimeoutMs: 10_000, consecutive5xx: 5, consecutiveGatewayFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50, panicThresholdPercent: 0 },
    group,
    () => upstream.backends,
  );
  let proxyUrl = '';
  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    await provider.setDesired(3);
    const deadline = Date.now() + 20_000;
    let fleet = await provider.describe();
    while (fleet.instances.some((i) => i.state !== 'running') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      fleet = await provider.describe();
    }
    for (const i of fleet.instances) upstream.add(i.id, i.url!, 1, 'ready', true);
    const { server, port } = await listenProxy(createProxyHandler({ upstream, retries: 2, outlier }), { host: '127.0.0.1', port: 0 });
    proxyUrl = `http://127.0.0.1:${port}`;
    close = async () => {
      await closeServer(server);
      await upstream.close();
      await provider.close();
    };
  }, 30_000);
  afterAll(() => close());

  /** Closed-loop load of GETs with `concurrency` clients for `ms`; returns status counts. */
  async function load(concurrency: number, ms: number, during: () => Promise<void>) {
    const agent = new Agent({ connections: concurrency });
    const statuses = new Map<number, number>();
    let sent = 0;
    const end = Date.now() + ms;
    const worker = async () => {
      while (Date.now() < end) {
        sent++;
        const status = await request(`${proxyUrl}/work`, { dispatcher: agent })
          .then(async (r) => {
            await r.body.dump();
            return r.statusCode;
          })
          .catch(() => 0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    const workers = Array.from({ length: concurrency }, worker);
    await new Promise((r) => setTimeout(r, ms / 3));
    await during();
    await Promise.all(workers);
    await agent.close();
    return { sent, statuses };
  }

  it('loses no GET when a backend is SIGKILLed under load while others are healthy', async () => {
    const victim = upstream.backends[0]!;
    const { sent, statuses } = await load(16, 2400, async () => {
      process.kill(provider.pidOf(victim.id)!, 'SIGKILL');
    });
    expect(sent).toBeGreaterThan(200);
    recordScenario({ id: 'backend-sigkill-under-load', group: 'faults', scenario: 'SIGKILL one of 3 sample backends (child processes) while GETs flow', load: '16 closed-loop clients, GET /work, 2.4 s', faults: 'SIGKILL one backend at 0.8 s', sent, failed: sent - (statuses.get(200) ?? 0) - (statuses.get(0) ?? 0), lost: statuses.get(0) ?? 0, expectation: '0 failed while healthy backends remain; the dead one ejected' });
    expect(statuses).toEqual(new Map([[200, sent]]));
    expect(victim.eligible).toBe(false); // ejected by passive health
  });

  it('loses no in-flight request when a backend is drained and removed under load', async () => {
    const victim = upstream.backends.find((b) => b.eligible)!;
    let drained: boolean | undefined;
    const { sent, statuses } = await load(16, 2400, async () => {
      expect(victim.inFlight).toBeGreaterThan(0);
      drained = (await upstream.drainAndRemove(victim.id, 5000)).drained;
    });
    recordScenario({ id: 'backend-drain-under-load', group: 'faults', scenario: 'drain and remove a backend with requests in flight', load: '16 closed-loop clients, GET /work, 2.4 s', faults: 'drainAndRemove of a busy backend (timeout 5 s)', sent, failed: sent - (statuses.get(200) ?? 0) - (statuses.get(0) ?? 0), lost: statuses.get(0) ?? 0, expectation: 'every in-flight request finishes; 0 failed' });
    expect(drained).toBe(true);
    expect(sent).toBeGreaterThan(200);
    expect(statuses).toEqual(new Map([[200, sent]]));
    expect(upstream.get(victim.id)).toBeUndefined();
  });
});
