import type { Backend } from '../backend.js';
import type { Balancer } from './balancer.js';

/**
 * Plain round robin: each eligible backend in turn, ignoring weights.
 * Source: nginx upstream default without weights; HAProxy `balance roundrobin` with equal weights.
 * Cost O(n) worst case per pick (skipping ineligible backends), O(1) typical. No allocation.
 */
export function createRoundRobin(): Balancer {
  let next = 0;
  return {
    name: 'round-robin',
    pick(backends) {
      const n = backends.length;
      for (let i = 0; i < n; i++) {
        const index = (next + i) % n;
        const b = backends[index] as Backend;
        if (b.eligible) {
          next = (index + 1) % n;
          return b;
        }
      }
      return undefined;
    },
  };
}
