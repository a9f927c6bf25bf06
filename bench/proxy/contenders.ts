/**
 * Start and stop the contenders: direct (no proxy), nginx, HAProxy, fastify + @fastify/http-proxy,
 * a bare node:http + undici forwarder (bare-undici-main.ts, the floor for Node) and prescale, each as its own process group in a scratch directory, pinned as asked. A
 * contender whose binary is missing is skipped with the reason (`skipReason`).
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, type Child, type Cores } from './children.js';
import { haproxyConf, nginxConf, prescaleYaml } from './configs.js';
import { freePort, httpGet, sleep, waitFor } from './net-util.js';
import { TreeStats } from './proc-stats.js';

export type ContenderKind = 'direct' | 'nginx' | 'haproxy' | 'fastify' | 'bare' | 'prescale';

export interface ContenderSpec {
  kind: ContenderKind;
  /** Label in the report, e.g. "nginx (2 workers)". */
  label: string;
  /** nginx worker processes / prescale `workers`; default 1 (prescale: not written). */
  workers?: number;
  /** Extra node flags for prescale or fastify, e.g. ['--cpu-prof', '--cpu-prof-dir=...']. */
  nodeArgs?: readonly string[];
  /** prescale only: run bin/prescale.js of another checkout (A/B comparison of a change). */
  root?: string;
}

export interface RunningContender {
  spec: ContenderSpec;
  port: number;
  /** The proxy's process tree; null for direct. */
  stats: TreeStats | null;
  /** prescale's admin port (for /metrics), else 0. */
  adminPort: number;
  stop(): Promise<void>;
}

export interface StartContext {
  /** Repository root (bin/prescale.js, bench/). */
  root: string;
  /** Scratch directory for this contender set. */
  dir: string;
  backends: readonly number[];
  cores: Cores;
  /** prescale's config placement of `workers`, when supported (see workers-support.ts). */
  workersKey?: string;
}

const NOFILE = 65_536;

/** Absolute path of a program on PATH (or /usr/sbin), or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return undefined;
}

/** Why this contender cannot run here, or null when it can. */
export function skipReason(kind: ContenderKind): string | null {
  if (kind === 'nginx' && findBinary('nginx') === undefined) return 'nginx not found on PATH (apt-get install nginx)';
  if (kind === 'haproxy' && findBinary('haproxy') === undefined) return 'haproxy not found on PATH (apt-get install haproxy)';
  return null;
}

/** Start one contender and wait until it forwards a request to the backends. */
export async function startContender(spec: ContenderSpec, ctx: StartContext): Promise<RunningContender> {
  if (spec.kind === 'direct') {
    return { spec, port: ctx.backends[0] as number, stats: null, adminPort: 0, stop: async () => {} };
  }
  const dir = join(ctx.dir, spec.label.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const setup = { port, backends: ctx.backends, dir };
  const log = join(dir, 'out.log');
  let child: Child;
  let adminPort = 0;
  if (spec.kind === 'nginx') {
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConf(setup, spec.workers ?? 1));
    child = startChild(spec.label, findBinary('nginx') as string, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { cores: ctx.cores, nofile: NOFILE, logFile: log });
  } else if (spec.kind === 'haproxy') {
    const conf = join(dir, 'haproxy.cfg');
    writeFileSync(conf, haproxyConf(setup));
    child = startChild(spec.label, findBinary('haproxy') as string, ['-db', '-f', conf], { cores: ctx.cores, nofile: NOFILE, logFile: log });
  } else if (spec.kind === 'fastify' || spec.kind === 'bare') {
    const urls = ctx.backends.map((p) => `http://127.0.0.1:${p}`);
    const main = join(ctx.root, `bench/proxy/${spec.kind === 'bare' ? 'bare-undici' : 'fastify'}-main.ts`);
    child = startChild(spec.label, process.execPath, [...(spec.nodeArgs ?? []), '--import', 'tsx', main, String(port), ...urls], { cores: ctx.cores, nofile: NOFILE, logFile: log, cwd: ctx.root });
  } else {
    adminPort = await freePort();
    const conf = join(dir, 'prescale.yaml');
    writeFileSync(conf, prescaleYaml(setup, adminPort, spec.workers, ctx.workersKey));
    const root = spec.root ?? ctx.root;
    child = startChild(spec.label, process.execPath, [...(spec.nodeArgs ?? []), join(root, 'bin/prescale.js'), 'serve', '--config', conf], { cores: ctx.cores, nofile: NOFILE, logFile: log, cwd: root });
  }
  const failed = child.exited.then((code) => {
    throw new Error(`${spec.label} exited (${code}) during start-up; see ${log}`);
  });
  try {
    await Promise.race([failed, waitReady(spec, port, adminPort, ctx.backends.length)]);
  } catch (err) {
    await child.stop();
    throw err;
  }
  void failed.catch(() => {});
  // let the worker processes / threads settle, then find them all
  await sleep(300);
  const stats = new TreeStats(child.pid);
  return { spec, port, stats, adminPort, stop: () => child.stop() };
}

async function waitReady(spec: ContenderSpec, port: number, adminPort: number, backendCount: number): Promise<void> {
  if (spec.kind === 'prescale') {
    // every backend must have passed its health checks (rise 2), so P2C balances over all of them
    await waitFor(`${spec.label} backends healthy`, async () => {
      const r = await httpGet(adminPort, '/v1/status');
      if (r.status !== 200) return false;
      const ready = (JSON.parse(r.body) as { readyBackends?: number }).readyBackends;
      return ready === backendCount;
    }, 30_000, 200);
  }
  // two answers in a row from the proxy (HAProxy's first checks, nginx's worker start)
  await waitFor(`${spec.label} forwarding`, async () => (await httpGet(port, '/')).status === 200 && (await httpGet(port, '/')).status === 200, 30_000, 100);
}
