import { describe, expect, it } from 'vitest';
import { parseIpAddressBytes } from '../../src/proxy/balancers/ip-address-bytes.js';
import { murmur3Hash32 } from '../../src/proxy/balancers/murmur3.js';

/** MurmurHash3 x86_32 over a byte array, straight from the reference, to check the UTF-8 streaming. */
function referenceMurmur3(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  const mix = (k: number): number => Math.imul(((Math.imul(k, 0xcc9e2d51) << 15) | (Math.imul(k, 0xcc9e2d51) >>> 17)), 0x1b873593);
  for (let i = 0; i < blocks; i++) {
    const k = bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24);
    h ^= mix(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = bytes.length & 3; i > 0; i--) k |= bytes[4 * blocks + i - 1]! << (8 * (i - 1));
  if ((bytes.length & 3) !== 0) h ^= mix(k);
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

describe('MurmurHash3 x86_32', () => {
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['test', 0, 0xba6bd213],
    ['Hello, world!', 0, 0xc0363e43],
    ['Hello, world!', 1234, 0xfaf6cdb3],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ])('hashes %j with seed %i to the published value %i', (key, seed, expected) => {
    expect(murmur3Hash32(key, seed)).toBe(expected);
  });

  it.each(['é', '日本語のキー', 'emoji 😀 and 🚀', 'lone \ud800 surrogate', 'x'.repeat(1001)])(
    'hashes %j exactly as the byte-wise reference does over its UTF-8 bytes',
    (key) => {
      const bytes = new TextEncoder().encode(key);
      for (const seed of [0, 42]) expect(murmur3Hash32(key, seed)).toBe(referenceMurmur3(bytes, seed));
    },
  );
});

describe('IP address parsing for ip-hash', () => {
  const out = new Uint8Array(16);
  it.each([
    ['192.168.1.10', [192, 168, 1, 10]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['::ffff:10.1.2.3', [10, 1, 2, 3]],
    ['::FFFF:7f00:1', [127, 0, 0, 1]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['::', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['2001:db8::8a2e:370:7334', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34]],
    ['2001:db8:0:0:1:0:0:1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]],
    ['fe80::1%eth0', [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['64:ff9b::192.0.2.33', [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33]],
  ])('parses %s', (text, bytes) => {
    const length = parseIpAddressBytes(text, out);
    expect(length).toBe(bytes.length);
    expect([...out.subarray(0, length)]).toEqual(bytes);
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4%eth0', ':1', '1:', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::1.2.3', 'g::1', '[::1]'])(
    'rejects %j as not an IP address',
    (text) => {
      expect(parseIpAddressBytes(text, out)).toBe(0);
    },
  );
});
