import type { Backend } from '../backend.js';

/**
 * Remembers which backend list (by array identity) and which weights a hashing structure (hash
 * ring, Maglev table) was built from, so the structure is rebuilt only when the upstream's list
 * is replaced (membership change) or a weight changes — never per pick. Health and state are
 * not part of the snapshot: the hashing balancers skip ineligible backends at pick time.
 * `matches` costs O(n) with no allocation; `capture` allocates (it runs only on rebuild).
 */
export class BackendListSnapshot {
  private list: readonly Backend[] | null = null;
  private weights: Float64Array = new Float64Array(0);

  /** True when `backends` is the captured array with the same length and weights. */
  matches(backends: readonly Backend[]): boolean {
    if (backends !== this.list || backends.length !== this.weights.length) return false;
    for (let i = 0; i < backends.length; i++) {
      if ((backends[i] as Backend).weight !== this.weights[i]) return false;
    }
    return true;
  }

  capture(backends: readonly Backend[]): void {
    this.list = backends;
    this.weights = Float64Array.from(backends, (b) => b.weight);
  }
}
