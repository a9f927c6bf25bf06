/**
 * The small interface the scaler needs from whatever owns the instances (STYLE.md §4).
 * Providers live in src/scaler/providers/, one file each, and implement it.
 *
 * Calls are idempotent: `setDesired(n)` states the wanted size, never "add one".
 */
export interface Instance {
  /** Stable id the provider uses for the instance (e.g. "local-3", an EC2 id, a pod name). */
  readonly id: string;
  /** Base URL of the backend once it has an address, e.g. "http://127.0.0.1:41234"; null while booting. */
  readonly url: string | null;
  /** 'provisioning': asked for, not yet reachable; 'running': has an address (may still fail health checks). */
  readonly state: 'provisioning' | 'running';
  /** When the provider was asked for this instance (epoch ms); used to measure the lead time. */
  readonly requestedAtMs: number;
}

export interface Fleet {
  readonly instances: readonly Instance[];
}

export interface CapacityProvider {
  readonly name: string;
  /** The actual fleet now (never cached across a restart). */
  describe(): Promise<Fleet>;
  /**
   * Ask for `desired` instances in all. When shrinking, `remove` names the victims, which the
   * caller has already drained through the balancer; a provider removes exactly those.
   * @throws PrescaleError PRESCALE_ERR_PROVIDER when the provider cannot act.
   */
  setDesired(desired: number, options?: { remove?: readonly string[] }): Promise<void>;
  /**
   * Release the provider's own resources on shutdown. Local processes are stopped; a cloud group
   * or Kubernetes workload is left as it is (stopping production because prescale stops would
   * be wrong).
   */
  close(): Promise<void>;
  /**
   * Optional: which `count` of these instances to remove, when the platform decides (a
   * StatefulSet always removes its highest ordinals). Without it the scaler picks booting
   * instances first, then the newest running ones.
   */
  pickVictims?(instances: readonly Instance[], count: number): Instance[];
}
