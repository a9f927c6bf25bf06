import type { Backend } from '../backend.js';
import type { Balancer, RandomSource } from './balancer.js';
import { isPickable } from './is-pickable.js';
import { drawWeighted } from './weighted-draw.js';

export interface PowerOfTwoChoicesOptions {
  /** Uniform random numbers in [0, 1); default Math.random. Inject a seeded one in tests. */
  random?: RandomSource;
}

/**
 * Power of two random choices (Mitzenmacher, "The Power of Two Choices in Randomized Load
 * Balancing", 2001), as HAProxy's `balance random(2)` (the default algorithm since 3.3) and
 * Envoy's LEAST_REQUEST (choice_count 2): draw two distinct eligible backends at random, each
 * with probability proportional to effectiveWeight (HAProxy draws by weight), and keep the one
 * with the lower inFlight / effectiveWeight (HAProxy compares weight-normalised load); on a tie
 * the first draw wins, so idle backends share traffic in proportion to weight.
 *
 * Cost O(n) per pick (two weighted draws over the list), no allocation. With one eligible
 * backend it is returned; with none, undefined.
 */
export function createPowerOfTwoChoices(options: PowerOfTwoChoicesOptions = {}): Balancer {
  const random = options.random ?? Math.random;
  return {
    name: 'p2c',
    pick(backends) {
      let total = 0;
      let count = 0;
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend;
        if (!isPickable(b)) continue;
        total += b.effectiveWeight;
        count++;
      }
      if (count === 0) return undefined;
      const first = drawWeighted(backends, total, random(), undefined) as Backend;
      if (count === 1) return first;
      const second = drawWeighted(backends, total - first.effectiveWeight, random(), first) as Backend;
      return second.inFlight * first.effectiveWeight < first.inFlight * second.effectiveWeight ? second : first;
    },
  };
}
