import type { Worker } from 'node:cluster';
import type { MetricsSnapshot, PrimaryMessage, WorkerMessage } from './ipc-messages.js';

/** One worker slot as GET /v1/status shows it. */
export interface WorkerView {
  /** 1..N, stable across restarts of the slot. */
  index: number;
  /** OS process id of the current worker, null while none runs. */
  pid: number | null;
  state: 'starting' | 'ready' | 'restarting' | 'stopped';
  /** Requests the current worker process has served (merged into the traffic series so far). */
  requests: number;
  /** Requests in flight in it now, as of its latest report (at most `flushMs` old). */
  inFlight: number;
  /** Times this slot's worker was forked again after exiting unexpectedly. */
  restarts: number;
  /** When the current worker was forked, epoch ms; null while none runs. */
  startedAtMs: number | null;
}

type Answer = WorkerMessage | 'exited' | 'timeout';

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** A worker that served this long before exiting is restarted after the first backoff again. */
const STABLE_AFTER_MS = 30_000;
/** After a worker's exit, how long to wait for its IPC channel to close (its last messages). */
const DISCONNECT_WAIT_MS = 1_000;

/**
 * One of the N worker positions of a WorkerCluster: the current worker process, its state,
 * its pending requests (drain, metrics) and its restart backoff.
 */
export class WorkerSlot {
  worker: Worker | null = null;
  state: WorkerView['state'] = 'stopped';
  restarts = 0;
  /** True once any worker of this slot has listened. */
  everReady = false;
  /** Latest requests in flight per backend id this worker reported. */
  inFlight: Record<string, number> = {};
  /** Its latest metrics answer (used when it does not answer in time, and retired when it exits). */
  lastMetrics: MetricsSnapshot | null = null;
  /** Resolves with the proxy port once the current worker listens; rejects if it fails or exits first. */
  ready: Promise<number> = Promise.resolve(0);
  private startedAtMs = 0;
  private backoffMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  private settleReady: { resolve(port: number): void; reject(err: Error): void } | null = null;
  private gone: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, { resolve(answer: Answer): void; timer: NodeJS.Timeout }>();

  constructor(readonly index: number) {}

  /** Take `worker` as this slot's current process (just forked). */
  fork(worker: Worker): Worker {
    this.worker = worker;
    this.state = 'starting';
    this.startedAtMs = Date.now();
    this.failure = null;
    this.inFlight = {};
    this.lastMetrics = null;
    this.ready = new Promise<number>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.ready.catch(() => undefined);
    const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const disconnect = new Promise<void>((resolve) => worker.once('disconnect', () => resolve()));
    // after exit, its last messages are read once the channel closes (or give up after a while)
    this.gone = exit.then(() => Promise.race([disconnect, new Promise<void>((resolve) => setTimeout(resolve, DISCONNECT_WAIT_MS).unref())]));
    return worker;
  }

  markReady(port: number): void {
    this.state = 'ready';
    this.everReady = true;
    this.settleReady?.resolve(port);
  }

  /** The worker reported a startup failure (it exits next); `ready` rejects with `err`. */
  fail(err: Error): void {
    this.failure = err;
  }

  /**
   * The process `worker` exited: settle what waited on it. Returns its last metrics snapshot
   * (to retire), or null when `worker` is not this slot's current process or never answered.
   */
  exited(worker: Worker, code: number | null, signal: string | null): MetricsSnapshot | null {
    if (this.worker !== worker) return null;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve('exited');
    }
    this.pending.clear();
    this.settleReady?.reject(this.failure ?? new Error(`worker ${this.index} exited (${signal ?? `code ${code}`}) before it listened`));
    this.settleReady = null;
    this.worker = null;
    this.state = 'stopped';
    this.inFlight = {};
    const last = this.lastMetrics;
    this.lastMetrics = null;
    return last;
  }

  /** Backoff before the next fork: 100 ms doubling to 10 s, back to 100 ms after a worker that ran 30 s. */
  nextBackoffMs(nowMs: number): number {
    this.backoffMs = this.backoffMs === 0 || nowMs - this.startedAtMs >= STABLE_AFTER_MS ? FIRST_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    return this.backoffMs;
  }

  scheduleRestart(delayMs: number, fork: () => void): void {
    this.state = 'restarting';
    this.restarts++;
    this.timer = setTimeout(() => {
      this.timer = null;
      fork();
    }, delayMs);
    this.timer.unref();
  }

  send(message: PrimaryMessage): void {
    if (this.worker?.isConnected()) this.worker.send(message);
  }

  /** Send `message` and resolve with the answer carrying `requestId`, 'exited' or 'timeout'. */
  request(requestId: number, message: PrimaryMessage, timeoutMs: number): Promise<Answer> {
    if (!this.worker?.isConnected()) return Promise.resolve('exited');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve('timeout');
      }, timeoutMs);
      timer.unref();
      this.pending.set(requestId, { resolve, timer });
      this.send(message);
    });
  }

  /** An answer arrived from the worker. */
  answer(requestId: number, message: WorkerMessage): void {
    const p = this.pending.get(requestId);
    if (p === undefined) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    p.resolve(message);
  }

  /**
   * Ask the worker to stop gracefully and wait until it has exited and its last messages are in;
   * SIGKILL it after `deadlineMs`. Cancels a pending restart.
   */
  async stop(deadlineMs: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const worker = this.worker;
    if (worker === null) {
      this.state = 'stopped';
      return;
    }
    // a worker still starting has nothing in flight and may not listen for messages yet
    if (this.state === 'ready') this.send({ type: 'prescale:shutdown' });
    else worker.process.kill('SIGTERM');
    const kill = setTimeout(() => worker.process.kill('SIGKILL'), deadlineMs);
    await this.gone;
    clearTimeout(kill);
  }

  view(requestsOf: (workerId: number) => number): WorkerView {
    const w = this.worker;
    let inFlight = 0;
    for (const n of Object.values(this.inFlight)) inFlight += n;
    return { index: this.index, pid: w?.process.pid ?? null, state: this.state, requests: w ? requestsOf(w.id) : 0, inFlight, restarts: this.restarts, startedAtMs: w ? this.startedAtMs : null };
  }
}
