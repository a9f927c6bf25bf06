import type { Backend } from '../backend.js';
import type { Balancer } from './balancer.js';
import { isPickable } from './weighted-draw.js';

/**
 * Weighted least connections, nginx `least_conn` (ngx_http_upstream_least_conn_module.c): the
 * eligible backend with the lowest inFlight / effectiveWeight, compared by cross-multiplying
 * (inFlight_a × w_b < inFlight_b × w_a) so no division and no NaN. Ties are broken round robin:
 * the scan starts just after the previous pick, so equally loaded backends take turns (nginx
 * breaks ties by weighted round robin; with ties decided by a rotating start the long-run shares
 * are the same, weight-proportional under steady load).
 *
 * Reads `inFlight`, which the caller increments after the pick and decrements on completion.
 * Cost O(n) per pick, no allocation. Returns undefined when no backend is eligible.
 */
export function createLeastConnections(): Balancer {
  let start = 0;
  return {
    name: 'least-connections',
    pick(backends) {
      const n = backends.length;
      let best: Backend | undefined;
      let bestIndex = 0;
      for (let k = 0; k < n; k++) {
        const index = (start + k) % n;
        const b = backends[index] as Backend;
        if (!isPickable(b)) continue;
        if (best === undefined || b.inFlight * best.effectiveWeight < best.inFlight * b.effectiveWeight) {
          best = b;
          bestIndex = index;
        }
      }
      if (best !== undefined) start = (bestIndex + 1) % n;
      return best;
    },
  };
}
