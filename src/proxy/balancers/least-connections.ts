import type { Backend } from '../backend.js';
import type { Balancer } from './balancer.js';
import { isPickable } from './is-pickable.js';

/**
 * Weighted least connections, nginx `least_conn` (ngx_http_upstream_get_least_conn_peer in
 * ngx_http_upstream_least_conn_module.c): the eligible backend with the lowest
 * inFlight / effectiveWeight, compared by cross-multiplying (inFlight_a × w_b < inFlight_b × w_a)
 * so there is no division and no NaN. When several backends tie for the lowest, they take turns
 * by smooth weighted round robin among themselves, as nginx does, so idle backends (all at 0)
 * share traffic in proportion to weight and equal-weight ties go strictly in turn.
 *
 * The round-robin state lives in this balancer, indexed by list position, and restarts when the
 * upstream replaces its list (the only allocation, once per membership change). Reads
 * `inFlight`, which the caller increments after the pick and decrements on completion.
 * Cost O(n) per pick. Returns undefined when no backend is eligible.
 */
export function createLeastConnections(): Balancer {
  let list: readonly Backend[] | null = null;
  let currentWeight = new Float64Array(0);
  return {
    name: 'least-connections',
    pick(backends) {
      let best: Backend | undefined;
      let bestIndex = 0;
      let ties = 0;
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend;
        if (!isPickable(b)) continue;
        if (best === undefined || b.inFlight * best.effectiveWeight < best.inFlight * b.effectiveWeight) {
          best = b;
          bestIndex = i;
          ties = 1;
        } else if (b.inFlight * best.effectiveWeight === best.inFlight * b.effectiveWeight) {
          ties++;
        }
      }
      if (best === undefined || ties === 1) return best;
      if (backends !== list || currentWeight.length !== backends.length) {
        list = backends;
        currentWeight = new Float64Array(backends.length);
      }
      // smooth weighted round robin among the tied backends (nginx: the `many` branch)
      let total = 0;
      let chosen = bestIndex;
      for (let i = bestIndex; i < backends.length; i++) {
        const b = backends[i] as Backend;
        if (!isPickable(b) || b.inFlight * best.effectiveWeight !== best.inFlight * b.effectiveWeight) continue;
        const weight = b.effectiveWeight;
        currentWeight[i] = (currentWeight[i] as number) + weight;
        total += weight;
        if ((currentWeight[i] as number) > (currentWeight[chosen] as number)) chosen = i;
      }
      currentWeight[chosen] = (currentWeight[chosen] as number) - total;
      return backends[chosen] as Backend;
    },
  };
}
