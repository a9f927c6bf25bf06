import type { Backend } from '../backend.js';

/**
 * True when a weight-aware balancer may choose `b`: eligible (ready, healthy, weight > 0) and a
 * positive effective weight — an effective weight that is 0, negative or NaN takes no traffic.
 * O(1).
 */
export function isPickable(b: Backend): boolean {
  return b.eligible && b.effectiveWeight > 0;
}
