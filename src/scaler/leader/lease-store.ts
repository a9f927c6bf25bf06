/**
 * Where the replicas of prescale keep their leader lease and the leader's latest decision
 * (STYLE.md §4: a small interface, declared by the elector that uses it). Two stores implement
 * it: Redis (`redis-lease-store.ts`, the single-instance lock pattern) and a Kubernetes
 * coordination.k8s.io/v1 Lease (`kubernetes-lease-store.ts`, client-go's resource lock).
 *
 * A store only moves records; timing (when a leader must stop acting) is the elector's job
 * (`leader-elector.ts`). A store call that fails rejects with an Error naming the store and the
 * operation; the elector logs it and treats it as a failed attempt.
 */

/** The leader's latest scaling decision, published so followers can report and follow it. */
export interface PublishedDecision {
  /** Identity of the leader that made it. */
  readonly holder: string;
  /** Fleet size the leader asked for (integer ≥ 0). */
  readonly desired: number;
  /** Decision reason (src/scaler/decide.ts DecisionReason), e.g. "forecast-scale-out". */
  readonly reason: string;
  readonly detail: string;
  /** When the leader decided, epoch ms. */
  readonly atMs: number;
  /** Instance ids the leader is draining before it asks the provider to remove them. */
  readonly victims: readonly string[];
}

/** What one acquire-or-renew attempt saw. */
export interface LeaseRecord {
  /** Identity holding an unexpired lease after the attempt; null when nobody does. */
  readonly holder: string | null;
  /** The latest decision a leader published, or null. */
  readonly decision: PublishedDecision | null;
}

export interface LeaseStore {
  /** For logs and status, e.g. "redis 127.0.0.1:6379 key prescale:leader". */
  readonly where: string;
  /**
   * One atomic step: take the lease for `identity` if it is free or expired, or extend it if
   * `identity` already holds it, to expire `leaseDurationMs` after the store applied the step.
   * Resolves the holder afterwards (`identity` when this replica leads) and the latest decision.
   */
  tryAcquireOrRenew(identity: string, leaseDurationMs: number): Promise<LeaseRecord>;
  /** Store `decision` if `identity` still holds the lease (compare-and-set); resolves whether it did. */
  publish(identity: string, decision: PublishedDecision): Promise<boolean>;
  /** Give the lease up if `identity` holds it (compare-and-delete), so another replica need not wait for it to expire. */
  release(identity: string): Promise<void>;
  /** Close connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Parse a published decision from the store (JSON text). Anything that is not one, including
 * text another version wrote, gives null rather than a half-read object.
 */
export function parsePublishedDecision(text: string | null | undefined): PublishedDecision | null {
  if (typeof text !== 'string' || text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const d = value as Partial<Record<keyof PublishedDecision, unknown>> | null;
  if (d === null || typeof d !== 'object') return null;
  const ok =
    typeof d.holder === 'string' &&
    typeof d.desired === 'number' && Number.isInteger(d.desired) && d.desired >= 0 &&
    typeof d.reason === 'string' &&
    typeof d.detail === 'string' &&
    typeof d.atMs === 'number' && Number.isFinite(d.atMs) &&
    Array.isArray(d.victims) && d.victims.every((v) => typeof v === 'string');
  return ok ? (d as PublishedDecision) : null;
}

/** Wrap a store failure in an Error that names the store and operation, keeping the cause. */
export function storeError(where: string, operation: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`leader lease (${where}): ${operation} failed: ${reason}`, { cause });
}
