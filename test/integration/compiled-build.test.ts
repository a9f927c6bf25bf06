import { execFile, fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The compiled tree (scripts/build.mjs) is what `prescale` runs once built: plain node, no tsx.
// Built here into a scratch directory next to dist/, so the tests never race a rebuild of dist/.

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const outName = `.build-test-${process.pid}`;
const out = join(root, outName);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Nice values of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]); // field 19 overall; fields[0] is field 3 (state)
  });
}

describe('the compiled build (npm run build)', () => {
  beforeAll(async () => {
    await run(process.execPath, [join(root, 'scripts/build.mjs'), '--out', outName], { cwd: root });
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('has one module per TypeScript file, the dashboard assets, and no tsx bootstraps', () => {
    const sources = sourceFiles(join(root, 'src'));
    for (const file of sources.filter((f) => f.endsWith('.ts'))) {
      expect(existsSync(join(out, file.replace(/\.ts$/, '.js'))), file).toBe(true);
    }
    for (const file of sources.filter((f) => f.startsWith('web/public/'))) {
      expect(readFileSync(join(out, file), 'utf8')).toBe(readFileSync(join(root, 'src', file), 'utf8'));
    }
    expect(sourceFiles(out).filter((f) => f.endsWith('-boot.mjs'))).toEqual([]);
    expect(existsSync(join(out, '.build-stamp'))).toBe(true);
  });

  it('runs the CLI with plain node', async () => {
    const script = `const { main } = await import(${JSON.stringify(pathToFileURL(join(out, 'cli.js')).href)}); await main([process.argv[0], "prescale", ...process.argv.slice(1)]);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, 'validate', join(root, 'examples/prescale.yaml')], { cwd: root });
    expect(stdout).toBe(`${join(root, 'examples/prescale.yaml')}: ok\n`);
  }, 60_000);

  it('starts child processes compiled, without a loader', async () => {
    const entry = (await import(pathToFileURL(join(out, 'runtime/module-entry.js')).href)) as typeof import('../../src/runtime/module-entry.js');
    expect(entry.RUNS_COMPILED).toBe(true);
    const backend = entry.processEntry('../backend/sample-backend-main', pathToFileURL(join(out, 'runtime/module-entry.js')).href);
    expect(backend.path).toBe(join(out, 'backend/sample-backend-main.js'));
    expect(backend.execArgv).toEqual([]);
    const child = fork(backend.path, [], { execArgv: backend.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, PRESCALE_BACKEND_SERVICE_TIME_MS: '0' } });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('message', (msg: { type: string; port: number }) => resolve(msg.port));
        child.once('exit', (code) => reject(new Error(`sample backend exited with ${code}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);

  it('forecasts in a worker thread that runs at a lower priority than the event loop', async () => {
    const { ForecasterThread } = (await import(pathToFileURL(join(out, 'forecast/forecaster-thread.js')).href)) as typeof import('../../src/forecast/forecaster-thread.js');
    const { SERVICE_THREAD_NICE } = await import('../../src/runtime/thread-priority.js');
    const before = threadNiceValues().filter((n) => n === SERVICE_THREAD_NICE).length;
    const thread = new ForecasterThread({ models: ['naive', 'seasonal-naive-daily'], seasonLength: 24, windowIntervals: 12, horizon: 3, quantile: 0.9, backtestOrigins: 5, reselectEvery: 5 });
    try {
      const result = await thread.forecast(Array.from({ length: 24 * 4 }, (_, i) => 100 + (i % 24)));
      expect(result.point).toHaveLength(3);
      expect(threadNiceValues().filter((n) => n === SERVICE_THREAD_NICE).length).toBe(before + 1);
      expect(threadNiceValues()).toContain(0); // the event loop keeps its priority
    } finally {
      await thread.close();
    }
  }, 30_000);
});
