/** The whole service (startApp) started from a raw config, for integration tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';

/**
 * Validates `input` as a config file would be validated (throwing with every problem as JSON),
 * starts the app with a silent logger and, when `readyBackends` is given, polls every 20 ms for
 * up to 5 s until the default upstream has that many ready backends. Returns the app either way;
 * the test asserts on readiness itself.
 */
export async function startConfiguredApp(input: unknown, options: { readyBackends?: number } = {}): Promise<App> {
  const parsed = validateConfig(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const app = await startApp(parsed.config, { logger: pino({ level: 'silent' }) });
  const wanted = options.readyBackends ?? 0;
  const deadline = Date.now() + 5000;
  while (app.upstream.readyCount() < wanted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return app;
}

/** A new empty directory for a test's traffic log. */
export function freshLogDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'prescale-test-')), 'traffic');
}

/**
 * The config every fast app test starts from: loopback proxy and admin on port 0, one backend
 * health-checked every 50 ms (rise 1), 100 ms intervals in a fresh traffic-log directory.
 * Spread it and add the sections a test needs (forecast, scaler, ...).
 */
export function fastAppConfig(backendUrl: string) {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { backends: [{ url: backendUrl }], healthCheck: { intervalMs: 50, rise: 1 } },
    series: { intervalMs: 100, logDir: freshLogDir() },
  };
}
