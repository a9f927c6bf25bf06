/**
 * The `gcp` capacity provider: a zonal Compute Engine managed instance group (MIG) driven through
 * @google-cloud/compute (REST transport; see gcp-clients.ts for endpoint and auth).
 *
 * - describe(): instanceGroupManagers.listManagedInstances (all pages); each instance's state
 *   comes from currentAction and instanceStatus (gcp-instances.ts: NONE + RUNNING is 'running';
 *   CREATING, VERIFYING, STARTING, ... are 'provisioning'; DELETING, ABANDONING, ... are left out).
 *   A running instance's url is `{scheme}://{networkInterfaces[0].networkIP}:{port}` from
 *   instances.get, and its requestedAtMs is the instance's creationTimestamp. Both are cached per
 *   VM id, so a steady fleet costs one list call; a provisioning instance (whose VM may not exist
 *   yet) uses the time this provider first saw it.
 * - setDesired(n, { remove }): reads targetSize (instanceGroupManagers.get). When shrinking, the
 *   named victims that are still members go to instanceGroupManagers.deleteInstances (which also
 *   lowers targetSize by one each); then instanceGroupManagers.resize(n) only if targetSize is
 *   still not n (so the group picks any further victims). Nothing is sent when targetSize is
 *   already n, which makes repeated calls no-ops.
 * - Operations are not waited for: Compute marks a resize or deleteInstances operation DONE once
 *   the actions are scheduled, before any VM is created or deleted, and the API reference says to
 *   follow progress with listManagedInstances, which describe() does. An operation that comes
 *   back already failed (`error.errors`) is reported.
 * - close() only releases the clients. The group is left as it is: shutting prescale down must
 *   not scale a cloud fleet in.
 *
 * Errors: PrescaleError PRESCALE_ERR_PROVIDER with the HTTP status and error reason (gcp-errors.ts);
 * `details.retryAfterMs` on 429 / rateLimitExceeded.
 */
import type { protos } from '@google-cloud/compute';
import { PrescaleError } from '../../errors.js';
import type { CapacityProvider, Fleet, Instance } from '../provider.js';
import { checkDesired } from './exec.js';
import { createComputeClients, type ComputeClients } from './gcp-clients.js';
import { toProviderError } from './gcp-errors.js';
import { backendUrl, creationMs, isLeaving, managedInstanceId, managedInstanceName, managedInstanceState, type ManagedInstanceFields } from './gcp-instances.js';
import type { ProviderLogger } from './local-process.js';

export interface GcpProviderOptions {
  /** Project id that owns the group, e.g. "my-project". */
  readonly project: string;
  /** Zone of the zonal managed instance group, e.g. "europe-west1-b". */
  readonly zone: string;
  /** Name of the managed instance group. */
  readonly group: string;
  /** Port the backends listen on (1–65535). */
  readonly port: number;
  /** Scheme of the backend URLs; default 'http'. */
  readonly scheme?: 'http' | 'https';
  /** Compute API origin; default https://compute.googleapis.com. Plain http needs accessToken (tests, emulators). */
  readonly apiEndpoint?: string;
  /** A fixed OAuth 2.0 access token; default Application Default Credentials. */
  readonly accessToken?: string;
  /** Longest a single API call may take (ms > 0); default 30 000. Calls are not retried here (see withRetries). */
  readonly timeoutMs?: number;
  readonly logger?: ProviderLogger;
}

interface Known {
  vmId: string | null;
  firstSeenMs: number;
  createdMs?: number;
  ip?: string;
}

