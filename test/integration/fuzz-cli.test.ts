/**
 * Fuzzed files through the real CLI (`node bin/prescale.js`, child processes): a few inputs
 * picked by seeded fast-check edits that the in-process readers reject (test/unit/fuzz-config.test.ts
 * fuzzes those at volume), plus the cases that used to crash. Every one must exit 2 with
 * "prescale: CODE: message" on stderr, no stack trace, and for `serve` no port left listening.
 * A corrupt stored model in `serve` falls back to the statistical models with the warning metric.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parseTrace } from '../../src/series/trace.js';
import { trainModel } from '../../src/forecast/train.js';
import { fastAppConfig, startConfiguredApp } from '../helpers/app.js';
import { applyTextEdits, textEdits } from '../helpers/mutations.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { recordScenario } from '../helpers/reliability.js';
import { deadPort, startOkBackend, startServer } from '../helpers/servers.js';

const EXAMPLE = await readFile(new URL('../../examples/prescale.yaml', import.meta.url), 'utf8');
const { PRESCALE_ADMIN_TOKEN: _t, PRESCALE_WEBHOOK_SECRET: _s, ...env } = process.env;

function cli(...args: string[]): Promise<CliRun> {
  return runCli(args, { env, timeoutMs: 20_000 });
}

/** Exit 2, one "prescale: CODE: ..." error on stderr, no stack frame, nothing on stdout. */
function expectBadInput(run: CliRun, code: string): void {
  expect(run.stderr).toMatch(new RegExp(`^prescale: ${code}: \\S`));
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() === undefined && false));
    socket.once('error', () => resolve(true));
  });
}

