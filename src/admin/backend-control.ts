import { randomUUID } from 'node:crypto';
import type { Backend, BackendState } from '../proxy/backend.js';
import type { Upstream } from '../proxy/upstream.js';
import { HeartbeatRegistry } from './heartbeat-registry.js';

/** What the runtime API needs from the composition root (app.ts). */
export interface RuntimeApiOptions {
  /** The upstream the proxy balances over; weight and state changes mutate its Backend objects. */
  upstream: Upstream;
  /** Bearer token every mutation needs (config `admin.token`); undefined: every mutation gets 403. */
  token: string | undefined;
  /**
   * Add a backend and start health-checking it; it must take traffic once healthy (app.ts:
   * `upstream.add(id, url, weight, 'ready', false); health.add(id, url)`). Only called for
   * an id the upstream does not hold.
   */
  admit(id: string, url: string, weight: number): void;
  /**
   * Drain then remove, also stopping its health checks (app.ts: `upstream.drainAndRemove` then
   * `health.remove(id)`); default: `upstream.drainAndRemove`.
   */
  drainAndRemove?(id: string, drainTimeoutMs: number): Promise<{ drained: boolean }>;
  /** Heartbeat TTLs of self-registered backends; default: a registry on epoch ms. */
  heartbeats?: HeartbeatRegistry;
  /** How often expired heartbeats are swept (ms) while the admin server listens; default 1000. */
  heartbeatSweepIntervalMs?: number;
  /** Drain timeout for DELETE without `drainTimeoutMs` and for expired heartbeats (ms); default 30 000. */
  drainTimeoutMs?: number;
}

/** One backend as the API shows it. */
export interface BackendView {
  id: string;
  url: string;
  state: BackendState;
  weight: number;
  /** The weight it was added with: what `{"percent": n}` is relative to. */
  initialWeight: number;
  /** The weight the weighted balancers use now (`weight` until slow start ramps it). */
  effectiveWeight: number;
  inFlight: number;
  healthy: boolean;
  /** True while it drains before removal (DELETE, heartbeat expiry or scale-in). */
  removing: boolean;
}

/**
 * The runtime API's view of the upstream plus the one removal path: DELETE and heartbeat
 * expiry both go through `remove`, so a backend is drained once however many ask, and a
 * removed backend's heartbeat is forgotten. From construction on, every id a
 * `heartbeats.sweep` expires is drained and removed (with `drainTimeoutMs`).
 */
export class BackendControl {
  readonly upstream: Upstream;
  readonly heartbeats: HeartbeatRegistry;
  readonly defaultDrainTimeoutMs: number;
  readonly #options: RuntimeApiOptions;
  readonly #removals = new Map<string, Promise<{ drained: boolean }>>();

  constructor(options: RuntimeApiOptions) {
    this.#options = options;
    this.upstream = options.upstream;
    this.heartbeats = options.heartbeats ?? new HeartbeatRegistry();
    this.defaultDrainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.heartbeats.onExpire((id) => {
      if (!this.upstream.get(id)) return;
      this.remove(id, this.defaultDrainTimeoutMs).catch((error: unknown) => {
        process.emitWarning(`removing backend ${id} after its heartbeat expired failed: ${String(error)}`, 'PrescaleHeartbeatWarning');
      });
    });
  }

  view(b: Backend): BackendView {
    return {
      id: b.id,
      url: b.url,
      state: b.state,
      weight: b.weight,
      initialWeight: this.upstream.initialWeight(b.id) ?? b.weight,
      effectiveWeight: b.effectiveWeight,
      inFlight: b.inFlight,
      healthy: b.healthy,
      removing: this.isRemoving(b.id),
    };
  }

  list(): BackendView[] {
    return this.upstream.backends.map((b) => this.view(b));
  }

  isRemoving(id: string): boolean {
    return this.#removals.has(id) || this.upstream.isRemoving(id);
  }

  /** Admit a new backend through the injected callback; returns it as the upstream now holds it, or undefined if the callback did not add it. */
  admit(id: string, url: string, weight: number): Backend | undefined {
    this.#options.admit(id, url, weight);
    return this.upstream.get(id);
  }

  /** A fresh id for a backend added without one: `admin-` and 8 hex digits, not in use. */
  newId(): string {
    for (;;) {
      const id = `admin-${randomUUID().slice(0, 8)}`;
      if (!this.upstream.get(id)) return id;
    }
  }

  /**
   * Drain `id` (no new requests from now on), wait for its in-flight requests or
   * `drainTimeoutMs`, then remove it. A second call while one runs joins it.
   */
  remove(id: string, drainTimeoutMs: number): Promise<{ drained: boolean }> {
    const pending = this.#removals.get(id);
    if (pending) return pending;
    this.heartbeats.forget(id);
    const drainAndRemove = this.#options.drainAndRemove ?? ((i: string, ms: number) => this.upstream.drainAndRemove(i, ms));
    const removal = drainAndRemove(id, drainTimeoutMs).finally(() => this.#removals.delete(id));
    this.#removals.set(id, removal);
    return removal;
  }

  /**
   * Call `heartbeats.sweep(now)` every `heartbeatSweepIntervalMs` on an unref'd interval (an
   * expired backend is drained and removed, see the constructor); returns the stop function.
   */
  startHeartbeatSweeps(): () => void {
    const timer = setInterval(() => this.heartbeats.sweep(this.heartbeats.now()), this.#options.heartbeatSweepIntervalMs ?? 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}
