/**
 * Capacity provider for a Kubernetes Deployment or StatefulSet, through its scale subresource
 * (the same API `kubectl scale` and the HPA use), with @kubernetes/client-node 1.x.
 *
 * - describe(): GET .../{deployments|statefulsets}/{name}/scale for status.selector, then the pods
 *   matching it. Ready Running pods with an IP are 'running' at http://{podIP}:{port}; Pending,
 *   Unknown and not-ready pods are 'provisioning'; terminating and finished pods are left out.
 *   Ids are pod names; requestedAtMs is the pod's creationTimestamp. StatefulSet pods come in
 *   ordinal order, Deployment pods oldest first, so "the newest" is the one Kubernetes removes
 *   first when nothing else tells it otherwise.
 * - setDesired(n, { remove }): merge-patches spec.replicas of the scale subresource.
 *   Deployment: each named victim first gets `controller.kubernetes.io/pod-deletion-cost: "-1000"`
 *   so the ReplicaSet controller deletes it first; a victim annotation left by an earlier scale-in
 *   that never happened is removed, so only today's victims are preferred. The controller ranks
 *   unscheduled, Pending and not-ready pods below ready ones before it looks at the cost; a
 *   warning is logged when that may pick another pod.
 *   StatefulSet: the controller ignores deletion cost and always removes the highest ordinals, so
 *   named victims must be those (see statefulSetVictims); otherwise nothing is changed and
 *   PRESCALE_ERR_PROVIDER is thrown, rather than removing a pod that was never drained.
 * - close() leaves the workload as it is: the pods are not prescale's to stop on shutdown.
 *
 * RBAC: get, patch on deployments/scale (or statefulsets/scale); list, patch on pods.
 */
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod, type V1Scale } from '@kubernetes/client-node';
import { PrescaleError } from '../../errors.js';
import type { CapacityProvider, Fleet, Instance } from '../provider.js';
import { loadKubeConfig, type KubeConfigSource } from './kubernetes-config.js';
import { toProviderError } from './kubernetes-errors.js';
import { isPodReady, podOrdinal, podToInstance, POD_DELETION_COST, statefulSetVictims, VICTIM_DELETION_COST } from './kubernetes-pods.js';
import type { ProviderLogger } from './local-process.js';

export { statefulSetVictims } from './kubernetes-pods.js';

export interface KubernetesProviderOptions extends KubeConfigSource {
  readonly namespace: string;
  readonly kind: 'Deployment' | 'StatefulSet';
  /** Name of the Deployment or StatefulSet. */
  readonly name: string;
  /** Container port the proxy sends traffic to (1-65535). */
  readonly port: number;
  /** Give up on an API call after this long (ms > 0); default 10 000. */
  readonly requestTimeoutMs?: number;
  readonly logger?: ProviderLogger;
}

