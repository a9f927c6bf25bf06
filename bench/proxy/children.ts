/**
 * Child processes of the benchmark: spawned in their own process group so that every one of
 * them (and what it started, e.g. nginx's worker) is stopped when the benchmark ends, fails, or
 * is interrupted with Ctrl-C. Only processes started here are ever signalled, by process group id.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM the group, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();
let hooked = false;

/** CPU placement: `[0]` pins to core 0, `[1]` to core 1, undefined leaves it unpinned. */
export type Cores = readonly number[] | undefined;

export interface SpawnOptions {
  cores?: Cores;
  /** Raise the soft open-file limit with prlimit, at most to the hard limit (raising that needs CAP_SYS_RESOURCE). */
  nofile?: number;
  /** Append stdout and stderr to this file instead of piping them. */
  logFile?: string;
  /** Pipe stdout (and stdin) to the parent, e.g. to read a ready line. */
  pipe?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Start `command args` (through `prlimit` and `taskset` when asked, both exec in place so the pid is the program's). */
export function startChild(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  hookExit();
  const argv: string[] = [];
  if (options.nofile !== undefined) {
    const { soft, hard } = fileLimits();
    const want = Math.min(options.nofile, hard);
    if (want > soft) argv.push('prlimit', `--nofile=${want}:${hard}`, '--');
  }
  if (options.cores !== undefined) argv.push('taskset', '-c', options.cores.join(','));
  argv.push(command, ...args);
  const out = options.logFile !== undefined ? openSync(options.logFile, 'a') : 'ignore';
  const proc = spawn(argv[0] as string, argv.slice(1), {
    detached: true,
    stdio: [options.pipe ? 'pipe' : 'ignore', options.pipe ? 'pipe' : out, out],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  if (typeof out === 'number') closeSync(out);
  proc.stdin?.on('error', () => {}); // EPIPE once the child has exited
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${argv.join(' ')}`);
  const pid = proc.pid;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.once('error', (err) => resolve(err.message));
  });
  const child: Child = {
    name,
    proc,
    pid,
    exited,
    async stop(graceMs = 3_000) {
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // the leader is gone; make sure nothing it started outlives it
      signalGroup(pid, 'SIGKILL');
      live.delete(child);
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}

let limits: { soft: number; hard: number } | undefined;

/** This process's open-file limits (children inherit them), read once from the shell's ulimit. */
export function fileLimits(): { soft: number; hard: number } {
  if (limits === undefined) {
    const read = (flag: string) => {
      const text = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
      return text === 'unlimited' ? 1_048_576 : Number(text);
    };
    limits = { soft: read('-Sn'), hard: read('-Hn') };
  }
  return limits;
}

/** Run a command to completion; resolves with its stdout, stderr and exit code. */
export function runCommand(command: string, args: readonly string[], options: { cores?: Cores; cwd?: string; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string; wallMs: number }> {
  hookExit();
  const argv = options.cores !== undefined ? ['taskset', '-c', options.cores.join(','), command, ...args] : [command, ...args];
  const started = performance.now();
  return new Promise((resolve) => {
    const proc = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], cwd: options.cwd });
    const pid = proc.pid;
    const child: Child | undefined = pid === undefined ? undefined : {
      name: command, proc, pid, exited: new Promise(() => {}), stop: async () => signalGroup(pid, 'SIGKILL'),
    };
    if (child) live.add(child);
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    // a child that exits without reading its input must not crash the benchmark (EPIPE)
    proc.stdin?.on('error', () => {});
    if (options.input !== undefined) proc.stdin?.end(options.input);
    proc.once('error', (err) => resolve({ code: -1, stdout, stderr: stderr + err.message, wallMs: performance.now() - started }));
    proc.once('close', (code) => {
      if (child) live.delete(child);
      resolve({ code: code ?? -1, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** Stop every child still running (in parallel). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(2_000)));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // last resort on any exit path: SIGKILL every group we started (synchronous)
  process.on('exit', () => {
    for (const c of live) signalGroup(c.pid, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping ${live.size} child process(es)\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}
