/**
 * Leader election among prescale replicas over a LeaseStore, with the timing of Kubernetes
 * client-go's leaderelection package (k8s.io/client-go/tools/leaderelection):
 *
 * - every `retryPeriodMs` each replica tries to acquire the lease, or, when it holds it, to renew
 *   it for `leaseDurationMs`;
 * - a leader that has not renewed successfully for `renewDeadlineMs` (< leaseDurationMs) stops
 *   leading at once, whether or not its renew calls are still hanging. Its validity is counted
 *   from the moment it *sent* its last successful renew, on this process's monotonic clock, while
 *   the store counts the lease from when it applied that renew, which is later. So the old leader
 *   has stopped at least `leaseDurationMs − renewDeadlineMs` before any other replica can take the
 *   lease: that margin covers clock-rate drift and a provider call already under way.
 * - isLeader() is computed on every call from the clock, not from a timer, so a busy event loop
 *   that fires timers late cannot stretch leadership past the deadline.
 *
 * Handover after a leader dies: its lease expires at most `leaseDurationMs` after its last renew,
 * and a follower tries again within `retryPeriodMs`, so another replica leads within
 * leaseDurationMs + retryPeriodMs (plus one store round trip). On stop() the leader releases the
 * lease and a follower takes over at its next attempt (≤ retryPeriodMs).
 *
 * Events: 'started-leading', 'stopped-leading' (reason: 'lease-lost' | 'renew-deadline' |
 * 'stopped'), 'observed' (LeaderState, after every attempt).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { LeaseStore, PublishedDecision } from './lease-store.js';

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  /** Unique among the replicas (default hostname-pid, see build-leader-elector.ts). */
  readonly identity: string;
  /** How long a lease lasts after its last renew, ms. */
  readonly leaseDurationMs: number;
  /** A leader steps down when it has not renewed for this long, ms; < leaseDurationMs. */
  readonly renewDeadlineMs: number;
  /** Time between attempts (renew interval), ms; < renewDeadlineMs. */
  readonly retryPeriodMs: number;
  /** Monotonic clock in ms; default performance.now. */
  readonly clock?: () => number;
  readonly logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

/** What /v1/status shows. */
export interface LeaderState {
  readonly isLeader: boolean;
  readonly identity: string;
  /** The holder seen at the last attempt (this replica's identity when it leads), or null. */
  readonly holder: string | null;
  /** The latest decision a leader published, as last seen. */
  readonly decision: PublishedDecision | null;
}

export type StepDownReason = 'lease-lost' | 'renew-deadline' | 'stopped';

export class LeaderElector extends EventEmitter {
  readonly identity: string;
  readonly #options: LeaderElectorOptions;
  readonly #clock: () => number;
  #leading = false;
  /** Clock time at which the last successful acquire/renew was sent. */
  #renewedAtMs = Number.NEGATIVE_INFINITY;
  #holder: string | null = null;
  #decision: PublishedDecision | null = null;
  #attemptTimer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #stopped = false;
  #heldAtResign = false;
  #failures = 0;

