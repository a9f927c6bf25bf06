import { Client } from 'undici';
import type { Backend, BackendOptions, BackendState } from './backend.js';
import { Backend as BackendClass } from './backend.js';
import type { Balancer } from './balancers/index.js';
import { PrescaleError } from '../errors.js';

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
  /** Weight each backend was added with (HAProxy `iweight`): the base of `set weight <n>%`. */
  private readonly initialWeights = new Map<string, number>();
  /** Ids inside `drainAndRemove`: draining for removal, not to be made ready again. */
  private readonly removing = new Set<string>();

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

  /**
   * A one-off HTTP connection to `backend`, outside its keep-alive pool, with the pool's
   * timeouts: for the one retry after a pooled connection broke before any response (one the
   * backend had closed while idle), which must not land on another stale pooled connection.
   * The caller closes it (`close()` waits for the request in flight).
   */
  freshConnection(backend: Backend): Client {
    const d = this.defaults;
    return new Client(backend.url, { connect: { timeout: d.connectTimeoutMs }, headersTimeout: d.firstByteTimeoutMs, bodyTimeout: d.idleTimeoutMs, pipelining: 1 });
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
    this.initialWeights.set(id, weight);
    this.list = [...this.list, backend];
    return backend;
  }

  /** The weight `id` was added with (what `percent` weights are relative to), or undefined for an unknown id. */
  initialWeight(id: string): number | undefined {
    return this.initialWeights.get(id);
  }

  /** True while `id` is being drained by `drainAndRemove` (it will be gone when that resolves). */
  isRemoving(id: string): boolean {
    return this.removing.has(id);
  }

  /**
   * Set the weight of `id` in place (HAProxy `set weight`); the balancer uses it from the next
   * pick, requests in flight are untouched. Returns the backend, or undefined when `id` is
   * unknown or being removed (its weight stays 0 then).
   * @throws PrescaleError PRESCALE_ERR_CONFIG when `weight` is negative, NaN or infinite
   */
  setWeight(id: string, weight: number): Backend | undefined {
    if (!(weight >= 0 && Number.isFinite(weight))) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `weight of backend ${id} must be a finite number ≥ 0, got ${weight}`);
    }
    const backend = this.byId.get(id);
    if (!backend || this.removing.has(id)) return undefined;
    backend.weight = weight;
    return backend;
  }

  /**
   * Set the state of `id` in place (HAProxy `set server state ready|drain|maint`, see
   * BackendState); effective from the next pick, requests in flight finish either way.
   * Returns the backend, or undefined when `id` is unknown or being removed (it stays 'drain').
   */
  setState(id: string, state: BackendState): Backend | undefined {
    const backend = this.byId.get(id);
    if (!backend || this.removing.has(id)) return undefined;
    backend.state = state;
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
    this.removing.add(id);
    const drained = await backend.waitIdle(drainTimeoutMs);
    if (this.byId.get(id) === backend) {
      this.byId.delete(id);
      this.initialWeights.delete(id);
      this.removing.delete(id);
    }
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
    this.initialWeights.clear();
    this.removing.clear();
    await Promise.all(all.map((b) => b.close().catch(() => undefined)));
  }
}