interface Member {
  readonly name: string;
  readonly url: string;
  readonly vmId: string | null;
  readonly currentAction: string;
  readonly state: 'running' | 'provisioning' | null;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** instances.get calls in flight at once when many new instances turn running together. */
const LOOKUP_CONCURRENCY = 8;
const silent: ProviderLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class GcpManagedInstanceGroupProvider implements CapacityProvider {
  readonly name = 'gcp';
  readonly #options: GcpProviderOptions;
  readonly #clients: ComputeClients;
  readonly #logger: ProviderLogger;
  readonly #ref: { project: string; zone: string; instanceGroupManager: string };
  readonly #groupPath: string;
  readonly #timeoutMs: number;
  /** gax call options: no gax-level retries (withRetries owns retrying); the timeout is the transport's. */
  readonly #callOptions = { retry: null };
  readonly #known = new Map<string, Known>();
  #closed = false;

  /** @throws PrescaleError PRESCALE_ERR_CONFIG for invalid options (no network is touched) */
  constructor(options: GcpProviderOptions) {
    for (const key of ['project', 'zone', 'group'] as const) {
      if (typeof options[key] !== 'string' || options[key].trim() === '') {
        throw new PrescaleError('PRESCALE_ERR_CONFIG', `gcp provider ${key}: expected a non-empty string, got ${JSON.stringify(options[key])}`);
      }
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `gcp provider port: expected an integer 1–65535, got ${options.port}`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new PrescaleError('PRESCALE_ERR_CONFIG', `gcp provider timeoutMs: expected ms > 0, got ${timeoutMs}`);
    this.#options = options;
    this.#timeoutMs = timeoutMs;
    this.#logger = options.logger ?? silent;
    this.#ref = { project: options.project, zone: options.zone, instanceGroupManager: options.group };
    this.#groupPath = `projects/${options.project}/zones/${options.zone}/instanceGroupManagers/${options.group}`;
    this.#clients = createComputeClients({ apiEndpoint: options.apiEndpoint, accessToken: options.accessToken, timeoutMs });
  }

  /** The group's instances now. @throws PrescaleError PRESCALE_ERR_PROVIDER */
  async describe(): Promise<Fleet> {
    this.#checkOpen('describe');
    const members = await this.#listMembers('describe');
    const nowMs = Date.now();
    const present = new Set(members.map((m) => m.name));
    for (const name of this.#known.keys()) if (!present.has(name)) this.#known.delete(name);
    for (const member of members) {
      const known = this.#known.get(member.name);
      if (!known) this.#known.set(member.name, { vmId: member.vmId, firstSeenMs: nowMs });
      // a first VM id keeps the first-seen time; a changed one is a recreated VM, asked for now
      else if (member.vmId !== null && known.vmId !== member.vmId) this.#known.set(member.name, { vmId: member.vmId, firstSeenMs: known.vmId === null ? known.firstSeenMs : nowMs });
    }
    const toLookUp = members.filter((m) => m.state === 'running' && this.#known.get(m.name)?.ip === undefined);
    const gone = new Set<string>();
    await mapLimit(toLookUp, LOOKUP_CONCURRENCY, async (member) => {
      if (!(await this.#lookUp(member))) gone.add(member.name);
    });
    const instances: Instance[] = [];
    for (const member of members) {
      if (member.state === null || gone.has(member.name)) continue;
      const known = this.#known.get(member.name) as Known;
      const requestedAtMs = known.createdMs ?? known.firstSeenMs;
      if (member.state === 'running' && known.ip !== undefined) {
        instances.push({ id: member.name, url: backendUrl(this.#options.scheme ?? 'http', known.ip, this.#options.port), state: 'running', requestedAtMs });
      } else {
        instances.push({ id: member.name, url: null, state: 'provisioning', requestedAtMs });
      }
    }
    return { instances };
  }

  /**
   * Ask for `desired` instances in all; when shrinking, delete exactly the named victims that are
   * still members (unknown names are logged and the group picks the rest). Resolves once the
   * change is accepted (operation scheduled), not once instances exist or are gone.
   * @throws PrescaleError PRESCALE_ERR_PROVIDER
   */
  async setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    this.#checkOpen('set-desired');
    checkDesired(this.name, desired);
    const [group] = await this.#call('set-desired', `instanceGroupManagers.get of ${this.#groupPath}`, () => this.#clients.groups.get(this.#ref, this.#callOptions));
    let targetSize = group.targetSize ?? 0;
    const remove = options.remove ?? [];
    if (desired < targetSize && remove.length > 0) {
      const victims = await this.#victims(remove, targetSize - desired);
      if (victims.length > 0) {
        const resource = { instances: victims.map((v) => v.url) };
        const [operation] = await this.#call('set-desired', `instanceGroupManagers.deleteInstances of ${this.#groupPath}`, () =>
          this.#clients.groups.deleteInstances({ ...this.#ref, instanceGroupManagersDeleteInstancesRequestResource: resource }, this.#callOptions),
        );
        this.#checkOperation(operation, 'deleteInstances');
        targetSize -= victims.length;
        this.#logger.info({ provider: this.name, group: this.#groupPath, removed: victims.map((v) => v.name), targetSize }, 'deleting scale-in victims');
      }
    }
    if (targetSize === desired) return;
    const [operation] = await this.#call('set-desired', `instanceGroupManagers.resize of ${this.#groupPath}`, () =>
      this.#clients.groups.resize({ ...this.#ref, size: desired }, this.#callOptions),
    );
    this.#checkOperation(operation, 'resize');
    this.#logger.info({ provider: this.name, group: this.#groupPath, from: targetSize, to: desired }, 'resized managed instance group');
  }

  /** Release the API clients. The group is left as it is. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#clients.close();
  }

  /** Every managed instance, all pages, with its name, URL and fleet state. */
  async #listMembers(action: string): Promise<Member[]> {
    const [managed] = await this.#call(action, `instanceGroupManagers.listManagedInstances of ${this.#groupPath}`, () =>
      this.#clients.groups.listManagedInstances(this.#ref, this.#callOptions),
    );
    const members: Member[] = [];
    for (const m of managed as ManagedInstanceFields[]) {
      const name = managedInstanceName(m);
      if (name === null) continue;
      const url = m.instance || `projects/${this.#ref.project}/zones/${this.#ref.zone}/instances/${name}`;
      members.push({ name, url, vmId: managedInstanceId(m), currentAction: m.currentAction ?? '', state: managedInstanceState(m.currentAction, m.instanceStatus) });
    }
    return members;
  }

  /** The named members that can still be deleted, in the order given, at most `count`. */
  async #victims(remove: readonly string[], count: number): Promise<Member[]> {
    const members = await this.#listMembers('set-desired');
    const victims: Member[] = [];
    for (const name of remove) {
      if (victims.length === count) break;
      const member = members.find((m) => m.name === name);
      if (member && !isLeaving(member.currentAction) && !victims.includes(member)) victims.push(member);
      else if (!member) this.#logger.warn({ provider: this.name, id: name }, 'scale-in victim is not in the group; the group picks another');
    }
    return victims;
  }

  /** instances.get: cache the network IP and creation time. false when the VM is already gone (404). */
  async #lookUp(member: Member): Promise<boolean> {
    let instance;
    try {
      [instance] = await this.#call('describe', `instances.get of projects/${this.#ref.project}/zones/${this.#ref.zone}/instances/${member.name}`, () =>
        this.#clients.instances.get({ project: this.#ref.project, zone: this.#ref.zone, instance: member.name }, this.#callOptions),
      );
    } catch (error) {
      if (error instanceof PrescaleError && error.details?.status === 404) return false;
      throw error;
    }
    const known = this.#known.get(member.name);
    if (!known) return false;
    const ip = instance.networkInterfaces?.[0]?.networkIP;
    if (ip) known.ip = ip;
    else this.#logger.warn({ provider: this.name, id: member.name }, 'running instance has no network IP yet; reported as provisioning');
    known.createdMs = creationMs(instance.creationTimestamp) ?? known.createdMs;
    return true;
  }

  /**
   * Throw for a resize / deleteInstances operation that is already DONE with errors. The library
   * types `latestResponse` as a google.longrunning.Operation, but on Compute it holds the zone
   * Operation resource as sent (kind compute#operation, status, error.errors[], httpErrorStatusCode).
   */
  #checkOperation(lro: { latestResponse: unknown }, method: string): void {
    const operation = lro.latestResponse as protos.google.cloud.compute.v1.IOperation | null | undefined;
    const first = operation?.error?.errors?.[0];
    if (!first) return;
    const status = operation?.httpErrorStatusCode ?? undefined;
    const reason = first.code ?? 'UNKNOWN';
    throw new PrescaleError('PRESCALE_ERR_PROVIDER', `gcp provider: instanceGroupManagers.${method} of ${this.#groupPath} failed${status ? ` with HTTP ${status}` : ''} ${reason}: ${first.message ?? 'no message'}`, {
      details: { action: 'set-desired', call: `instanceGroupManagers.${method}`, ...(status ? { status } : {}), reason, operation: operation?.name, retryable: false },
    });
  }

  async #call<T>(action: string, call: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toProviderError(error, { action, call, timeoutMs: this.#timeoutMs, notFoundHint: 'check provider project, zone and group' }, Date.now());
    }
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new PrescaleError('PRESCALE_ERR_PROVIDER', `gcp provider for ${this.#groupPath} is closed`, { details: { action, retryable: false } });
  }
}

/** Run `fn` over `items` with at most `limit` calls in flight; stops starting calls and rejects at the first error. */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
