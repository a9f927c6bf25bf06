/**
 * Capacity provider for an EC2 Auto Scaling group (AWS SDK v3).
 *
 * - describe(): DescribeAutoScalingGroups for the group, then EC2 DescribeInstances for its
 *   members' addresses and launch times. Lifecycle InService → 'running' with url
 *   `${scheme}://${ip}:${port}` (private or public IPv4 per `addressType`); Pending,
 *   Pending:Wait, Pending:Proceed → 'provisioning' (url null). Terminating*, Detaching,
 *   Standby, Warmed:* and the rest are left out. An InService instance without the wanted
 *   address stays 'provisioning' (warned once). requestedAtMs is the EC2 LaunchTime, else
 *   when this provider first saw the instance.
 * - setDesired(n, { remove }): reads the group afresh, clamps n to its MinSize/MaxSize (warns),
 *   terminates the named victims with TerminateInstanceInAutoScalingGroup
 *   (ShouldDecrementDesiredCapacity=true, so the group removes exactly those prescale drained),
 *   at most as many as the shrink needs; victims not in the group are skipped with a warning.
 *   Any remaining difference goes through SetDesiredCapacity (HonorCooldown=false). No call
 *   when the group already has the target.
 * - Errors: PrescaleError PRESCALE_ERR_PROVIDER naming the AWS error code (aws-errors.ts);
 *   throttling adds details.retryAfterMs. An unknown group is an error, not an empty fleet.
 * - close() only releases the SDK clients: the group owns its instances, so shutting prescale
 *   down never scales the group in.
 *
 * IAM: autoscaling:DescribeAutoScalingGroups, autoscaling:SetDesiredCapacity,
 * autoscaling:TerminateInstanceInAutoScalingGroup, ec2:DescribeInstances.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { PrescaleError } from '../../errors.js';
import type { CapacityProvider, Fleet, Instance } from '../provider.js';
import { describeInstanceFacts, type AwsCall, type Ec2InstanceFacts } from './aws-ec2.js';
import { toProviderError } from './aws-errors.js';
import type { ProviderLogger } from './local-process.js';

export interface AwsAutoScalingProviderOptions {
  readonly groupName: string;
  readonly region: string;
  /** Backend port on each instance. */
  readonly port: number;
  /** Default 'http'. */
  readonly scheme?: 'http' | 'https';
  /** Which IPv4 address the balancer uses; default 'private'. */
  readonly addressType?: 'private' | 'public';
  /** Service endpoint override (VPC interface endpoints, tests); default the regional endpoint. */
  readonly endpoint?: string;
  /** Static credentials (tests); default the SDK's chain (env, shared config, SSO, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** SDK attempts per call, the first included (SDK standard retry mode); default 3. */
  readonly maxAttempts?: number;
  /** Connect and response timeout of each SDK request (ms); default 10 000. */
  readonly requestTimeoutMs?: number;
  /** Back-off hint in details.retryAfterMs when AWS throttles (ms); default 2 000. */
  readonly throttleRetryAfterMs?: number;
  readonly logger?: ProviderLogger;
}

type MemberState = Instance['state'];

interface GroupSnapshot {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desired: number;
  /** Members prescale counts (provisioning or running), in the order AWS lists them. */
  readonly members: ReadonlyArray<{ readonly id: string; readonly state: MemberState }>;
  /** Every instance id in the group, whatever its lifecycle state. */
  readonly allIds: ReadonlySet<string>;
}

