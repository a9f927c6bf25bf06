/** A real Prometheus server and promtool (both from the Debian `prometheus` package) for tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { deadPort } from './servers.js';

/** Run `promtool args…` with `stdin`; resolves its exit code and combined output (promtool must be on PATH). */
export function promtool(args: string[], stdin = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
    child.stdin.end(stdin);
  });
}

export interface TestPrometheus {
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  /** Scrape these `host:port` targets (job "prescale", path /metrics) from now on. */
  setTargets(targets: string[]): Promise<void>;
  /** Output of the process so far (for failure messages). */
  log(): string;
  /** Stop the process (SIGTERM, then SIGKILL after 5 s) and delete its data. Idempotent. */
  close(): Promise<void>;
}

/**
 * Start `prometheus` on 127.0.0.1 (a free port) with a temporary data directory, scraping job
 * "prescale" every `scrapeIntervalMs` from a file_sd target list that `setTargets` rewrites
 * (so targets can be added after their ports are known). Resolves once GET /-/ready answers 200.
 */
export async function startPrometheus(scrapeIntervalMs = 1000): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'prescale-prometheus-'));
  const targetsFile = join(dir, 'targets.json');
  await writeFile(targetsFile, '[]');
  const seconds = `${scrapeIntervalMs / 1000}s`;
  await writeFile(join(dir, 'prometheus.yml'), [
    'global:',
    `  scrape_interval: ${seconds}`,
    `  evaluation_interval: ${seconds}`,
    'scrape_configs:',
    '  - job_name: prescale',
    `    scrape_timeout: ${seconds}`,
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(targetsFile)}]`,
    '        refresh_interval: 1s',
    '',
  ].join('\n'));
  const port = await deadPort();
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (!closed) {
      closed = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await request(`${url}/-/ready`).then((r) => r.body.dump().then(() => r.statusCode === 200), () => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`prometheus did not become ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => output,
    close,
    async setTargets(targets) {
      const tmp = `${targetsFile}.tmp`;
      await writeFile(tmp, JSON.stringify([{ targets }]));
      await rename(tmp, targetsFile);
    },
  };
}
