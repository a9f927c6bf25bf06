/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `key` (Austin Appleby, public domain; reference
 * `MurmurHash3_x86_32` in SMHasher's MurmurHash3.cpp). A fast non-cryptographic 32-bit hash
 * with full avalanche, used to place keys and backends on hash rings and Maglev tables.
 *
 * Input: any string (UTF-16 is encoded to UTF-8 on the fly, lone surrogates as U+FFFD like
 * TextEncoder) and a 32-bit seed. Output: an unsigned 32-bit integer. Cost O(key.length), no
 * allocation. Known answers: ("", 0) → 0, ("", 1) → 0x514e28b7, ("abc", 0) → 0xb3dd93fa.
 */
export function murmur3Hash32(key: string, seed = 0): number {
  let h = seed | 0;
  let block = 0;
  let shift = 0;
  let byteLength = 0;
  const n = key.length;
  for (let i = 0; i < n; i++) {
    let cp = key.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
      const low = key.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    const count = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let j = 0; j < count; j++) {
      let byte: number;
      if (count === 1) byte = cp;
      else if (j === 0) byte = ((0xf00 >> count) & 0xff) | (cp >> (6 * (count - 1))); // 110xxxxx, 1110xxxx, 11110xxx
      else byte = 0x80 | ((cp >> (6 * (count - 1 - j))) & 0x3f);
      block |= byte << shift;
      shift += 8;
      byteLength++;
      if (shift === 32) {
        h ^= scramble(block);
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        block = 0;
        shift = 0;
      }
    }
  }
  if (shift > 0) h ^= scramble(block);
  h ^= byteLength;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}
