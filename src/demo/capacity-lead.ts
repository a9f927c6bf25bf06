/**
 * How far ahead of each load rise the capacity rose: the figure of merit of a predictive
 * autoscaler, computed after a run from per-interval series.
 *
 * A rise to level k happens at the first interval t where the offered load needs at least k
 * backends in t and in t + 1 (two consecutive intervals, so a one-interval blip is not a rise).
 * The capacity for it arrived at the first interval where at least k backends were ready.
 * Lead = rise interval − capacity interval, in intervals: positive means the capacity was ready
 * before the load arrived, negative that it came late. Pure; O(levels × intervals).
 */
export interface CapacityRise {
  /** Backends needed (k). */
  level: number;
  /** Interval index at which the load first needed k backends. */
  loadIndex: number;
  /** Interval index at which k backends were first ready, or null if never. */
  capacityIndex: number | null;
  /** loadIndex − capacityIndex (intervals), or null if the capacity never came. */
  leadIntervals: number | null;
}

/**
 * @param needed backends the offered load needed per interval (from backendsFor)
 * @param ready backends ready at the start of each interval (same length)
 * @param startLevel levels at or below this are not rises (the fleet started with them)
 */
export function capacityRises(needed: readonly number[], ready: readonly number[], startLevel: number): CapacityRise[] {
  const rises: CapacityRise[] = [];
  const top = Math.max(0, ...needed);
  for (let level = startLevel + 1; level <= top; level++) {
    let loadIndex = -1;
    for (let t = 0; t + 1 < needed.length; t++) {
      if ((needed[t] as number) >= level && (needed[t + 1] as number) >= level) {
        loadIndex = t;
        break;
      }
    }
    if (loadIndex < 0) continue;
    const capacityIndex = ready.findIndex((r) => r >= level);
    rises.push({
      level,
      loadIndex,
      capacityIndex: capacityIndex < 0 ? null : capacityIndex,
      leadIntervals: capacityIndex < 0 ? null : loadIndex - capacityIndex,
    });
  }
  return rises;
}
