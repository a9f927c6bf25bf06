import type { Backend } from '../backend.js';
import { isPickable } from './is-pickable.js';

/**
 * Draw one pickable backend with probability effectiveWeight / `totalWeight` (inverse transform
 * sampling over the cumulative weights), leaving out `exclude` (whose weight the caller has
 * already subtracted from `totalWeight`). `u` is a uniform number in [0, 1). Returns the last
 * pickable backend when rounding leaves `u × totalWeight` past the end, undefined when none is
 * pickable. Cost O(n), no allocation.
 */
export function drawWeighted(
  backends: readonly Backend[],
  totalWeight: number,
  u: number,
  exclude: Backend | undefined,
): Backend | undefined {
  let remaining = u * totalWeight;
  let last: Backend | undefined;
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i] as Backend;
    if (b === exclude || !isPickable(b)) continue;
    remaining -= b.effectiveWeight;
    if (remaining < 0) return b;
    last = b;
  }
  return last;
}
