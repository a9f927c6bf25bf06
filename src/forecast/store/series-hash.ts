import { createHash } from 'node:crypto';

/**
 * SHA-256 (hex) of a series of counts: each value as an IEEE-754 little-endian float64, in
 * order, nothing else (no timestamps; meta.json holds the range). Independent of how the series
 * was serialised, so `training.json` can be reformatted without changing the hash. O(n).
 */
export function seriesSha256(requests: readonly number[]): string {
  const bytes = Buffer.alloc(requests.length * 8);
  requests.forEach((value, i) => bytes.writeDoubleLE(value, i * 8));
  return createHash('sha256').update(bytes).digest('hex');
}
