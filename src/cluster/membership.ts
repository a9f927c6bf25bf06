import type { Pool } from '../proxy/pool.js';
import type { Upstream } from '../proxy/upstream.js';
import type { MemberEntry } from './ipc-messages.js';

/** The backends of `upstream` as the workers copy them, in list order (newest last). O(n). */
export function membersOf(upstream: Upstream): MemberEntry[] {
  return upstream.backends.map((b) => ({ id: b.id, url: b.url, weight: b.weight, initialWeight: upstream.initialWeight(b.id) ?? b.weight, state: b.state, healthy: b.healthy }));
}

/**
 * Resolve once every backend that `members` lists as healthy passes this pool's own health
 * checks too, or after `timeoutMs` (then false), so a worker started next to running ones does
 * not answer 503 while its checks catch up. Polls every 10 ms.
 */
export async function waitForHealthyMembers(pool: Pool, members: readonly MemberEntry[], timeoutMs: number): Promise<boolean> {
  const ids = members.filter((m) => m.healthy).map((m) => m.id);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ids.every((id) => pool.upstream.get(id)?.healthy !== false)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Make a worker's pool hold what the control plane holds: admit backends it lacks (they take
 * traffic once this worker's own health checks pass), copy weight and state, and drain then
 * remove backends the control plane no longer lists (in-flight requests finish, up to
 * `drainTimeoutMs`). Backends already draining for removal are left alone. Resolves when every
 * removal it started has finished.
 */
export async function applyMembers(pool: Pool, members: readonly MemberEntry[], drainTimeoutMs: number): Promise<void> {
  const upstream = pool.upstream;
  const wanted = new Set<string>();
  for (const m of members) {
    wanted.add(m.id);
    if (upstream.get(m.id) === undefined) pool.admit(m.id, m.url, m.initialWeight);
    const b = upstream.get(m.id);
    if (b === undefined || upstream.isRemoving(m.id)) continue;
    if (b.weight !== m.weight) upstream.setWeight(m.id, m.weight);
    if (b.state !== m.state) upstream.setState(m.id, m.state);
  }
  const removals: Promise<unknown>[] = [];
  for (const b of upstream.backends) {
    if (!wanted.has(b.id) && !upstream.isRemoving(b.id)) removals.push(pool.remove(b.id, drainTimeoutMs));
  }
  await Promise.all(removals);
}

/**
 * Call `changed` after every membership change made through `upstream`: `add`, `setWeight`,
 * `setState`, and `drainAndRemove` (once when the drain starts, once when the backend is gone).
 * The admin API and the pool change the upstream in place through these methods; wrapping them
 * on this one instance is how the cluster primary learns of each change and forwards it to the
 * workers at once. Returns a function that restores the original methods.
 */
export function observeUpstream(upstream: Upstream, changed: () => void): () => void {
  const original = { add: upstream.add, setWeight: upstream.setWeight, setState: upstream.setState, drainAndRemove: upstream.drainAndRemove };
  upstream.add = (...args) => {
    const known = upstream.get(args[0]) !== undefined;
    const backend = original.add.apply(upstream, args);
    if (!known) changed();
    return backend;
  };
  upstream.setWeight = (...args) => {
    const backend = original.setWeight.apply(upstream, args);
    if (backend !== undefined) changed();
    return backend;
  };
  upstream.setState = (...args) => {
    const backend = original.setState.apply(upstream, args);
    if (backend !== undefined) changed();
    return backend;
  };
  upstream.drainAndRemove = async (...args) => {
    const removal = original.drainAndRemove.apply(upstream, args);
    changed();
    const result = await removal;
    changed();
    return result;
  };
  return () => Object.assign(upstream, original);
}
