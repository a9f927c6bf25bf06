/**
 * Pure helpers of the kubernetes provider: how a pod becomes an Instance, and which pods a
 * StatefulSet removes on scale-in. No I/O, no clock.
 */
import { isIPv6 } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import type { Instance } from '../provider.js';

/**
 * Annotation the ReplicaSet controller reads when it picks pods to delete on scale-down: lower
 * cost goes first (Kubernetes ≥ 1.22, beta and on by default). It only breaks ties after the
 * controller's earlier criteria: unscheduled before scheduled, Pending before Running, not ready
 * before ready. https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#pod-deletion-cost
 */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
/** The cost prescale gives a scale-in victim (int32 as a string; the default cost is 0). */
export const VICTIM_DELETION_COST = '-1000';

/**
 * The Instance for a pod, or null for a pod that is not part of the fleet: one being deleted
 * (metadata.deletionTimestamp set) or one that has finished (phase Succeeded or Failed).
 *
 * - 'running' with url `http://{podIP}:{port}` (IPv6 in brackets): phase Running, condition
 *   Ready=True and a podIP.
 * - 'provisioning' with url null: everything else (Pending, Unknown, Running but not ready).
 * - requestedAtMs: metadata.creationTimestamp (epoch ms); `fallbackMs` if the server sent none.
 * - id: metadata.name (unique within the namespace).
 */
export function podToInstance(pod: V1Pod, port: number, fallbackMs: number): Instance | null {
  const name = pod.metadata?.name;
  const phase = pod.status?.phase;
  if (name === undefined || pod.metadata?.deletionTimestamp != null) return null;
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  const createdMs = toEpochMs(pod.metadata?.creationTimestamp);
  const requestedAtMs = Number.isFinite(createdMs) ? createdMs : fallbackMs;
  const ip = pod.status?.podIP;
  if (isPodReady(pod) && ip) {
    return { id: name, url: `http://${isIPv6(ip) ? `[${ip}]` : ip}:${port}`, state: 'running', requestedAtMs };
  }
  return { id: name, url: null, state: 'provisioning', requestedAtMs };
}

/** Whether a pod counts as ready for the ReplicaSet controller's deletion ranking. */
export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

/**
 * The ordinal of a StatefulSet pod named `{statefulSet}-{ordinal}`, or null for any other name.
 * O(length of name).
 */
export function podOrdinal(podName: string, statefulSet: string): number | null {
  if (!podName.startsWith(`${statefulSet}-`)) return null;
  const suffix = podName.slice(statefulSet.length + 1);
  return /^(0|[1-9]\d*)$/.test(suffix) ? Number(suffix) : null;
}

/**
 * The pods a StatefulSet removes when it shrinks by `count`: the highest ordinals, highest first.
 * A StatefulSet ignores pod-deletion-cost and always deletes from the top ordinal down
 * (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#scaling), so for a
 * StatefulSet prescale must drain exactly these before asking for fewer replicas.
 *
 * @param pods instances or pods with an `id` = pod name (`{statefulSet}-{ordinal}`); not mutated
 * @param count how many to remove; clamped to [0, number of pods with an ordinal], NaN → 0
 * @param statefulSet the StatefulSet's name; when given, pods whose name does not belong to it are
 *   ignored; when omitted, the ordinal is the number after the last '-'
 * @returns a new array, highest ordinal first. O(n log n).
 */
export function statefulSetVictims<T extends { readonly id: string }>(pods: readonly T[], count: number, statefulSet?: string): T[] {
  const withOrdinal: { pod: T; ordinal: number }[] = [];
  for (const pod of pods) {
    const ordinal = statefulSet === undefined ? trailingOrdinal(pod.id) : podOrdinal(pod.id, statefulSet);
    if (ordinal !== null) withOrdinal.push({ pod, ordinal });
  }
  const n = Number.isFinite(count) ? Math.max(0, Math.min(Math.floor(count), withOrdinal.length)) : 0;
  return withOrdinal
    .sort((a, b) => b.ordinal - a.ordinal)
    .slice(0, n)
    .map((entry) => entry.pod);
}

function trailingOrdinal(podName: string): number | null {
  const dash = podName.lastIndexOf('-');
  return dash > 0 ? podOrdinal(podName, podName.slice(0, dash)) : null;
}

function toEpochMs(value: Date | string | undefined): number {
  if (value === undefined) return Number.NaN;
  return value instanceof Date ? value.getTime() : Date.parse(value);
}