/** client-node 1.x sends application/json-patch+json unless told otherwise; a scale patch is a merge patch. */
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const FIELD_MANAGER = 'prescale';
const silent: ProviderLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class KubernetesProvider implements CapacityProvider {
  readonly name = 'kubernetes';
  readonly #options: KubernetesProviderOptions;
  readonly #target: string;
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #logger: ProviderLogger;
  readonly #timeoutMs: number;
  #closed = false;

  /** @throws PrescaleError PRESCALE_ERR_CONFIG for bad options or an unusable kubeconfig. */
  constructor(options: KubernetesProviderOptions) {
    validate(options);
    this.#options = options;
    this.#target = `${options.kind} ${options.namespace}/${options.name}`;
    this.#logger = options.logger ?? silent;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    const kc = loadKubeConfig(options);
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#core = kc.makeApiClient(CoreV1Api);
  }

  /**
   * The workload's pods now (two API calls: scale, then pods).
   * @throws PrescaleError PRESCALE_ERR_PROVIDER when the API server refuses or does not answer.
   */
  async describe(): Promise<Fleet> {
    const pods = await this.#listPods(selectorOf(await this.#readScale(), this.#target));
    const nowMs = Date.now();
    const instances: Instance[] = [];
    for (const pod of pods) {
      const instance = podToInstance(pod, this.#options.port, nowMs);
      if (instance) instances.push(instance);
    }
    return { instances: this.#ordered(instances) };
  }

  /**
   * Set spec.replicas to `desired`; victims named in `remove` are marked first (see the file
   * comment). Resolves once the API server accepted the change, before pods start or stop.
   * Idempotent: the same call twice leaves the same state.
   * @throws PrescaleError PRESCALE_ERR_PROVIDER for a bad `desired`, after close(), for StatefulSet
   *   victims that are not the highest ordinals, or when an API call fails (details.status,
   *   details.reason, details.retryAfterMs for 429).
   */
  async setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    if (this.#closed) throw new PrescaleError('PRESCALE_ERR_PROVIDER', 'kubernetes provider is closed');
    if (!Number.isInteger(desired) || desired < 0) {
      throw new PrescaleError('PRESCALE_ERR_PROVIDER', `kubernetes: desired must be an integer ≥ 0, got ${desired}`);
    }
    const remove = [...new Set(options.remove ?? [])];
    if (remove.length > 0) await this.#prepareVictims(desired, remove);
    const { kind, name, namespace } = this.#options;
    const request = { name, namespace, body: { spec: { replicas: desired } }, fieldManager: FIELD_MANAGER };
    await this.#call(`scale ${this.#target} to ${desired}`, () =>
      kind === 'Deployment'
        ? this.#apps.patchNamespacedDeploymentScale(request, MERGE_PATCH)
        : this.#apps.patchNamespacedStatefulSetScale(request, MERGE_PATCH),
    );
    this.#logger.info({ provider: this.name, target: this.#target, desired, remove }, 'desired replicas set');
  }

  /**
   * Victims on scale-in: a StatefulSet always removes its highest ordinals, so those are the
   * ones to drain; a Deployment honours pod-deletion-cost, so pods still starting go first,
   * then the newest running ones.
   */
  pickVictims(instances: readonly Instance[], count: number): Instance[] {
    if (this.#options.kind === 'StatefulSet') return statefulSetVictims(instances, count, this.#options.name);
    const booting = instances.filter((i) => i.state === 'provisioning');
    const running = instances.filter((i) => i.state === 'running').reverse();
    return [...booting, ...running].slice(0, Math.max(0, count));
  }

  /** Nothing to stop: the workload outlives prescale. Later setDesired calls throw. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  async #prepareVictims(desired: number, remove: readonly string[]): Promise<void> {
    const pods = await this.#listPods(selectorOf(await this.#readScale(), this.#target));
    const live = pods.filter((pod) => pod.metadata?.deletionTimestamp == null);
    const victims: V1Pod[] = [];
    for (const id of remove) {
      const pod = live.find((candidate) => candidate.metadata?.name === id);
      if (pod) victims.push(pod);
      else this.#logger.warn({ provider: this.name, target: this.#target, id }, 'scale-in victim is not in the fleet; ignoring it');
    }
    if (this.#options.kind === 'StatefulSet') return this.#checkOrdinals(live, victims, desired);
    const others = live.filter((pod) => !victims.includes(pod));
    const outranking = others.filter((pod) => !isPodReady(pod)).map(nameOf);
    if (outranking.length > 0 && victims.some(isPodReady)) {
      this.#logger.warn(
        { provider: this.name, target: this.#target, victims: victims.map(nameOf), notReady: outranking },
        'the ReplicaSet controller deletes not-ready pods before ready ones whatever their deletion cost; it may remove those instead',
      );
    }
    const stale = others.filter((pod) => pod.metadata?.annotations?.[POD_DELETION_COST] === VICTIM_DELETION_COST);
    const unmarked = victims.filter((pod) => pod.metadata?.annotations?.[POD_DELETION_COST] !== VICTIM_DELETION_COST);
    await Promise.all([
      ...unmarked.map((pod) => this.#annotate(nameOf(pod), VICTIM_DELETION_COST)),
      ...stale.map((pod) => this.#annotate(nameOf(pod), null)),
    ]);
  }

  /** A StatefulSet removes its highest ordinals; refuse victims it would not remove. */
  #checkOrdinals(live: readonly V1Pod[], victims: readonly V1Pod[], desired: number): void {
    const removed = statefulSetVictims(live.map((pod) => ({ id: nameOf(pod) })), live.length - desired, this.#options.name);
    const removedIds = new Set(removed.map((pod) => pod.id));
    const spared = victims.map(nameOf).filter((id) => !removedIds.has(id));
    if (spared.length === 0) return;
    throw new PrescaleError(
      'PRESCALE_ERR_PROVIDER',
      `kubernetes: ${this.#target} removes its highest ordinals on scale-in (${[...removedIds].join(', ') || 'none at this size'}), ` +
        `not ${spared.join(', ')}; pick StatefulSet victims with statefulSetVictims()`,
      { details: { wouldRemove: [...removedIds], spared } },
    );
  }

  /** Merge-patch one annotation; null removes it. */
  async #annotate(pod: string, cost: string | null): Promise<void> {
    const { namespace } = this.#options;
    const body = { metadata: { annotations: { [POD_DELETION_COST]: cost } } };
    await this.#call(`annotate pod ${namespace}/${pod}`, () =>
      this.#core.patchNamespacedPod({ name: pod, namespace, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH),
    );
  }

  #readScale(): Promise<V1Scale> {
    const { kind, name, namespace } = this.#options;
    return this.#call(`read scale of ${this.#target}`, () =>
      kind === 'Deployment'
        ? this.#apps.readNamespacedDeploymentScale({ name, namespace })
        : this.#apps.readNamespacedStatefulSetScale({ name, namespace }),
    );
  }

  async #listPods(labelSelector: string): Promise<V1Pod[]> {
    const { namespace } = this.#options;
    const list = await this.#call(`list pods ${namespace}/${labelSelector}`, () => this.#core.listNamespacedPod({ namespace, labelSelector }));
    return list.items;
  }

  /** Run one API call with a deadline; every failure becomes PRESCALE_ERR_PROVIDER. */
  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (error) {
      throw toProviderError(what, error, Date.now());
    } finally {
      clearTimeout(timer);
    }
  }

  #ordered(instances: Instance[]): Instance[] {
    if (this.#options.kind === 'StatefulSet') {
      const ordinal = (i: Instance): number => podOrdinal(i.id, this.#options.name) ?? Number.MAX_SAFE_INTEGER;
      return instances.sort((a, b) => ordinal(a) - ordinal(b) || a.id.localeCompare(b.id));
    }
    return instances.sort((a, b) => a.requestedAtMs - b.requestedAtMs || a.id.localeCompare(b.id));
  }
}

