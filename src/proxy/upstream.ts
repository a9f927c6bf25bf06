import type { Backend, BackendOptions, BackendState } from './backend.js';
import { Backend as BackendClass } from './backend.js';
import type { Balancer } from './balancers/index.js';

export type UpstreamBackendDefaults = Omit<BackendOptions, 'id' | 'url' | 'weight'>;

/** Snapshot of one backend for the admin API, metrics and the scaler. */
export interface BackendStatus {
  id: string;
  url: string;
  state: BackendState;
  healthy: boolean;
  weight: number;
  inFlight: number;
}

/**
 * The group of backends behind one listener (nginx `upstream`, HAProxy `backend`): membership,
 * state, weights and the balancing algorithm. The backend list is replaced, never mutated in
 * place, so a pick iterating it is never disturbed by a change.
 */
export class Upstream {
  private list: readonly Backend[] = [];
  private readonly byId = new Map<string, Backend>();

  constructor(
    readonly balancer: Balancer,
    private readonly defaults: UpstreamBackendDefaults,
  ) {}

  get backends(): readonly Backend[] {
    return this.list;
  }

  /** Pick a backend for a new request (`key` for the hashing algorithms), or undefined when none is eligible. */
  pick(key?: string): Backend | undefined {
    return this.balancer.pick(this.list, key);
  }

  /** Pick with the same key, skipping `exclude` (a backend that already failed this request). */
  pickExcept(exclude: Backend, key?: string): Backend | undefined {
    const saved = exclude.state;
    exclude.state = 'maint';
    try {
      return this.balancer.pick(this.list, key);
    } finally {
      if (this.byId.get(exclude.id) === exclude) exclude.state = saved;
    }
  }

  get(id: string): Backend | undefined {
    return this.byId.get(id);
  }

  /**
   * Add a backend in state `state` (default 'maint': not sent traffic until set ready and healthy).
   * Adding an existing id returns the existing backend unchanged.
   */
  add(id: string, url: string, weight: number, state: BackendState = 'maint', healthy = false): Backend {
    const existing = this.byId.get(id);
    if (existing) return existing;
    const backend = new BackendClass({ ...this.defaults, id, url, weight });
    backend.state = state;
    backend.healthy = healthy;
    this.byId.set(id, backend);
    this.list = [...this.list, backend];
    return backend;
  }

  /**
   * Drain then remove: the backend stops receiving new requests at once, in-flight ones finish
   * (or `drainTimeoutMs` passes), then its connection pool closes.
   * Resolves `{ drained }`: false when the drain timed out with requests still in flight.
   */
  async drainAndRemove(id: string, drainTimeoutMs: number): Promise<{ drained: boolean }> {
    const backend = this.byId.get(id);
    if (!backend) return { drained: true };
    backend.state = 'drain';
    backend.weight = 0;
    const drained = await backend.waitIdle(drainTimeoutMs);
    this.byId.delete(id);
    this.list = this.list.filter((b) => b !== backend);
    await backend.close().catch(() => undefined);
    return { drained };
  }

  status(): BackendStatus[] {
    return this.list.map((b) => ({ id: b.id, url: b.url, state: b.state, healthy: b.healthy, weight: b.weight, inFlight: b.inFlight }));
  }

  /** Number of backends that can take traffic now. */
  readyCount(): number {
    let n = 0;
    for (const b of this.list) if (b.eligible) n++;
    return n;
  }

  async close(): Promise<void> {
    const all = this.list;
    this.list = [];
    this.byId.clear();
    await Promise.all(all.map((b) => b.close().catch(() => undefined)));
  }
}
