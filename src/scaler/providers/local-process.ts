/**
 * The embedded default capacity provider: each instance is a sample-backend child process on
 * 127.0.0.1 (src/backend/sample-backend-main.ts, run the way prescale itself runs: compiled, or with
 * tsx's loader; src/runtime/module-entry.ts). `bootDelayMs`
 * stands in for the provisioning time of a real cloud instance, so the predictive scaler has a
 * lead time to beat.
 *
 * - Ids are `<idPrefix>-1`, `<idPrefix>-2`, ... and never reused.
 * - An instance is 'provisioning' until its child reports its port over IPC, then 'running'.
 * - Scale-in stops exactly the named victims (SIGTERM, which drains the child; SIGKILL after
 *   `stopTimeoutMs`); missing names are made up from the newest provisioning, then the newest
 *   running instances.
 * - A child that dies unexpectedly leaves the fleet with a warning.
 * - No orphans: children are SIGKILLed on the parent's 'exit', and a child exits when its IPC
 *   channel closes (parent killed without running 'exit' handlers).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { PrescaleError } from '../../errors.js';
import { processEntry } from '../../runtime/module-entry.js';
import type { CapacityProvider, Fleet, Instance } from '../provider.js';

/** pino-compatible subset. */
export interface ProviderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LocalProcessProviderOptions {
  /** Capacity of each child (see SampleBackendOptions). */
  readonly backend: {
    readonly concurrency: number;
    readonly serviceTimeMs: number;
    readonly queueLimit: number;
    readonly queueTimeoutMs: number;
  };
  /** Simulated boot time before a child listens (ms ≥ 0). */
  readonly bootDelayMs: number;
  /** Id prefix; default 'local'. */
  readonly idPrefix?: string;
  /** Wait for a child to drain after SIGTERM before SIGKILL (ms); default 30 000. */
  readonly stopTimeoutMs?: number;
  readonly logger?: ProviderLogger;
}

interface Child {
  readonly id: string;
  readonly process: ChildProcess;
  readonly requestedAtMs: number;
  readonly exited: Promise<void>;
  state: 'provisioning' | 'running' | 'stopping';
  url: string | null;
  stderrTail: string;
}

