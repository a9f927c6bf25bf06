import type { Backend } from '../backend.js';
import type { Balancer } from './balancer.js';
import { parseIpAddressBytes } from './ip-address-bytes.js';
import { murmur3Hash32 } from './murmur3.js';

/** nginx retries this many rehashes before falling back to round robin. */
const MAX_TRIES = 20;

/**
 * nginx `ip_hash` (ngx_http_upstream_ip_hash_module.c) over `key`, normally the client address:
 * hash = 89, then for each address byte hash = (hash × 113 + byte) mod 6271, using the first
 * three octets of an IPv4 address (so a /24 sticks to one backend) or all 16 bytes of IPv6;
 * then w = hash mod (total weight of all listed backends) selects a backend by walking the
 * cumulative configured weights. If that backend is not eligible the byte loop runs again from
 * the current hash (up to 20 tries), so a backend that goes down or drains moves only its own
 * clients; after 20 tries the pick falls back to round robin over the eligible backends.
 *
 * Keys: IPv4-mapped IPv6 hashes as its IPv4 address; a key that is not an IP address hashes the
 * four bytes of its MurmurHash3; no key uses nginx's pseudo-address 0.0.0 (all keyless requests
 * stick together, as nginx does for non-IP clients). Weights are the configured `weight`, not
 * the slow-start `effectiveWeight` (nginx disallows slow_start with ip_hash), so a key's backend
 * does not move during a ramp. Cost O(n) per pick, no allocation.
 */
export function createIpHash(): Balancer {
  const address = new Uint8Array(16);
  let fallbackNext = 0;
  return {
    name: 'ip-hash',
    pick(backends, key) {
      let totalWeight = 0;
      let anyEligible = false;
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i] as Backend;
        if (b.weight > 0) totalWeight += b.weight;
        if (b.eligible) anyEligible = true;
      }
      if (!anyEligible || !(totalWeight > 0)) return undefined;
      const addressLength = loadAddress(key, address);
      let hash = 89;
      for (let tries = 0; tries < MAX_TRIES; tries++) {
        for (let i = 0; i < addressLength; i++) hash = (hash * 113 + (address[i] as number)) % 6271;
        const b = walk(backends, hash % totalWeight);
        if (b !== undefined && b.eligible) return b;
      }
      // round robin fallback (nginx: get_rr_peer)
      const n = backends.length;
      for (let k = 0; k < n; k++) {
        const index = (fallbackNext + k) % n;
        const b = backends[index] as Backend;
        if (b.eligible) {
          fallbackNext = (index + 1) % n;
          return b;
        }
      }
      return undefined;
    },
  };
}

/** Fill `out` with the bytes nginx hashes for `key`; returns how many to hash (3, 4 or 16). */
function loadAddress(key: string | undefined, out: Uint8Array): number {
  if (key === undefined || key === '') {
    out.fill(0, 0, 3);
    return 3;
  }
  const length = parseIpAddressBytes(key, out);
  if (length === 4) return 3;
  if (length === 16) return 16;
  const h = murmur3Hash32(key);
  out[0] = h >>> 24;
  out[1] = (h >>> 16) & 0xff;
  out[2] = (h >>> 8) & 0xff;
  out[3] = h & 0xff;
  return 4;
}

/** The backend whose slice of the cumulative positive weights contains `w`. */
function walk(backends: readonly Backend[], w: number): Backend | undefined {
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i] as Backend;
    if (!(b.weight > 0)) continue;
    if (w < b.weight) return b;
    w -= b.weight;
  }
  return undefined;
}