function selectorOf(scale: V1Scale, target: string): string {
  const selector = scale.status?.selector;
  if (!selector) {
    throw new PrescaleError('PRESCALE_ERR_PROVIDER', `kubernetes: the scale of ${target} has no status.selector; refusing to list every pod in the namespace`);
  }
  return selector;
}

function nameOf(pod: V1Pod): string {
  return pod.metadata?.name ?? '';
}

function validate(options: KubernetesProviderOptions): void {
  const problems: string[] = [];
  const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (!dns.test(options.namespace)) problems.push(`namespace: expected a DNS label like "shop", got "${options.namespace}"`);
  if (!dns.test(options.name)) problems.push(`name: expected a DNS name like "web", got "${options.name}"`);
  if (options.kind !== 'Deployment' && options.kind !== 'StatefulSet') problems.push(`kind: expected "Deployment" or "StatefulSet", got "${String(options.kind)}"`);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) problems.push(`port: expected 1-65535, got ${options.port}`);
  if (options.requestTimeoutMs !== undefined && !(options.requestTimeoutMs > 0)) problems.push(`requestTimeoutMs: expected ms > 0, got ${options.requestTimeoutMs}`);
  if (problems.length > 0) throw new PrescaleError('PRESCALE_ERR_CONFIG', `kubernetes provider: ${problems.join('; ')}`);
}
