import type { Backend } from '../backend.js';
import type { Balancer, RandomSource } from './balancer.js';
import { isPickable } from './is-pickable.js';
import { drawWeighted } from './weighted-draw.js';

export interface WeightedRandomOptions {
  /** Uniform random numbers in [0, 1); default Math.random. Inject a seeded one in tests. */
  random?: RandomSource;
}

/**
 * Weighted random: each eligible backend with probability effectiveWeight / total eligible
 * effective weight, independently per request (nginx `random` without `two`, HAProxy
 * `balance random(1)`). Load-blind; shares converge to the weights.
 *
 * Cost O(n) per pick (one pass to total the weights, one draw), no allocation. Returns undefined
 * when no backend is eligible.
 */
export function createWeightedRandom(options: WeightedRandomOptions = {}): Balancer {
  const random = options.random ?? Math.random;
  return {
    name: 'random',
    pick(backends) {
      let total = 0;
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend;
        if (isPickable(b)) total += b.effectiveWeight;
      }
      if (total <= 0) return undefined;
      return drawWeighted(backends, total, random(), undefined);
    },
  };
}
