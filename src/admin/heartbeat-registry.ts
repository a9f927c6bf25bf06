/**
 * TTL bookkeeping for self-registering backends, after Consul's TTL checks
 * (https://developer.hashicorp.com/consul/docs/services/usage/checks#ttl-checks): a backend
 * announces itself with a time to live and must call again before it passes; one that stays
 * silent for longer than its TTL is expired, and whoever listens (the admin API) drains and
 * removes it.
 *
 * Time is data: `beat` reads the injected clock, `sweep(nowMs)` takes the time as an argument,
 * and nothing here owns a timer. The admin server calls `sweep(clock.now())` from an unref'd
 * interval; tests call `sweep` with any time they like instead of sleeping.
 */

/** A clock in milliseconds (epoch ms in production, anything monotonic in tests). */
export interface HeartbeatClock {
  now(): number;
}

/** One registered backend: its TTL and when it expires unless it beats again. */
export interface HeartbeatEntry {
  readonly id: string;
  readonly ttlMs: number;
  readonly lastBeatMs: number;
  /** `lastBeatMs + ttlMs`: a sweep at or after this time expires the entry. */
  readonly expiresAtMs: number;
}

export type ExpireListener = (id: string) => void;

export class HeartbeatRegistry {
  readonly #clock: HeartbeatClock;
  readonly #entries = new Map<string, HeartbeatEntry>();
  readonly #listeners = new Set<ExpireListener>();

  /** @param clock default epoch ms (`Date.now`) */
  constructor(clock: HeartbeatClock = { now: () => Date.now() }) {
    this.#clock = clock;
  }

  /** The injected clock's current time (ms). */
  now(): number {
    return this.#clock.now();
  }

  /**
   * Record a heartbeat from `id` now: registers it (returns `registered: true`) or refreshes
   * it, in both cases with the given TTL from now. O(1).
   * @throws RangeError when `ttlMs` is not a finite number > 0 (the API validates it first)
   */
  beat(id: string, ttlMs: number): { entry: HeartbeatEntry; registered: boolean } {
    if (!(ttlMs > 0 && Number.isFinite(ttlMs))) throw new RangeError(`heartbeat ttlMs must be a finite number > 0, got ${ttlMs}`);
    const nowMs = this.#clock.now();
    const registered = !this.#entries.has(id);
    const entry: HeartbeatEntry = { id, ttlMs, lastBeatMs: nowMs, expiresAtMs: nowMs + ttlMs };
    this.#entries.set(id, entry);
    return { entry, registered };
  }

  get(id: string): HeartbeatEntry | undefined {
    return this.#entries.get(id);
  }

  /** Every registered entry, in registration order (a copy). */
  list(): HeartbeatEntry[] {
    return [...this.#entries.values()];
  }

  /** Stop tracking `id` without expiring it (it was removed another way). Returns whether it was tracked. */
  forget(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** Call `listener(id)` for every entry a sweep expires; returns the unsubscribe function. */
  onExpire(listener: ExpireListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Expire every entry whose `expiresAtMs` ≤ `nowMs`: forget it, tell the listeners, and return
   * the expired ids (registration order). O(n) in registered entries. A NaN `nowMs` expires
   * nothing. A throwing listener is reported as a process warning; the others still run.
   */
  sweep(nowMs: number): string[] {
    const expired: string[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.expiresAtMs <= nowMs) expired.push(entry.id);
    }
    for (const id of expired) {
      this.#entries.delete(id);
      for (const listener of this.#listeners) {
        try {
          listener(id);
        } catch (error) {
          process.emitWarning(`heartbeat expiry listener for ${id} threw: ${String(error)}`, 'PrescaleHeartbeatWarning');
        }
      }
    }
    return expired;
  }
}