const ENTRY = processEntry('../../backend/sample-backend-main', import.meta.url);
const STDERR_TAIL_CHARS = 2_000;
const silent: ProviderLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class LocalProcessProvider implements CapacityProvider {
  readonly name = 'local-process';
  readonly #options: LocalProcessProviderOptions;
  readonly #logger: ProviderLogger;
  readonly #children = new Map<string, Child>();
  readonly #killAllOnExit = (): void => {
    for (const child of this.#children.values()) child.process.kill('SIGKILL');
  };
  #sequence = 0;
  #closed = false;

  constructor(options: LocalProcessProviderOptions) {
    if (!(options.bootDelayMs >= 0)) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `local-process bootDelayMs: expected ms ≥ 0, got ${options.bootDelayMs}`);
    }
    this.#options = options;
    this.#logger = options.logger ?? silent;
    process.on('exit', this.#killAllOnExit);
  }

  /** The instances now; instances being stopped are already left out. */
  describe(): Promise<Fleet> {
    const instances: Instance[] = [];
    for (const child of this.#children.values()) {
      if (child.state === 'stopping') continue;
      instances.push({ id: child.id, url: child.url, state: child.state, requestedAtMs: child.requestedAtMs });
    }
    return Promise.resolve({ instances });
  }

  /** OS process id of instance `id` (for diagnostics and tests), or undefined if unknown. */
  pidOf(id: string): number | undefined {
    return this.#children.get(id)?.process.pid;
  }

  /**
   * Start children up to `desired`, or stop children down to it and wait for them to exit.
   * Resolves once started children are forked (still provisioning) and stopped ones are gone.
   * @throws PrescaleError PRESCALE_ERR_PROVIDER for a bad `desired`, after close(), or when a
   *   child cannot be forked.
   */
  async setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    if (this.#closed) throw new PrescaleError('PRESCALE_ERR_PROVIDER', 'local-process provider is closed');
    if (!Number.isInteger(desired) || desired < 0) {
      throw new PrescaleError('PRESCALE_ERR_PROVIDER', `local-process: desired must be an integer ≥ 0, got ${desired}`);
    }
    const live = [...this.#children.values()].filter((child) => child.state !== 'stopping');
    if (desired > live.length) {
      for (let i = live.length; i < desired; i += 1) this.#start();
      return;
    }
    const victims = this.#pickVictims(live, live.length - desired, options.remove ?? []);
    await Promise.all(victims.map((child) => this.#stop(child)));
  }

  /** Stop every child (draining each) and wait for all of them to exit. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#children.values()].map((child) => this.#stop(child)));
    process.off('exit', this.#killAllOnExit);
  }

  /** Named victims first (unknown names skipped), then newest provisioning, then newest running. */
  #pickVictims(live: readonly Child[], count: number, remove: readonly string[]): Child[] {
    const victims: Child[] = [];
    for (const id of remove) {
      if (victims.length === count) break;
      const child = live.find((candidate) => candidate.id === id);
      if (child && !victims.includes(child)) victims.push(child);
      else if (!child) this.#logger.warn({ provider: this.name, id }, 'scale-in victim is not in the fleet; picking another');
    }
    const newestFirst = [...live].reverse();
    for (const state of ['provisioning', 'running'] as const) {
      for (const child of newestFirst) {
        if (victims.length === count) return victims;
        if (child.state === state && !victims.includes(child)) victims.push(child);
      }
    }
    return victims;
  }

  #start(): void {
    this.#sequence += 1;
    const id = `${this.#options.idPrefix ?? 'local'}-${this.#sequence}`;
    const { backend, bootDelayMs } = this.#options;
    let proc: ChildProcess;
    try {
      proc = fork(ENTRY.path, [], {
        execArgv: ENTRY.execArgv,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: {
          ...process.env,
          PRESCALE_BACKEND_ID: id,
          PRESCALE_BACKEND_CONCURRENCY: String(backend.concurrency),
          PRESCALE_BACKEND_SERVICE_TIME_MS: String(backend.serviceTimeMs),
          PRESCALE_BACKEND_QUEUE_LIMIT: String(backend.queueLimit),
          PRESCALE_BACKEND_QUEUE_TIMEOUT_MS: String(backend.queueTimeoutMs),
          PRESCALE_BACKEND_BOOT_DELAY_MS: String(bootDelayMs),
          PRESCALE_BACKEND_PORT: '0',
        },
      });
    } catch (error) {
      throw new PrescaleError('PRESCALE_ERR_PROVIDER', `local-process: cannot start ${id}: ${String(error)}`, { cause: error });
    }
    // 'exit' never fires when the spawn itself failed; 'error' without a pid stands in for it.
    const exited = new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', () => proc.pid === undefined && resolve());
    });
    const child: Child = { id, process: proc, requestedAtMs: Date.now(), exited, state: 'provisioning', url: null, stderrTail: '' };
    this.#children.set(id, child);
    this.#watch(child);
    this.#logger.info({ provider: this.name, id, pid: proc.pid, bootDelayMs }, 'instance requested');
  }

  #watch(child: Child): void {
    const proc = child.process;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (text: string) => {
      child.stderrTail = (child.stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    proc.on('message', (message: unknown) => {
      const port = listeningPort(message);
      if (port === undefined || child.state !== 'provisioning') return;
      child.state = 'running';
      child.url = `http://127.0.0.1:${port}`;
      this.#logger.info({ provider: this.name, id: child.id, url: child.url, bootMs: Date.now() - child.requestedAtMs }, 'instance running');
    });
    proc.on('error', (error) => {
      this.#logger.error({ provider: this.name, id: child.id, err: error }, 'instance process error');
      if (proc.pid === undefined) this.#children.delete(child.id);
    });
    proc.once('exit', (code, signal) => {
      this.#children.delete(child.id);
      if (child.state === 'stopping') {
        this.#logger.info({ provider: this.name, id: child.id, code, signal }, 'instance stopped');
        return;
      }
      this.#logger.warn(
        { provider: this.name, id: child.id, code, signal, stderr: child.stderrTail.trim() || undefined },
        'instance exited unexpectedly; removed from the fleet',
      );
    });
  }

  /** SIGTERM (the child drains), SIGKILL after stopTimeoutMs; resolves when the child is gone. */
  async #stop(child: Child): Promise<void> {
    const proc = child.process;
    if (proc.exitCode === null && proc.signalCode === null && child.state !== 'stopping') {
      child.state = 'stopping';
      this.#logger.info({ provider: this.name, id: child.id }, 'stopping instance');
      proc.kill('SIGTERM');
    }
    const timeoutMs = this.#options.stopTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      this.#logger.warn({ provider: this.name, id: child.id, timeoutMs }, 'instance did not drain in time; killing it');
      proc.kill('SIGKILL');
    }, timeoutMs);
    await child.exited;
    clearTimeout(timer);
  }
}

function listeningPort(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, port } = message as { type?: unknown; port?: unknown };
  return type === 'listening' && typeof port === 'number' ? port : undefined;
}
