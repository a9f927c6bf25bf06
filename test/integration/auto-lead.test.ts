import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { freshLogDir } from '../helpers/app.js';

describe('lead time "auto"', () => {
  it('learns the provisioning time from real scale-outs (ask → first passed health check)', { timeout: 30_000 }, async () => {
    const parsed = validateConfig({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { healthCheck: { intervalMs: 50, rise: 1 } },
      series: { intervalMs: 500, logDir: freshLogDir() },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: 'auto', maxLeadTimeMs: '60s', minBackends: 1, maxBackends: 4 },
      provider: { kind: 'local-process', bootDelayMs: 400 },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const app = await startApp(parsed.config, { logger: pino({ level: 'silent' }), initialBackends: 3, autoTick: false });
    try {
      expect(app.loop.leadTimeMs).toBe(60_000); // no measurement yet: the cap is the starting guess
      await app.loop.waitForReady(3, 20_000);
      await new Promise((r) => setTimeout(r, 100));
      const learned = app.loop.leadTimeMs;
      expect(learned).toBeGreaterThanOrEqual(400); // the boot delay is part of it
      expect(learned).toBeLessThan(15_000);
    } finally {
      await app.stop();
    }
  });
});
