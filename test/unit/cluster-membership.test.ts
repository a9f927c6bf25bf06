import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemberEntry } from '../../src/cluster/ipc-messages.js';
import { applyMembers, membersOf, observeUpstream, waitForHealthyMembers } from '../../src/cluster/membership.js';
import { resolveWorkerCount } from '../../src/cluster/worker-count.js';
import { validateConfig } from '../../src/config/load.js';
import { Pool } from '../../src/proxy/pool.js';
import { startServer } from '../helpers/servers.js';

const logger = pino({ level: 'silent' });
const pools: Pool[] = [];

/** A real pool from a validated config: static backends on closed ports, slow health checks. */
function makePool(backends: string[] = [], healthCheck: object = { intervalMs: 60_000 }): Pool {
  const parsed = validateConfig({
    scaler: { capacityPerBackendRps: 1 },
    upstream: { backends: backends.map((url) => ({ url })), healthCheck },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const pool = new Pool('default', parsed.config.upstream, undefined, logger);
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('cluster membership (control plane → workers)', () => {
  it('reports every admit, weight, state change and removal made through the upstream', async () => {
    const control = makePool(['http://127.0.0.1:1']);
    const seen: MemberEntry[][] = [];
    const stop = observeUpstream(control.upstream, () => seen.push(membersOf(control.upstream)));
    control.admit('local-1', 'http://127.0.0.1:2', 3);
    control.admit('local-1', 'http://127.0.0.1:2', 3); // idempotent: no change, no report
    control.upstream.setWeight('local-1', 1);
    control.upstream.setState('static-1', 'maint');
    control.upstream.setWeight('nope', 5); // unknown id: no change, no report
    await control.remove('local-1', 1_000);
    expect(seen.map((list) => list.map((m) => `${m.id}:${m.state}:${m.weight}/${m.initialWeight}`).join(' '))).toEqual([
      'static-1:ready:1/1 local-1:ready:3/3',
      'static-1:ready:1/1 local-1:ready:1/3',
      'static-1:maint:1/1 local-1:ready:1/3',
      'static-1:maint:1/1 local-1:drain:0/3',
      'static-1:maint:1/1',
    ]);
    stop();
    control.upstream.setState('static-1', 'ready');
    expect(seen).toHaveLength(5);
  });

  it('makes a worker\'s pool hold the control plane\'s list: admits, copies weight and state, drains what left', async () => {
    const worker = makePool(['http://127.0.0.1:1']);
    worker.admit('local-9', 'http://127.0.0.1:9');
    const leaving = worker.upstream.get('local-9');
    if (!leaving) throw new Error('not admitted');
    leaving.inFlight = 1; // one request still running there
    const applied = applyMembers(worker, [
      { id: 'static-1', url: 'http://127.0.0.1:1', weight: 1, initialWeight: 1, state: 'drain', healthy: false },
      { id: 'local-1', url: 'http://127.0.0.1:2', weight: 2, initialWeight: 4, state: 'ready', healthy: true },
    ], 5_000);
    expect(membersOf(worker.upstream).map((m) => `${m.id}:${m.state}:${m.weight}/${m.initialWeight}`)).toEqual([
      'static-1:drain:1/1', 'local-9:drain:0/1', 'local-1:ready:2/4',
    ]);
    expect(worker.upstream.isRemoving('local-9')).toBe(true);
    let done = false;
    void applied.then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false); // waits for the in-flight request
    leaving.release();
    await applied;
    expect(worker.upstream.backends.map((b) => b.id)).toEqual(['static-1', 'local-1']);
  });

  it('lets a starting worker wait until its own health checks pass for what the control plane sees healthy', async () => {
    const backend = await startServer((_req, res) => res.end('ok'));
    try {
      const worker = makePool([backend.url], { intervalMs: 30, rise: 2 });
      const started = Date.now();
      expect(await waitForHealthyMembers(worker, membersOf(worker.upstream).map((m) => ({ ...m, healthy: true })), 5_000)).toBe(true);
      expect(worker.upstream.get('static-1')?.healthy).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(25); // the second probe, one interval later
      // a backend the control plane sees healthy but this worker cannot reach: give up at the timeout
      const cut = makePool(['http://127.0.0.1:1'], { intervalMs: 30, rise: 1 });
      expect(await waitForHealthyMembers(cut, membersOf(cut.upstream).map((m) => ({ ...m, healthy: true })), 200)).toBe(false);
      // nothing healthy at the control plane: nothing to wait for
      expect(await waitForHealthyMembers(cut, membersOf(cut.upstream), 5_000)).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it.each([
    [1, 1],
    [2, 2],
    [8, 8],
    ['auto' as const, Math.max(1, availableParallelism())],
    [0, 1],
    [1.5, 1],
  ])('runs %s worker setting as %i processes', (setting, expected) => {
    expect(resolveWorkerCount(setting)).toBe(expected);
  });
});
