import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { waitFor } from '../helpers/wait-for.js';
import { describe, expect, it } from 'vitest';
import { fastAppConfig, startConfiguredApp } from '../helpers/app.js';
import { startOkBackend } from '../helpers/servers.js';

describe('a stored model that cannot be used', () => {
  it('is reported by a warning metric while the statistical models keep forecasting', { timeout: 20_000 }, async () => {
    const modelsDir = await mkdtemp(join(tmpdir(), 'prescale-models-'));
    await mkdir(join(modelsDir, 'broken-1'));
    await writeFile(join(modelsDir, 'broken-1', 'meta.json'), '{ this is not json');
    const backend = await startOkBackend();
    const app = await startConfiguredApp({
      ...fastAppConfig(backend.url),
      forecast: { pinnedModel: 'broken-1', retrain: { modelsDir } },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '1s' },
    });
    try {
      for (let i = 0; i < 20; i++) await (await request(`http://127.0.0.1:${app.proxyPort}/`)).body.dump();
      const metrics = await (await request(`http://127.0.0.1:${app.adminPort}/metrics`)).body.text();
      expect(metrics).toContain('prescale_forecast_stored_model_unusable{problem="corrupt"} 1');
      expect(metrics).toContain('prescale_forecast_stored_model_unusable{problem="missing"} 0');
      // the first forecast comes from the worker thread after its start-up (seconds on a busy machine)
      const status = await waitFor(async () => {
        const s = (await (await request(`http://127.0.0.1:${app.adminPort}/v1/status`)).body.json()) as { lastTick: { forecast: { model: string } | null } | null };
        return s.lastTick?.forecast ? s : undefined;
      }, 15_000);
      expect(status?.lastTick?.forecast?.model).toMatch(/naive|regression|holt-winters/);
    } finally {
      await app.stop();
      await backend.close();
    }
  });
});
