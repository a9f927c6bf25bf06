import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { freshLogDir } from '../helpers/app.js';
import { startServer } from '../helpers/servers.js';

/** A user "fleet" command for the exec provider: state in a JSON file, every call appended to a log. */
const FLEET_SCRIPT = `
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
const [stateFile, logFile] = process.argv.slice(2);
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  appendFileSync(logFile, req.action + '\\n');
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  if (req.action === 'describe') process.stdout.write(JSON.stringify({ instances: state.instances }));
  else { state.desired = req.desired; writeFileSync(stateFile, JSON.stringify(state)); process.stdout.write('{"ok":true}'); }
});
`;

describe('restart reads the actual fleet before acting', () => {
  it('a restarted prescale adopts the running fleet and does not scale it again', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prescale-restart-'));
    const backends = await Promise.all([0, 1].map(() => startServer((req, res) => {
      req.resume();
      res.end('ok');
    })));
    const state = join(dir, 'state.json');
    const log = join(dir, 'calls.log');
    await writeFile(join(dir, 'fleet.mjs'), FLEET_SCRIPT);
    await writeFile(state, JSON.stringify({ desired: 2, instances: backends.map((b, i) => ({ id: `vm-${i}`, url: b.url, state: 'running', requestedAtMs: 1 })) }));
    await writeFile(log, '');
    const parsed = validateConfig({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { healthCheck: { intervalMs: 50, rise: 1 } },
      series: { intervalMs: 200, logDir: freshLogDir() },
      scaler: { capacityPerBackendRps: 100, minBackends: 1, maxBackends: 5, leadTimeMs: '1s', scaleInStabilizationMs: '1h' },
      provider: { kind: 'exec', command: process.execPath, args: [join(dir, 'fleet.mjs'), state, log], timeoutMs: '10s' },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    try {
      for (let run = 0; run < 2; run++) {
        const app = await startApp(parsed.config, { logger: pino({ level: 'silent' }), autoTick: false });
        expect(app.loop.desiredBackends).toBe(2);
        expect(await app.loop.waitForReady(2, 10_000)).toBe(2);
        await app.stop();
      }
      const calls = (await readFile(log, 'utf8')).trim().split('\n');
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.every((c) => c === 'describe')).toBe(true);
      expect(JSON.parse(await readFile(state, 'utf8')).desired).toBe(2);
    } finally {
      for (const b of backends) await b.close();
    }
  });
});
