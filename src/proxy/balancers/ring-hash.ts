import { PrescaleError } from '../../errors.js';
import type { Backend } from '../backend.js';
import type { Balancer, RandomSource } from './balancer.js';
import { BackendListSnapshot } from './backend-list-snapshot.js';
import { BoundedLoad } from './bounded-load.js';
import { murmur3Hash32 } from './murmur3.js';

export interface RingHashOptions {
  /** Virtual nodes per unit of (gcd-reduced) weight; default 1024 (Envoy's minimum ring size). */
  pointsPerWeight?: number;
  /** Upper bound on ring points; larger rings are scaled down (≥ 1 point per backend). */
  maxRingPoints?: number;
  /** Bounded-load factor c ≥ 1 (Envoy hash_balance_factor / 100); default unbounded. */
  boundedLoadFactor?: number;
  /** Used to place requests that carry no key; default Math.random. */
  random?: RandomSource;
}

/** Sort key = hash × 2^20 + backend index: exact in a double for < 2^20 backends. */
const INDEX_SPAN = 2 ** 20;

/**
 * Consistent hashing on a ring (Karger et al., STOC 1997; libketama's layout; Envoy RING_HASH):
 * each backend with weight > 0 owns points murmur3(`${id}-${v}`) on a 32-bit circle, the number
 * of points proportional to its configured `weight` (weights reduced by their gcd, then
 * × `pointsPerWeight`, so adding an equal-weight backend leaves the others' points alone); a
 * key goes to the owner of the first point at or after murmur3(key), wrapping around. Adding a
 * backend to n moves about 1/(n+1) of the keys, all to the new backend (as long as the gcd of
 * the weights is unchanged and the ring stays under `maxRingPoints`).
 *
 * Ineligible backends keep their points; the pick walks clockwise past them (so a backend that
 * is briefly unhealthy moves only its own keys). With `boundedLoadFactor` the walk also passes
 * backends at capacity (see bounded-load.ts). A request without a key lands on a random point.
 *
 * The ring is rebuilt only when the list (array identity) or a weight changes: O(P log P) for P
 * points. A pick costs O(n + log P) plus the walk, and allocates nothing. Returns undefined when
 * no backend is eligible. Throws PRESCALE_ERR_CONFIG on invalid options.
 */
export function createRingHash(options: RingHashOptions = {}): Balancer {
  const pointsPerWeight = positiveInteger(options.pointsPerWeight ?? 1024, 'pointsPerWeight');
  const maxRingPoints = positiveInteger(options.maxRingPoints ?? 2 ** 18, 'maxRingPoints');
  const bounded = new BoundedLoad(options.boundedLoadFactor);
  const random = options.random ?? Math.random;
  const snapshot = new BackendListSnapshot();
  let points: Uint32Array = new Uint32Array(0);
  let owners: Uint32Array = new Uint32Array(0);

  return {
    name: 'ring-hash',
    pick(backends, key) {
      if (!bounded.begin(backends)) return undefined;
      if (!snapshot.matches(backends)) {
        snapshot.capture(backends);
        ({ points, owners } = buildRing(backends, pointsPerWeight, maxRingPoints));
      }
      const size = points.length;
      if (size === 0) return bounded.leastLoaded(backends);
      const hash = key === undefined ? (random() * 4294967296) >>> 0 : murmur3Hash32(key);
      const first = firstAtOrAfter(points, hash);
      for (let step = 0; step < size; step++) {
        const b = backends[owners[(first + step) % size] as number] as Backend;
        if (bounded.accepts(b)) return b;
      }
      return bounded.leastLoaded(backends);
    },
  };
}

/** Build the sorted ring: parallel arrays of point hashes and owning backend indices. */
function buildRing(
  backends: readonly Backend[],
  pointsPerWeight: number,
  maxRingPoints: number,
): { points: Uint32Array; owners: Uint32Array } {
  if (backends.length >= INDEX_SPAN) throw new PrescaleError('PRESCALE_ERR_CONFIG', `ring-hash supports fewer than ${INDEX_SPAN} backends`);
  let divisor = 0;
  let totalWeight = 0;
  for (const b of backends) {
    if (!(b.weight > 0)) continue;
    divisor = divisor === 0 ? b.weight : gcd(divisor, b.weight);
    totalWeight += b.weight;
  }
  if (totalWeight === 0) return { points: new Uint32Array(0), owners: new Uint32Array(0) };
  const scale = Math.min(pointsPerWeight / divisor, maxRingPoints / totalWeight);
  const counts = backends.map((b) => (b.weight > 0 ? Math.max(1, Math.round(b.weight * scale)) : 0));
  const keys = new Float64Array(counts.reduce((sum, c) => sum + c, 0));
  let k = 0;
  backends.forEach((b, index) => {
    for (let v = 0; v < (counts[index] as number); v++) keys[k++] = murmur3Hash32(`${b.id}-${v}`) * INDEX_SPAN + index;
  });
  keys.sort();
  const points = new Uint32Array(keys.length);
  const owners = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    const index = key % INDEX_SPAN;
    owners[i] = index;
    points[i] = (key - index) / INDEX_SPAN;
  }
  return { points, owners };
}

/** Index of the first point ≥ hash, or 0 when hash is past the last point (the ring wraps). */
function firstAtOrAfter(points: Uint32Array, hash: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((points[mid] as number) < hash) low = mid + 1;
    else high = mid;
  }
  return low === points.length ? 0 : low;
}

/** Greatest common divisor of two positive weights; 1 when either is not an integer. */
function gcd(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b)) return 1;
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `ring-hash ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
