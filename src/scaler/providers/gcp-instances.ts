/**
 * Pure helpers of the gcp provider: what a managed instance of a Compute Engine managed instance
 * group (MIG) means for the fleet, and how its name, address and creation time are read. No I/O,
 * no clock.
 *
 * Field meanings follow the Compute Engine v1 reference, instanceGroupManagers.listManagedInstances
 * (ManagedInstance.currentAction, ManagedInstance.instanceStatus) and instances.get
 * (Instance.networkInterfaces[].networkIP, Instance.creationTimestamp):
 * https://cloud.google.com/compute/docs/reference/rest/v1/instanceGroupManagers/listManagedInstances
 */
import { isIPv6 } from 'node:net';

/** The subset of a ManagedInstance (REST JSON, as the client library decodes it) that we read. */
export interface ManagedInstanceFields {
  readonly instance?: string | null;
  readonly name?: string | null;
  readonly id?: string | number | null;
  readonly currentAction?: string | null;
  readonly instanceStatus?: string | null;
}

/** Actions of an instance that is leaving the group (or being taken out of service). */
const LEAVING_ACTIONS = new Set(['DELETING', 'ABANDONING', 'STOPPING', 'SUSPENDING']);
/** Actions of an instance that keeps serving while the MIG works on it. */
const SERVING_ACTIONS = new Set(['NONE', 'REFRESHING']);
/** Instance statuses of a VM that is coming up. */
const BOOTING_STATUSES = new Set(['PENDING', 'PROVISIONING', 'STAGING', 'REPAIRING']);

/**
 * Whether the MIG is already removing this instance (DELETING, ABANDONING) or taking it out of
 * service (STOPPING, SUSPENDING): it cannot be named as a scale-in victim again.
 */
export function isLeaving(currentAction: string | null | undefined): boolean {
  return LEAVING_ACTIONS.has(currentAction ?? '');
}

/**
 * The fleet state of a managed instance, or null when it is not part of the serving fleet.
 *
 * - 'running': currentAction NONE (or REFRESHING, which applies changes without stopping the VM)
 *   and instanceStatus RUNNING.
 * - null: leaving (see isLeaving), or currentAction NONE / REFRESHING on a VM that is stopped,
 *   suspended or terminated (for example a standby pool member, which the group does not count as
 *   serving capacity).
 * - 'provisioning': everything else: CREATING, CREATING_WITHOUT_RETRIES, RECREATING, VERIFYING,
 *   STARTING, RESTARTING, RESUMING, NONE on a VM that is still booting or does not exist yet, and
 *   any action this code does not know (counted, so an unknown state never triggers a scale-out).
 */
export function managedInstanceState(currentAction: string | null | undefined, instanceStatus: string | null | undefined): 'running' | 'provisioning' | null {
  if (isLeaving(currentAction)) return null;
  if (SERVING_ACTIONS.has(currentAction ?? '')) {
    if (instanceStatus === 'RUNNING') return 'running';
    if (!instanceStatus || BOOTING_STATUSES.has(instanceStatus)) return 'provisioning';
    return null;
  }
  return 'provisioning';
}

/**
 * The instance name: ManagedInstance.name, else the last segment of ManagedInstance.instance
 * (`.../zones/{zone}/instances/{name}`). null when neither is present.
 */
export function managedInstanceName(managed: ManagedInstanceFields): string | null {
  if (managed.name) return managed.name;
  const last = managed.instance?.split('/').pop();
  return last ? last : null;
}

/** The unique numeric id of the VM as a string, or null while the VM does not exist ('' or '0'). */
export function managedInstanceId(managed: ManagedInstanceFields): string | null {
  const id = managed.id === null || managed.id === undefined ? '' : String(managed.id);
  return id === '' || id === '0' ? null : id;
}

/** `{scheme}://{ip}:{port}`, with an IPv6 address in brackets. */
export function backendUrl(scheme: 'http' | 'https', ip: string, port: number): string {
  return `${scheme}://${isIPv6(ip) ? `[${ip}]` : ip}:${port}`;
}

/**
 * Epoch ms of an RFC 3339 creationTimestamp such as "2024-05-01T10:00:00.000-07:00", or undefined
 * when absent or unparseable.
 */
export function creationMs(timestamp: string | null | undefined): number | undefined {
  if (!timestamp) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : ms;
}
