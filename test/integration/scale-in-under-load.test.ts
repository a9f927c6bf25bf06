import { pino } from 'pino';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { freshLogDir } from '../helpers/app.js';
import { recordScenario } from '../helpers/reliability.js';

describe('scale-in through the control loop under load', () => {
  it('drains and stops two of three real backends while GETs flow, losing none', { timeout: 40_000 }, async () => {
    const parsed = validateConfig({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { algorithm: 'p2c', healthCheck: { intervalMs: 50, rise: 1 } },
      series: { intervalMs: 200, logDir: freshLogDir() },
      scaler: { policy: 'reactive', capacityPerBackendRps: 5000, minBackends: 1, maxBackends: 3, scaleInStabilizationMs: 600, leadTimeMs: '1s', drainTimeoutMs: '10s' },
      provider: { kind: 'local-process', backend: { concurrency: 8, serviceTimeMs: 30, queueLimit: 200, queueTimeoutMs: 5000 } },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const app = await startApp(parsed.config, { logger: pino({ level: 'silent' }), initialBackends: 3, autoTick: false });
    const agent = new Agent({ connections: 16 });
    try {
      expect(await app.loop.waitForReady(3, 20_000)).toBe(3);
      app.loop.startTicking();
      const statuses = new Map<number, number>();
      let sent = 0;
      const end = Date.now() + 4000;
      const worker = async () => {
        while (Date.now() < end) {
          sent++;
          const status = await request(`http://127.0.0.1:${app.proxyPort}/x`, { dispatcher: agent })
            .then(async (r) => {
              await r.body.dump();
              return r.statusCode;
            })
            .catch(() => 0);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      recordScenario({ id: 'scale-in-under-load', group: 'faults', scenario: 'the control loop scales 3 real backends in to 1 (drain, then stop) while GETs flow', load: '8 closed-loop clients, GET /x, 4 s', faults: 'scale-in of 2 of 3 child-process backends', sent, failed: sent - (statuses.get(200) ?? 0) - (statuses.get(0) ?? 0), lost: statuses.get(0) ?? 0, expectation: '0 failed, 0 lost; fleet ends at min 1' });
      // the loop scaled in to the minimum while the load ran
      expect(app.loop.desiredBackends).toBe(1);
      expect(await app.instanceCount()).toBe(1);
      expect(sent).toBeGreaterThan(300);
      expect(statuses).toEqual(new Map([[200, sent]]));
    } finally {
      await agent.close();
      await app.stop();
    }
  });
});
