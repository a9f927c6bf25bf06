import type { Instance } from './provider.js';

/**
 * Scale-in victims when the provider has no preference of its own: instances still booting
 * first (they serve nothing and cost the same), then running ones by least load (fewest
 * requests in flight, so the drain is shortest and the fewest requests wait on it), ties
 * broken newest first (the newest has the coldest caches; the Kubernetes ReplicaSet controller
 * and AWS Auto Scaling's NewestInstance policy make the same choice).
 *
 * @param active the provider's instances that are not terminating, oldest first (describe order)
 * @param count how many to remove, integer >= 0; at most `active.length` are returned
 * @param load requests in flight at the balancer for an instance id (0 when it is unknown)
 * @returns the victims in removal order; `active` is not mutated. O(n log n).
 */
export function pickVictims(active: readonly Instance[], count: number, load: (id: string) => number): Instance[] {
  const booting = active.filter((i) => i.state === 'provisioning').reverse();
  const running = active
    .map((instance, order) => ({ instance, order, load: load(instance.id) }))
    .filter((entry) => entry.instance.state === 'running')
    .sort((a, b) => a.load - b.load || b.order - a.order)
    .map((entry) => entry.instance);
  return [...booting, ...running].slice(0, Math.max(0, count));
}
