import type { Balancer, ClockMs, RandomSource } from './balancer.js';
import { createIpHash } from './ip-hash.js';
import { createLeastConnections } from './least-connections.js';
import { createLeastResponseTime } from './least-response-time.js';
import { createMaglev } from './maglev.js';
import { createPowerOfTwoChoices } from './power-of-two-choices.js';
import { createRingHash } from './ring-hash.js';
import { createRoundRobin } from './round-robin.js';
import { createSmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';
import { createWeightedRandom } from './weighted-random.js';

export type { Balancer, ClockMs, RandomSource } from './balancer.js';

/** Every algorithm `createBalancer` builds, in the order the docs list them. */
export const ALGORITHM_NAMES = [
  'round-robin',
  'smooth-weighted-round-robin',
  'least-connections',
  'least-response-time',
  'p2c',
  'random',
  'ip-hash',
  'ring-hash',
  'maglev',
] as const;

export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

/** The algorithms that use the `key` argument of `pick` (the caller must supply one). */
export const KEYED_ALGORITHMS: ReadonlySet<AlgorithmName> = new Set<AlgorithmName>(['ip-hash', 'ring-hash', 'maglev']);

/** Options for `createBalancer`; each algorithm reads only the ones it documents. */
export interface BalancerOptions {
  /** p2c, random, ring-hash and maglev (keyless requests): uniform [0, 1) source; default Math.random. */
  random?: RandomSource;
  /** least-response-time: clock in ms, the same one passed to `Backend.observeLatency`; default epoch ms. */
  nowMs?: ClockMs;
  /** ring-hash and maglev: bounded-load factor c ≥ 1 (e.g. 1.25); default unbounded. */
  boundedLoadFactor?: number;
  /** ring-hash: virtual nodes per unit of gcd-reduced weight; default 1024. */
  ringPointsPerWeight?: number;
  /** maglev: lookup table size, a prime; default 65537. */
  maglevTableSize?: number;
}

/**
 * Build the balancer named in config `upstream.algorithm`. Throws PRESCALE_ERR_CONFIG when an
 * option is invalid (bounded-load factor < 1, table size not prime, ...).
 */
export function createBalancer(name: AlgorithmName, options: BalancerOptions = {}): Balancer {
  switch (name) {
    case 'round-robin':
      return createRoundRobin();
    case 'smooth-weighted-round-robin':
      return createSmoothWeightedRoundRobin();
    case 'least-connections':
      return createLeastConnections();
    case 'least-response-time':
      return createLeastResponseTime({ nowMs: options.nowMs });
    case 'p2c':
      return createPowerOfTwoChoices({ random: options.random });
    case 'random':
      return createWeightedRandom({ random: options.random });
    case 'ip-hash':
      return createIpHash();
    case 'ring-hash':
      return createRingHash({
        random: options.random,
        boundedLoadFactor: options.boundedLoadFactor,
        pointsPerWeight: options.ringPointsPerWeight,
      });
    case 'maglev':
      return createMaglev({
        random: options.random,
        boundedLoadFactor: options.boundedLoadFactor,
        tableSize: options.maglevTableSize,
      });
  }
}