/** The first `n` seeded edits of `text` that `rejects` (run in-process) refuses. */
async function badSamples(text: string, seed: number, n: number, rejects: (mutated: string) => Promise<boolean>, inserts?: string[]): Promise<string[]> {
  const picked: string[] = [];
  for (const edits of fc.sample(textEdits(inserts), { seed, numRuns: 200 })) {
    const mutated = applyTextEdits(text, edits);
    if (await rejects(mutated)) picked.push(mutated);
    if (picked.length === n) break;
  }
  return picked;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-fuzz-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const configRejects = async (text: string): Promise<boolean> => {
  const file = join(dir, 'probe.yaml');
  await writeFile(file, text);
  return loadConfig(file).then(() => false, () => true);
};

describe('prescale validate and serve with bad config files', () => {
  it('exits 2 with every problem listed and no stack trace', async () => {
    const bomb = `a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [${'*a,'.repeat(9)}*a]\nc: &c [${'*b,'.repeat(9)}*b]\nd: [${'*c,'.repeat(9)}*c]\n`;
    const texts = [...(await badSamples(EXAMPLE, 91, 2, configRejects)), bomb, 'scaler:\n  capacityPerBackendRps: 10\n  leadTimeMs: ""\n'];
    const runs = await Promise.all(texts.map(async (text, i) => {
      const file = join(dir, `bad-${i}.yaml`);
      await writeFile(file, text);
      return { file, run: await cli('validate', file) };
    }));
    for (const { file, run } of runs) {
      expectBadInput(run, 'PRESCALE_ERR_CONFIG');
      expect(run.stderr).toContain(`${file}: `);
      expect(run.stderr).toMatch(/\n {2}- .+: .+\n {6}hint: \S/);
    }
    recordScenario({ id: 'cli-validate-bad-config', group: 'hostile input', scenario: '`prescale validate` on edited example configs (seed 91), an alias bomb and an empty duration', load: 'one child process per file', faults: 'corrupt YAML and invalid fields', sent: runs.length, failed: 0, lost: 0, expectation: 'exit 2, every problem with path and hint, no stack trace' });
  });

  it('serve exits 2 on a bad file or a taken port and leaves no port listening', async () => {
    const [proxyPort, adminPort] = [await deadPort(), await deadPort()];
    const ours = EXAMPLE.replace('port: 8080', `port: ${proxyPort}`).replace('port: 9090', `port: ${adminPort}`).replace('host: 0.0.0.0', 'host: 127.0.0.1');
    const [bad] = await badSamples(ours, 92, 1, configRejects);
    const badFile = join(dir, 'serve-bad.yaml');
    await writeFile(badFile, bad as string);
    // a valid file whose admin port is taken: the proxy listener is already up when admin fails
    const taken = await startServer(() => {});
    const busyFile = join(dir, 'serve-busy.yaml');
    await writeFile(busyFile, [
      `listen: { host: 127.0.0.1, port: ${proxyPort} }`,
      `admin: { host: 127.0.0.1, port: ${taken.port} }`,
      'upstream: { backends: [ { url: "http://127.0.0.1:9" } ] }',
      `series: { logDir: "${join(dir, 'traffic')}" }`,
      'scaler: { capacityPerBackendRps: 10 }',
      'log: { level: warn }',
    ].join('\n'));
    try {
      const badRun = await cli('serve', '--config', badFile);
      expectBadInput(badRun, 'PRESCALE_ERR_CONFIG');
      const busyRun = await cli('serve', '--config', busyFile);
      expectBadInput(busyRun, 'PRESCALE_ERR_CONFIG');
      expect(busyRun.stderr).toContain(`cannot listen on 127.0.0.1:${taken.port}: the port is already in use`);
      expect(await refused(proxyPort)).toBe(true);
      expect(await refused(adminPort)).toBe(true);
    } finally {
      await taken.close();
    }
    recordScenario({ id: 'cli-serve-bad-config', group: 'hostile input', scenario: '`prescale serve` with an edited config (seed 92) and with its admin port taken', load: 'two child processes', faults: 'invalid config; EADDRINUSE after the proxy listener is up', sent: 2, failed: 0, lost: 0, expectation: 'exit 2 with one line naming the problem, no stack trace, no port left listening' });
  });
});

describe('trace and model files through the CLI', () => {
  const day = 48;
  const counts = Array.from({ length: 7 * day }, (_, i) => 300 + Math.round(200 * Math.sin((2 * Math.PI * i) / day)));
  const good = `timestamp,requests\n${counts.map((c, i) => `${new Date(Date.UTC(2025, 2, 3) + i * 1_800_000).toISOString().replace('.000Z', 'Z')},${c}`).join('\n')}\n`;

  it('backtest, simulate, import and train exit 2 on mutated trace CSVs naming file and line', async () => {
    const inserts = [',', '-', '\r', ' ', '1e3', 'Z', '.5', '\n', 'x'];
    const bad = await badSamples(good, 93, 4, async (text) => {
      try {
        parseTrace('f.csv', text);
        return false;
      } catch {
        return true;
      }
    }, inserts);
    const files = await Promise.all(bad.map(async (text, i) => {
      const file = join(dir, `bad-${i}.csv`);
      await writeFile(file, text);
      return file;
    }));
    const runs = await Promise.all([
      cli('backtest', '--trace', files[0] as string),
      cli('simulate', '--trace', files[1] as string),
      cli('import', '--trace', files[2] as string, '--to', join(dir, 'imported')),
      cli('train', '--from', files[3] as string, '--model', 'naive', '--out', join(dir, 'models-t', 'n-1')),
    ]);
    runs.forEach((run, i) => {
      expectBadInput(run, 'PRESCALE_ERR_TRACE');
      expect(run.stderr).toContain(`${files[i]}:`);
    });
    recordScenario({ id: 'cli-trace-files', group: 'hostile input', scenario: '`backtest`, `simulate`, `import` and `train` on edited trace CSVs (seed 93)', load: 'one child process per command', faults: 'bytes and lines of a valid 7-day trace edited', sent: runs.length, failed: 0, lost: 0, expectation: 'exit 2 with "FILE:LINE: reason", no stack trace' });
  });

  it('rollback and train --set-current exit 2 on corrupt pointers and models directories', async () => {
    const csv = join(dir, 'week.csv');
    await writeFile(csv, good);
    const models = join(dir, 'models-corrupt');
    await mkdir(join(models, 'previous'), { recursive: true }); // a directory where a pointer belongs
    await writeFile(join(models, 'current'), 'not an id\u0000\n');
    const notDir = join(dir, 'models-file');
    await writeFile(notDir, 'x');
    const runs = await Promise.all([
      cli('rollback', '--models-dir', models),
      cli('rollback', '--models-dir', notDir),
      cli('train', '--from', csv, '--model', 'seasonal-naive-daily', '--out', join(models, 'snd-1'), '--set-current', '--json'),
    ]);
    for (const run of runs) expectBadInput(run, 'PRESCALE_ERR_CONFIG');
    expect(runs[0]?.stderr).toContain(`cannot read model pointer ${join(models, 'previous')}`);
    expect(runs[1]?.stderr).toContain(`cannot read model pointer ${join(notDir, 'previous')}`);
    expect(runs[2]?.stderr).toContain(`model pointer ${join(models, 'current')} does not hold a model id`);
    recordScenario({ id: 'cli-model-files', group: 'hostile input', scenario: '`rollback` and `train --set-current` on a models directory with corrupt pointers, and on a file', load: 'one child process per command', faults: 'pointer replaced by a directory or binary text; models directory is a file', sent: runs.length, failed: 0, lost: 0, expectation: 'exit 2 naming the pointer, no stack trace' });
  });

  it('serve falls back to the statistical models with the warning metric when the stored model is corrupt', { timeout: 30_000 }, async () => {
    const csv = join(dir, 'week-serve.csv');
    await writeFile(csv, good);
    const modelsDir = join(dir, 'models-serve');
    await trainModel({ from: csv, model: 'seasonal-naive-daily', out: join(modelsDir, 'snd-1'), horizonMs: 3_600_000, setCurrent: true });
    const meta = join(modelsDir, 'snd-1', 'meta.json');
    const edited = (await readFile(meta, 'utf8')).replace(/"windowIntervals": \d+/, '"windowIntervals": -1');
    expect(edited).toContain('"windowIntervals": -1');
    await writeFile(meta, edited); // valid JSON, but a field out of range: corrupt, checked before the interval
    const backend = await startOkBackend();
    const app = await startConfiguredApp({
      ...fastAppConfig(backend.url),
      forecast: { retrain: { modelsDir } },
      scaler: { capacityPerBackendRps: 100, leadTimeMs: '1s' },
    });
    let sent = 0;
    let failed = 0;
    try {
      for (; sent < 30; sent++) {
        const res = await request(`http://127.0.0.1:${app.proxyPort}/`);
        await res.body.dump();
        if (res.statusCode !== 200) failed++;
      }
      const metrics = await (await request(`http://127.0.0.1:${app.adminPort}/metrics`)).body.text();
      expect(metrics).toContain('prescale_forecast_stored_model_unusable{problem="corrupt"} 1');
      // the first forecast waits for the worker thread to start: poll until a tick published one
      let forecast: { model: string } | null = null;
      for (const deadline = Date.now() + 15_000; forecast === null && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const status = (await (await request(`http://127.0.0.1:${app.adminPort}/v1/status`)).body.json()) as { lastTick: { forecast: { model: string } | null } | null };
        forecast = status.lastTick?.forecast ?? null;
      }
      expect(forecast?.model).toMatch(/naive|regression|holt-winters/);
      expect(failed).toBe(0);
    } finally {
      await app.stop();
      await backend.close();
    }
    recordScenario({ id: 'serve-corrupt-model', group: 'hostile input', scenario: 'serve with a current stored model whose meta.json has a field out of range', load: `${sent} sequential GETs`, faults: 'meta.json params.windowIntervals set to -1 after training', sent, failed, lost: 0, expectation: 'warning metric problem="corrupt" = 1, statistical models forecast, 0 failed' });
  });
});
