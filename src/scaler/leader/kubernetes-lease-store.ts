/**
 * The leader lease as a Kubernetes coordination.k8s.io/v1 Lease (@kubernetes/client-node 1.x
 * CoordinationV1Api), with client-go's LeaseLock semantics (k8s.io/client-go/tools/leaderelection
 * tryAcquireOrRenew):
 *
 * - GET the Lease; 404 → CREATE it held by us (a 409 AlreadyExists means another replica won).
 * - Expiry is judged on this process's monotonic clock, never on the writer's renewTime: a
 *   record (spec) seen unchanged for leaseDurationSeconds since we first observed it is expired,
 *   so clock skew between nodes does not matter. An empty holderIdentity is free at once.
 * - Acquire or renew is a REPLACE (PUT) carrying the resourceVersion we read: if anyone wrote in
 *   between, the API server answers 409 Conflict and we did not get it (optimistic concurrency).
 * - Release (client-go ReleaseOnCancel) writes holderIdentity "" and leaseDurationSeconds 1.
 * - The leader's decision is the annotation `prescale.dev/decision` (JSON) on the same Lease,
 *   written with the same compare-and-set.
 *
 * This replica's own operations run one at a time, so its publish never races its renew. A renew
 * that meets a 409 while the Lease still names us fails (the elector retries; the lease is not
 * counted as renewed), rather than reading as a lost lease.
 *
 * leaseDurationSeconds is whole seconds: a duration in ms is rounded up.
 * RBAC: get, create, update on leases in the namespace.
 */
