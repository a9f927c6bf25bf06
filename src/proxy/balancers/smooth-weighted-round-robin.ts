import type { Backend } from '../backend.js';
import type { Balancer } from './balancer.js';
import { isPickable } from './is-pickable.js';

/**
 * Smooth weighted round robin, nginx's algorithm (ngx_http_upstream_get_peer in
 * ngx_http_upstream_round_robin.c): on each pick every eligible backend's current weight grows
 * by its weight, the largest is chosen and lowered by the total. Weights 5:1:1 give
 * a a b a c a a rather than a a a a a b c. Shares converge to weight / total weight.
 * Uses `effectiveWeight` (nginx's `effective_weight`, which slow start will ramp); a backend
 * whose effective weight is not positive is skipped. Cost O(n) per pick, no allocation.
 * Ineligible backends keep their current weight.
 */
export function createSmoothWeightedRoundRobin(): Balancer {
  return {
    name: 'smooth-weighted-round-robin',
    pick(backends) {
      let best: Backend | undefined;
      let total = 0;
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend;
        if (!isPickable(b)) continue;
        const weight = b.effectiveWeight;
        b.currentWeight += weight;
        total += weight;
        if (best === undefined || b.currentWeight > best.currentWeight) best = b;
      }
      if (best !== undefined) best.currentWeight -= total;
      return best;
    },
  };
}
