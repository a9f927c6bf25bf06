import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { recordScenario } from '../helpers/reliability.js';
import { startServer } from '../helpers/servers.js';

const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;

describe('prescale serve on SIGTERM', () => {
  it('stops accepting, finishes the in-flight request and exits 0', { timeout: 30_000 }, async () => {
    const backend = await startServer((req, res) => {
      req.resume();
      if (req.url === '/healthz') return void res.end('ok');
      setTimeout(() => res.end('finished'), 800);
    });
    const dir = await mkdtemp(join(tmpdir(), 'prescale-sigterm-'));
    const config = join(dir, 'prescale.yaml');
    // a fixed free-ish port is needed to reach the child: take one from a closed listener
    const probe = await startServer(() => {});
    const port = probe.port;
    await probe.close();
    await writeFile(config, [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'admin: { host: 127.0.0.1, port: 0 }',
      `upstream: { backends: [ { url: "${backend.url}" } ], healthCheck: { intervalMs: 50, rise: 1 } }`,
      `series: { intervalMs: 500, logDir: "${join(dir, 'traffic')}" }`,
      'scaler: { capacityPerBackendRps: 100, leadTimeMs: 2s }',
      'log: { level: warn }',
    ].join('\n'));
    const child = spawn(process.execPath, [bin, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // wait until it proxies
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ok = await request(`http://127.0.0.1:${port}/healthz`).then(async (r) => (await r.body.text()) === 'ok').catch(() => false);
        if (ok) break;
        if (Date.now() > deadline) throw new Error('prescale serve did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      const inFlight = request(`http://127.0.0.1:${port}/slow`).then(async (r) => [r.statusCode, await r.body.text()] as const);
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGTERM');
      const answer = await inFlight;
      const code = await exited;
      const refused = await request(`http://127.0.0.1:${port}/`).then(() => false, () => true);
      recordScenario({ id: 'sigterm-drain', group: 'state and shutdown', scenario: 'SIGTERM to `prescale serve` with a request in flight (backend answers after 800 ms)', load: '1 in-flight GET, then 1 new connection', faults: 'SIGTERM 200 ms into the request', sent: 2, failed: answer[0] === 200 ? 0 : 1, lost: answer[1] === 'finished' ? 0 : 1, expectation: 'the in-flight request finishes, exit 0, then connections refused' });
      expect(answer).toEqual([200, 'finished']);
      expect(code).toBe(0);
      // and it no longer accepts connections
      expect(refused).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await backend.close();
    }
  });
});