  /** @throws RangeError unless 0 < retryPeriodMs < renewDeadlineMs < leaseDurationMs. */
  constructor(options: LeaderElectorOptions) {
    super();
    const { retryPeriodMs, renewDeadlineMs, leaseDurationMs } = options;
    if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
      throw new RangeError(`leader election needs 0 < retryPeriodMs (${retryPeriodMs}) < renewDeadlineMs (${renewDeadlineMs}) < leaseDurationMs (${leaseDurationMs})`);
    }
    this.#options = options;
    this.identity = options.identity;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /**
   * Make the first attempt (resolves after it, leader or not; at most renewDeadlineMs), then keep
   * trying every retry period (the next attempt starts a retry period after the previous one
   * started, or at once when that one took longer).
   */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#attemptAndSchedule();
  }

  /** True while this replica holds the lease and its last renew is younger than renewDeadlineMs. */
  isLeader(): boolean {
    return this.#leading && this.#clock() - this.#renewedAtMs < this.#options.renewDeadlineMs;
  }

  state(): LeaderState {
    const isLeader = this.isLeader();
    return { isLeader, identity: this.identity, holder: isLeader ? this.identity : this.#holder, decision: this.#decision };
  }

  /** Consecutive failed attempts (store unreachable or slow). */
  get failures(): number {
    return this.#failures;
  }

  /** Followers: the instances the leader is draining (from its latest published decision). */
  leaderVictims(): readonly string[] {
    return this.isLeader() ? [] : (this.#decision?.victims ?? []);
  }

  /** How long a follower may take to see a published decision: one and a half retry periods, ms. */
  get followerLagMs(): number {
    return Math.ceil(this.#options.retryPeriodMs * 1.5);
  }

  /**
   * Leader only: publish `decision` for the followers (compare-and-set on the lease).
   * Resolves whether it was stored; never rejects (a failure is logged).
   */
  async publish(decision: Omit<PublishedDecision, 'holder'>): Promise<boolean> {
    if (!this.isLeader()) return false;
    const full: PublishedDecision = { ...decision, holder: this.identity };
    try {
      const stored = await this.#options.store.publish(this.identity, full);
      if (stored) this.#decision = full;
      return stored;
    } catch (err) {
      this.#options.logger?.warn({ err }, 'publishing the decision to the leader lease failed');
      return false;
    }
  }

  /**
   * Stop leading and trying, at once and for good, without releasing the lease yet: on shutdown,
   * resign first, wait for provider calls already under way, then stop() hands the lease over.
   */
  resign(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#attemptTimer) clearTimeout(this.#attemptTimer);
    this.#attemptTimer = null;
    this.#heldAtResign = this.#leading;
    this.#stepDown('stopped');
  }

  /**
   * Stop for good (resign() if not done yet); a replica that led releases the lease (bounded by
   * renewDeadlineMs), so a follower takes over at its next attempt; then the store is closed.
   */
  async stop(): Promise<void> {
    this.resign();
    const wasLeader = this.#heldAtResign;
    this.#heldAtResign = false;
    if (wasLeader) {
      await withTimeout(this.#options.store.release(this.identity), this.#options.renewDeadlineMs).catch((err: unknown) => {
        this.#options.logger?.warn({ err }, 'releasing the leader lease failed; it expires by itself');
      });
    }
    await this.#options.store.close();
  }

  async #attemptAndSchedule(): Promise<void> {
    const startedAtMs = this.#clock();
    await this.#attempt();
    if (this.#stopped) return;
    const waitMs = Math.max(0, startedAtMs + this.#options.retryPeriodMs - this.#clock());
    this.#attemptTimer = setTimeout(() => void this.#attemptAndSchedule(), waitMs);
    this.#attemptTimer.unref();
  }

  async #attempt(): Promise<void> {
    const { store, identity, leaseDurationMs, renewDeadlineMs, logger } = this.#options;
    const sentAtMs = this.#clock();
    let holder: string | null;
    try {
      // an answer later than the renew deadline is of no use (client-go bounds a renew the same way)
      const record = await withTimeout(store.tryAcquireOrRenew(identity, leaseDurationMs), renewDeadlineMs);
      holder = record.holder;
      this.#holder = record.holder;
      this.#decision = record.decision;
      this.#failures = 0;
    } catch (err) {
      this.#failures += 1;
      logger?.warn({ err, failures: this.#failures, leading: this.isLeader() }, 'leader lease attempt failed');
      return;
    }
    if (this.#stopped) return;
    if (holder === identity && this.#clock() - sentAtMs < renewDeadlineMs) {
      this.#renewedAtMs = sentAtMs;
      this.#armDeadline();
      if (!this.#leading) {
        this.#leading = true;
        logger?.info({ identity, store: store.where }, 'leader lease acquired: this replica scales');
        this.emit('started-leading');
      }
    } else if (this.#leading) {
      this.#stepDown('lease-lost');
    }
    this.emit('observed', this.state());
  }

  /** Step down when the renew deadline passes without a successful renew (isLeader() is exact anyway). */
  #armDeadline(): void {
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    const dueMs = this.#renewedAtMs + this.#options.renewDeadlineMs - this.#clock();
    // libuv counts a timer from its cached loop time, which can lag the monotonic clock, so the
    // timer may fire a little before the deadline: then it is armed again for the remainder.
    this.#deadlineTimer = setTimeout(() => {
      if (!this.#leading) return;
      if (this.isLeader()) this.#armDeadline();
      else this.#stepDown('renew-deadline');
    }, Math.max(0, dueMs) + 1);
    this.#deadlineTimer.unref();
  }

  #stepDown(reason: StepDownReason): void {
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = null;
    if (!this.#leading) return;
    this.#leading = false;
    this.#renewedAtMs = Number.NEGATIVE_INFINITY;
    this.#options.logger?.warn({ identity: this.identity, reason }, 'leader lease lost: this replica stops scaling and follows');
    this.emit('stopped-leading', reason);
  }
}

/** Reject when `promise` has not settled after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