const LIFECYCLE_STATES: Readonly<Record<string, MemberState>> = {
  InService: 'running',
  Pending: 'provisioning',
  'Pending:Wait': 'provisioning',
  'Pending:Proceed': 'provisioning',
};
const silent: ProviderLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class AwsAutoScalingProvider implements CapacityProvider {
  readonly name = 'aws';
  readonly #options: AwsAutoScalingProviderOptions;
  readonly #logger: ProviderLogger;
  readonly #autoScaling: AutoScalingClient;
  readonly #ec2: EC2Client;
  /** First time each member was seen (epoch ms): requestedAtMs when EC2 has no LaunchTime. */
  readonly #firstSeenMs = new Map<string, number>();
  readonly #warnedNoAddress = new Set<string>();
  #closed = false;

  /** @throws PrescaleError PRESCALE_ERR_CONFIG for an empty group name or region, or a bad port. */
  constructor(options: AwsAutoScalingProviderOptions) {
    if (options.groupName.trim() === '') throw new PrescaleError('PRESCALE_ERR_CONFIG', 'aws groupName: expected the Auto Scaling group name, got ""');
    if (options.region.trim() === '') throw new PrescaleError('PRESCALE_ERR_CONFIG', 'aws region: expected a region like "eu-west-1", got ""');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `aws port: expected the backend port 1-65535, got ${options.port}`);
    }
    this.#options = options;
    this.#logger = options.logger ?? silent;
    const timeoutMs = options.requestTimeoutMs ?? 10_000;
    const config = {
      region: options.region,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    };
    this.#autoScaling = new AutoScalingClient(config);
    this.#ec2 = new EC2Client(config);
  }

  /**
   * The group's provisioning and running instances now (two API calls or more; never cached).
   * @throws PrescaleError PRESCALE_ERR_PROVIDER when AWS fails or the group does not exist.
   */
  async describe(): Promise<Fleet> {
    this.#assertOpen();
    const group = await this.#describeGroup();
    const facts = group.members.length === 0 ? new Map<string, Ec2InstanceFacts>() : await describeInstanceFacts(this.#ec2, group.members.map((m) => m.id), this.#call);
    const nowMs = Date.now();
    for (const seen of [this.#firstSeenMs, this.#warnedNoAddress]) {
      for (const id of seen.keys()) if (!group.allIds.has(id)) seen.delete(id);
    }
    const instances = group.members.map((member): Instance => {
      const fact = facts.get(member.id);
      if (!this.#firstSeenMs.has(member.id)) this.#firstSeenMs.set(member.id, nowMs);
      const requestedAtMs = fact?.launchTimeMs ?? (this.#firstSeenMs.get(member.id) as number);
      const url = member.state === 'running' ? this.#urlOf(member.id, fact) : null;
      return { id: member.id, url, state: url === null ? 'provisioning' : 'running', requestedAtMs };
    });
    return { instances };
  }

  /**
   * Ask the group for `desired` instances, clamped to its MinSize/MaxSize; when shrinking,
   * terminate the named `remove` victims (already drained) and decrement the desired capacity.
   * @throws PrescaleError PRESCALE_ERR_PROVIDER for a bad `desired`, after close(), or when AWS
   *   fails (victims terminated before the failure stay terminated).
   */
  async setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    this.#assertOpen();
    if (!Number.isInteger(desired) || desired < 0) {
      throw new PrescaleError('PRESCALE_ERR_PROVIDER', `aws: desired must be an integer ≥ 0, got ${desired}`);
    }
    const group = await this.#describeGroup();
    const target = Math.min(group.maxSize, Math.max(group.minSize, desired));
    if (target !== desired) {
      this.#logger.warn({ provider: this.name, desired, target, minSize: group.minSize, maxSize: group.maxSize }, "desired clamped to the Auto Scaling group's MinSize/MaxSize");
    }
    let current = group.desired;
    for (const id of this.#pickVictims(group, options.remove ?? [], Math.max(0, current - target))) {
      await this.#call('TerminateInstanceInAutoScalingGroup', () =>
        this.#autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true })),
      );
      current -= 1;
      this.#logger.info({ provider: this.name, id, desired: current }, 'instance terminated (desired capacity decremented)');
    }
    if (current === target) return;
    await this.#call('SetDesiredCapacity', () =>
      this.#autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.#options.groupName, DesiredCapacity: target, HonorCooldown: false })),
    );
    this.#logger.info({ provider: this.name, from: current, desired: target }, 'desired capacity set');
  }

  /** Release the SDK clients; the group and its instances are left as they are. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#autoScaling.destroy();
      this.#ec2.destroy();
    }
    return Promise.resolve();
  }

  readonly #call: AwsCall = async (action, send) => {
    try {
      return await send();
    } catch (error) {
      const { groupName, region, throttleRetryAfterMs } = this.#options;
      throw toProviderError(error, { action, groupName, region, throttleRetryAfterMs: throttleRetryAfterMs ?? 2_000 });
    }
  };

  async #describeGroup(): Promise<GroupSnapshot> {
    const { groupName, region } = this.#options;
    const output = await this.#call('DescribeAutoScalingGroups', () =>
      this.#autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] })),
    );
    const group = output.AutoScalingGroups?.find((candidate) => candidate.AutoScalingGroupName === groupName);
    if (!group) {
      throw new PrescaleError(
        'PRESCALE_ERR_PROVIDER',
        `aws: Auto Scaling group '${groupName}' not found in ${region}; check provider groupName and region (and that the credentials belong to the group's account)`,
        { details: { awsCode: 'AutoScalingGroupNotFound', action: 'DescribeAutoScalingGroups', groupName, region } },
      );
    }
    const members: Array<{ id: string; state: MemberState }> = [];
    const allIds = new Set<string>();
    for (const instance of group.Instances ?? []) {
      if (instance.InstanceId === undefined) continue;
      allIds.add(instance.InstanceId);
      const state = LIFECYCLE_STATES[instance.LifecycleState ?? ''];
      if (state !== undefined) members.push({ id: instance.InstanceId, state });
    }
    return { minSize: group.MinSize ?? 0, maxSize: group.MaxSize ?? 0, desired: group.DesiredCapacity ?? members.length, members, allIds };
  }

  /** Named victims that are provisioning or running members, at most `count`; others warned and skipped. */
  #pickVictims(group: GroupSnapshot, remove: readonly string[], count: number): string[] {
    const victims: string[] = [];
    for (const id of remove) {
      if (victims.length === count) {
        this.#logger.warn({ provider: this.name, id, count }, 'more scale-in victims than the shrink needs; keeping this one');
      } else if (group.members.some((member) => member.id === id)) {
        if (!victims.includes(id)) victims.push(id);
      } else {
        const why = group.allIds.has(id) ? 'is already leaving the group' : 'is not in the group';
        this.#logger.warn({ provider: this.name, id }, `scale-in victim ${why}; the group picks instead`);
      }
    }
    return victims;
  }

  /** The instance's URL, or null (warned once per instance) when it has no address of the wanted type. */
  #urlOf(id: string, fact: Ec2InstanceFacts | undefined): string | null {
    const addressType = this.#options.addressType ?? 'private';
    const ip = addressType === 'public' ? fact?.publicIp : fact?.privateIp;
    if (ip === undefined) {
      if (!this.#warnedNoAddress.has(id)) {
        this.#warnedNoAddress.add(id);
        this.#logger.warn({ provider: this.name, id, addressType }, `InService instance has no ${addressType} IPv4 address; kept as provisioning`);
      }
      return null;
    }
    this.#warnedNoAddress.delete(id);
    return `${this.#options.scheme ?? 'http'}://${ip}:${this.#options.port}`;
  }

  #assertOpen(): void {
    if (this.#closed) throw new PrescaleError('PRESCALE_ERR_PROVIDER', 'aws provider is closed');
  }
}
