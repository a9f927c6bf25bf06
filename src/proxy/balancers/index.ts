import type { Balancer } from './balancer.js';
import { createRoundRobin } from './round-robin.js';
import { createSmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';

export type { Balancer } from './balancer.js';
export type AlgorithmName = 'round-robin' | 'smooth-weighted-round-robin';

/** Build the balancer named in config `upstream.algorithm`. */
export function createBalancer(name: AlgorithmName): Balancer {
  switch (name) {
    case 'round-robin':
      return createRoundRobin();
    case 'smooth-weighted-round-robin':
      return createSmoothWeightedRoundRobin();
  }
}
