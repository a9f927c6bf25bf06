import { PrescaleError } from '../../errors.js';
import type { Backend } from '../backend.js';

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing
 * with Bounded Loads", SODA 2018; Envoy's `hash_balance_factor`): with T requests in flight on
 * the eligible backends and the new one about to be placed, backend i accepts it only while
 * inFlight_i < ceil(c × (T + 1) × w_i / W), W the eligible backends' total weight — with equal
 * weights, ceil(c × average in-flight). The hashing balancer walks on along its ring or table
 * past backends that are full. Since the capacities sum to at least c × (T + 1) > T, some
 * eligible backend always has room.
 *
 * Hashing balancers place keys by the configured `weight` (not `effectiveWeight`: a ramping
 * weight would remap keys and rebuild tables continually; Envoy likewise limits slow start to
 * round robin and least request), so capacities use `weight` too.
 *
 * One instance per balancer holds the per-pick totals, so a pick allocates nothing.
 */
export class BoundedLoad {
  private capacityPerWeight = Infinity;

  /** @param factor c ≥ 1, or undefined for unbounded; throws PRESCALE_ERR_CONFIG otherwise. */
  constructor(private readonly factor: number | undefined) {
    if (factor !== undefined && !(factor >= 1 && Number.isFinite(factor))) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `bounded-load factor must be a number ≥ 1 (e.g. 1.25), got ${factor}`);
    }
  }

  /**
   * Take this pick's totals over the eligible backends. Returns false when none is eligible.
   * O(n).
   */
  begin(backends: readonly Backend[]): boolean {
    let inFlight = 0;
    let weight = 0;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i] as Backend;
      if (!b.eligible) continue;
      inFlight += b.inFlight;
      weight += b.weight;
    }
    if (weight <= 0) return false;
    this.capacityPerWeight = this.factor === undefined ? Infinity : (this.factor * (inFlight + 1)) / weight;
    return true;
  }

  /** True when `b` is eligible and below its capacity for this pick. O(1). */
  accepts(b: Backend): boolean {
    // the small slack keeps float rounding (e.g. 2.0000000000000004) from raising the ceiling
    return b.eligible && b.inFlight < Math.ceil(this.capacityPerWeight * b.weight - 1e-9);
  }

  /**
   * The eligible backend with the lowest inFlight / weight (first on ties): the defined answer
   * when a walk found no backend with room (only possible when a backend holds no ring point or
   * table slot). O(n).
   */
  leastLoaded(backends: readonly Backend[]): Backend | undefined {
    let best: Backend | undefined;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i] as Backend;
      if (!b.eligible) continue;
      if (best === undefined || b.inFlight * best.weight < best.inFlight * b.weight) best = b;
    }
    return best;
  }
}
