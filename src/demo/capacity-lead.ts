/**
 * How far ahead of each load rise the capacity rose, the figure of merit of a predictive
 * autoscaler, plus the under-provisioned intervals; computed after a run from per-interval series.
 *
 * A rise to level k is an interval t where the offered load needs at least k backends in t and
 * t + 1 after needing fewer in t − 1 and t − 2 (two intervals each side, so a one-interval blip
 * or dropout is not a rise).
 * If k backends were ready at t, the lead is how long they had been ready without a break
 * (>= 0); otherwise it is minus the wait until k were ready (< 0), or null if they never were.
 * Pure; O(levels × intervals).
 */
export interface CapacityRise {
  /** Backends needed (k). */
  level: number;
  /** Interval index at which the load rose to need k backends. */
  loadIndex: number;
  /** Intervals of lead (positive: ready before the load; negative: late), null if never ready. */
  leadIntervals: number | null;
}

/**
 * @param needed backends the offered load needed per interval (from backendsFor)
 * @param ready backends ready at the start of each interval (same length)
 * @param startLevel levels at or below this, present from interval 0, are not rises
 */
export function capacityRises(needed: readonly number[], ready: readonly number[], startLevel: number): CapacityRise[] {
  const rises: CapacityRise[] = [];
  const top = Math.max(0, ...needed);
  for (let level = 1; level <= top; level++) {
    for (let t = 0; t + 1 < needed.length; t++) {
      const before = t === 0 ? (level <= startLevel ? level : 0) : Math.max(needed[t - 1] as number, t >= 2 ? (needed[t - 2] as number) : 0);
      if ((needed[t] as number) < level || (needed[t + 1] as number) < level || before >= level) continue;
      rises.push({ level, loadIndex: t, leadIntervals: leadAt(ready, t, level) });
    }
  }
  return rises.sort((a, b) => a.loadIndex - b.loadIndex || a.level - b.level);
}

function leadAt(ready: readonly number[], t: number, level: number): number | null {
  if ((ready[t] ?? 0) >= level) {
    let s = t;
    while (s > 0 && (ready[s - 1] as number) >= level) s--;
    return t - s;
  }
  for (let s = t + 1; s < ready.length; s++) if ((ready[s] as number) >= level) return t - s;
  return null;
}

/** Intervals in which the offered load exceeded what the ready backends serve at `perBackendRps` each. */
export function underProvisioned(offeredRps: readonly number[], ready: readonly number[], perBackendRps: number): number {
  let n = 0;
  for (let t = 0; t < offeredRps.length; t++) if ((offeredRps[t] as number) > (ready[t] ?? 0) * perBackendRps) n++;
  return n;
}
