/**
 * Admission control for the sample backend: at most `concurrency` holders at once, the rest wait
 * in a FIFO queue of at most `queueLimit`; a waiter that is still queued after `queueTimeoutMs`
 * is turned away. This is the M/M/c/K shape of a real server (c workers, K waiting room), so an
 * under-provisioned fleet shows up as queueing latency first and as 503s after that.
 *
 * Cost: O(1) per acquire/release except cancelling a queued waiter, O(queue length).
 */

/** Outcome of `acquire`: a slot to `release()` exactly once, or the reason it was refused. */
export type Admission =
  | { readonly kind: 'admitted'; readonly waitedMs: number; release(): void }
  | { readonly kind: 'rejected'; readonly reason: 'queue-full' | 'queue-timeout' | 'cancelled' };

export interface SlotQueueOptions {
  /** Requests served at the same time (integer ≥ 1). */
  readonly concurrency: number;
  /** Requests allowed to wait for a slot (integer ≥ 0); the next one is rejected at once. */
  readonly queueLimit: number;
  /** Longest wait in the queue (ms ≥ 0) before the waiter is rejected with 'queue-timeout'. */
  readonly queueTimeoutMs: number;
}

interface Waiter {
  readonly enqueuedAtMs: number;
  readonly resolve: (admission: Admission) => void;
  timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class SlotQueue {
  readonly #options: SlotQueueOptions;
  #active = 0;
  readonly #waiters: Waiter[] = [];
  #idleListeners: Array<() => void> = [];

  constructor(options: SlotQueueOptions) {
    this.#options = options;
  }

  /** Slots held now. */
  get inFlight(): number {
    return this.#active;
  }

  /** Waiters queued now. */
  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * Take a slot now, wait for one in FIFO order, or be rejected. Never rejects the promise.
   * @param signal aborting it while queued resolves `{ kind: 'rejected', reason: 'cancelled' }`
   */
  acquire(signal?: AbortSignal): Promise<Admission> {
    if (signal?.aborted) return Promise.resolve({ kind: 'rejected', reason: 'cancelled' });
    if (this.#active < this.#options.concurrency) {
      this.#active += 1;
      return Promise.resolve(this.#admitted(0));
    }
    if (this.#waiters.length >= this.#options.queueLimit) {
      return Promise.resolve({ kind: 'rejected', reason: 'queue-full' });
    }
    return new Promise<Admission>((resolve) => {
      const waiter: Waiter = { enqueuedAtMs: Date.now(), resolve, timer: undefined, signal, onAbort: undefined };
      waiter.timer = setTimeout(() => this.#drop(waiter, 'queue-timeout'), this.#options.queueTimeoutMs);
      if (signal) {
        waiter.onAbort = () => this.#drop(waiter, 'cancelled');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Resolves once no slot is held and nobody is queued (at once if that is already so). */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleListeners.push(resolve));
  }

  #admitted(waitedMs: number): Admission {
    let released = false;
    return {
      kind: 'admitted',
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.#active -= 1;
        this.#next();
      },
    };
  }

  #next(): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#settle(waiter);
      this.#active += 1;
      waiter.resolve(this.#admitted(Date.now() - waiter.enqueuedAtMs));
      return;
    }
    if (this.#active === 0) this.#notifyIdle();
  }

  #drop(waiter: Waiter, reason: 'queue-timeout' | 'cancelled'): void {
    const index = this.#waiters.indexOf(waiter);
    if (index === -1) return;
    this.#waiters.splice(index, 1);
    this.#settle(waiter);
    waiter.resolve({ kind: 'rejected', reason });
    if (this.#active === 0 && this.#waiters.length === 0) this.#notifyIdle();
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  #notifyIdle(): void {
    const listeners = this.#idleListeners;
    this.#idleListeners = [];
    for (const listener of listeners) listener();
  }
}