import { ApiException, CoordinationV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import { loadKubeConfig, type KubeConfigSource } from '../providers/kubernetes-config.js';
import { parsePublishedDecision, storeError, type LeaseRecord, type LeaseStore, type PublishedDecision } from './lease-store.js';

export const DECISION_ANNOTATION = 'prescale.dev/decision';

export interface KubernetesLeaseStoreOptions extends KubeConfigSource {
  readonly namespace: string;
  /** Name of the Lease object (created when missing). */
  readonly name: string;
  /** Give up on an API call after this long, ms > 0. */
  readonly requestTimeoutMs: number;
  /** Monotonic clock in ms (for expiry); default performance.now. */
  readonly clock?: () => number;
  /** Wall clock in epoch ms (for acquireTime/renewTime); default Date.now. */
  readonly now?: () => number;
}

export class KubernetesLeaseStore implements LeaseStore {
  readonly where: string;
  readonly #options: KubernetesLeaseStoreOptions;
  readonly #api: CoordinationV1Api;
  readonly #clock: () => number;
  readonly #now: () => number;
  /** The record last seen and when it was first seen (client-go observedRecord / observedTime). */
  #observed: { spec: string; atMs: number } | null = null;
  /** The tail of this replica's operations, run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  /** @throws PrescaleError PRESCALE_ERR_CONFIG when the kubeconfig cannot be loaded. */
  constructor(options: KubernetesLeaseStoreOptions) {
    this.#options = options;
    this.where = `kubernetes lease ${options.namespace}/${options.name}`;
    this.#api = loadKubeConfig(options).makeApiClient(CoordinationV1Api);
    this.#clock = options.clock ?? (() => performance.now());
    this.#now = options.now ?? Date.now;
  }

  tryAcquireOrRenew(identity: string, leaseDurationMs: number): Promise<LeaseRecord> {
    return this.#serial(() => this.#acquireOrRenew(identity, leaseDurationMs));
  }

  publish(identity: string, decision: PublishedDecision): Promise<boolean> {
    return this.#serial(() => this.#publish(identity, decision));
  }

  release(identity: string): Promise<void> {
    return this.#serial(() => this.#release(identity));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #acquireOrRenew(identity: string, leaseDurationMs: number): Promise<LeaseRecord> {
    const seconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));
    const lease = await this.#read('acquire or renew');
    if (lease === null) {
      const created = await this.#write('create', () => this.#api.createNamespacedLease({ namespace: this.#options.namespace, body: this.#newLease(identity, seconds) }));
      if (created === null) return this.#recordOf(await this.#read('read after a lost create'), identity);
      this.#observe(created);
      return { holder: identity, decision: null };
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ? spec.holderIdentity : null;
    const observedAtMs = this.#observe(lease);
    const heldMs = (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (holder !== null && holder !== identity && observedAtMs + heldMs > this.#clock()) {
      return { holder, decision: decisionOf(lease) };
    }
    const nowTime = new V1MicroTime(this.#now());
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: seconds,
        acquireTime: holder === identity && spec.acquireTime ? spec.acquireTime : nowTime,
        renewTime: nowTime,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    const replaced = await this.#replace('acquire or renew', body);
    if (replaced === null) {
      const now = await this.#read('read after a conflict');
      if (now?.spec?.holderIdentity === identity) throw storeError(this.where, 'renew', new Error('409 Conflict: the Lease changed since it was read; retrying at the next attempt'));
      return this.#recordOf(now, identity);
    }
    this.#observe(replaced);
    return { holder: identity, decision: decisionOf(replaced) };
  }

  async #publish(identity: string, decision: PublishedDecision): Promise<boolean> {
    const lease = await this.#read('publish');
    if (lease === null || lease.spec?.holderIdentity !== identity) return false;
    const annotations = { ...(lease.metadata?.annotations ?? {}), [DECISION_ANNOTATION]: JSON.stringify(decision) };
    const replaced = await this.#replace('publish', { ...lease, metadata: { ...lease.metadata, annotations } });
    if (replaced !== null) this.#observe(replaced);
    return replaced !== null;
  }

  async #release(identity: string): Promise<void> {
    const lease = await this.#read('release');
    if (lease === null || lease.spec?.holderIdentity !== identity) return;
    const nowTime = new V1MicroTime(this.#now());
    await this.#replace('release', {
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: nowTime, renewTime: nowTime },
    });
  }

  /** Note `lease`'s record; returns when it was first seen unchanged (monotonic ms). */
  #observe(lease: V1Lease): number {
    const spec = JSON.stringify(lease.spec ?? {});
    if (this.#observed === null || this.#observed.spec !== spec) this.#observed = { spec, atMs: this.#clock() };
    return this.#observed.atMs;
  }

  #recordOf(lease: V1Lease | null, identity: string): LeaseRecord {
    if (lease === null) return { holder: null, decision: null };
    this.#observe(lease);
    const holder = lease.spec?.holderIdentity ? lease.spec.holderIdentity : null;
    return { holder: holder === identity ? null : holder, decision: decisionOf(lease) };
  }

  #newLease(identity: string, seconds: number): V1Lease {
    const nowTime = new V1MicroTime(this.#now());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#options.name, namespace: this.#options.namespace },
      spec: { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: nowTime, renewTime: nowTime, leaseTransitions: 0 },
    };
  }

  /** GET the Lease; null when it does not exist. */
  #read(operation: string): Promise<V1Lease | null> {
    const { name, namespace } = this.#options;
    return this.#call(operation, () => this.#api.readNamespacedLease({ name, namespace }), 404);
  }

  /** PUT `body` (its resourceVersion is the precondition); null on 409 Conflict. */
  #replace(operation: string, body: V1Lease): Promise<V1Lease | null> {
    const { name, namespace } = this.#options;
    return this.#write(operation, () => this.#api.replaceNamespacedLease({ name, namespace, body }));
  }

  #write(operation: string, run: () => Promise<V1Lease>): Promise<V1Lease | null> {
    return this.#call(operation, run, 409);
  }

  /** One API call with a deadline; the HTTP status `absentOn` resolves null, other failures reject. */
  async #call<T>(operation: string, run: () => Promise<T>, absentOn: number): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#options.requestTimeoutMs} ms`)), this.#options.requestTimeoutMs);
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (err) {
      if (err instanceof ApiException && Number((err as ApiException<unknown>).code) === absentOn) return null;
      throw storeError(this.where, operation, err instanceof ApiException ? new Error(`HTTP ${(err as ApiException<unknown>).code}: ${String((err as ApiException<unknown>).body)}`, { cause: err }) : err);
    } finally {
      clearTimeout(timer);
    }
  }
}

function decisionOf(lease: V1Lease): PublishedDecision | null {
  return parsePublishedDecision(lease.metadata?.annotations?.[DECISION_ANNOTATION]);
}
