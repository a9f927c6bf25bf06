import { PrescaleError } from '../../errors.js';
import type { Backend } from '../backend.js';
import type { Balancer, RandomSource } from './balancer.js';
import { BackendListSnapshot } from './backend-list-snapshot.js';
import { BoundedLoad } from './bounded-load.js';
import { murmur3Hash32 } from './murmur3.js';

export interface MaglevOptions {
  /** Lookup table size M, a prime; default 65537 (Envoy's default). Raised to a prime ≥ 100 × n when smaller. */
  tableSize?: number;
  /** Bounded-load factor c ≥ 1 (Envoy hash_balance_factor / 100); default unbounded. */
  boundedLoadFactor?: number;
  /** Used to place requests that carry no key; default Math.random. */
  random?: RandomSource;
}

const OFFSET_SEED = 0x9747b28c;
const SKIP_SEED = 0x5bd1e995;

/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
 * Load Balancer", NSDI 2016, §3.4, Pseudocode 1; Envoy MAGLEV): each backend with weight > 0
 * has a permutation of the M table slots, offset = h1(id) mod M, skip = h2(id) mod (M − 1) + 1;
 * backends take turns claiming their next free preferred slot until the table is full. Weights
 * follow Envoy: a backend takes a turn only once per (max weight / its weight) rounds, so its
 * share of slots is proportional to its configured `weight`. A key goes to table[murmur3(key)
 * mod M]. Adding a backend to n moves close to 1/(n+1) of the keys; every backend's share is
 * within a few per cent of its weight share when M ≥ 100 × n.
 *
 * Ineligible backends keep their slots; the pick walks to the next slot past them, and past
 * backends at capacity with `boundedLoadFactor` (see bounded-load.ts). A request without a key
 * lands on a random slot.
 *
 * The table is rebuilt only when the list (array identity) or a weight changes: about
 * O(M log M). A pick costs O(n) plus the walk, and allocates nothing. Returns undefined when no
 * backend is eligible. Throws PRESCALE_ERR_CONFIG when tableSize is not a prime.
 */
export function createMaglev(options: MaglevOptions = {}): Balancer {
  const tableSize = options.tableSize ?? 65537;
  if (!Number.isInteger(tableSize) || !isPrime(tableSize)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `maglev tableSize must be a prime (e.g. 65537), got ${tableSize}`);
  }
  const bounded = new BoundedLoad(options.boundedLoadFactor);
  const random = options.random ?? Math.random;
  const snapshot = new BackendListSnapshot();
  let table: Int32Array = new Int32Array(0);

  return {
    name: 'maglev',
    pick(backends, key) {
      if (!bounded.begin(backends)) return undefined;
      if (!snapshot.matches(backends)) {
        snapshot.capture(backends);
        table = buildTable(backends, tableSize);
      }
      const size = table.length;
      if (size === 0) return bounded.leastLoaded(backends);
      const hash = key === undefined ? (random() * 4294967296) >>> 0 : murmur3Hash32(key);
      const first = hash % size;
      for (let step = 0; step < size; step++) {
        const b = backends[table[(first + step) % size] as number] as Backend;
        if (bounded.accepts(b)) return b;
      }
      return bounded.leastLoaded(backends);
    },
  };
}

/** Populate the lookup table (slot → backend index); empty when no backend has weight > 0. */
function buildTable(backends: readonly Backend[], configuredSize: number): Int32Array {
  let maxWeight = 0;
  for (const b of backends) if (b.weight > maxWeight) maxWeight = b.weight;
  if (!(maxWeight > 0)) return new Int32Array(0);
  const size = configuredSize >= 100 * backends.length ? configuredSize : nextPrime(100 * backends.length);
  const n = backends.length;
  const position = new Float64Array(n); // next preferred slot of each backend
  const skip = new Float64Array(n);
  const target = new Float64Array(n); // Envoy's target_weight: when the backend may take its next turn
  for (let i = 0; i < n; i++) {
    const id = (backends[i] as Backend).id;
    position[i] = murmur3Hash32(id, OFFSET_SEED) % size;
    skip[i] = (murmur3Hash32(id, SKIP_SEED) % (size - 1)) + 1;
  }
  const table = new Int32Array(size).fill(-1);
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      const weight = (backends[i] as Backend).weight;
      if (!(weight > 0) || round * weight < (target[i] as number)) continue;
      target[i] = (target[i] as number) + maxWeight;
      let slot = position[i] as number;
      while ((table[slot] as number) >= 0) slot = (slot + (skip[i] as number)) % size;
      table[slot] = i;
      position[i] = (slot + (skip[i] as number)) % size;
      filled++;
    }
  }
  return table;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}
