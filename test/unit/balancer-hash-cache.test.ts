import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMaglev } from '../../src/proxy/balancers/maglev.js';
import { createRingHash } from '../../src/proxy/balancers/ring-hash.js';
import { backends } from '../helpers/backend-fixtures.js';

// Count every murmur3 call: building a ring or table hashes every backend (thousands of calls
// for a ring), while a pick hashes only its key (one call).
const calls = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/proxy/balancers/murmur3.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/proxy/balancers/murmur3.js')>();
  return {
    murmur3Hash32: (key: string, seed?: number) => {
      calls.count++;
      return real.murmur3Hash32(key, seed);
    },
  };
});

/** murmur3 calls made by `picks` picks with distinct keys. */
function hashCalls(pick: (key: string) => unknown, picks: number): number {
  const before = calls.count;
  for (let i = 0; i < picks; i++) pick(`key-${i}`);
  return calls.count - before;
}

describe.each([
  ['ring-hash', () => createRingHash({ boundedLoadFactor: 1.5 })],
  ['maglev', () => createMaglev({ boundedLoadFactor: 1.5 })],
] as const)('%s hashing structure cache', (_name, create) => {
  beforeEach(() => {
    calls.count = 0;
  });

  it('builds once per list and then hashes only the key on each pick', () => {
    const list = backends([1, 1, 1]);
    const balancer = create();
    expect(hashCalls((key) => balancer.pick(list, key), 1)).toBeGreaterThan(1); // the build
    expect(hashCalls((key) => balancer.pick(list, key), 1000)).toBe(1000);
  });

  it('does not rebuild when health, state or in-flight counts change', () => {
    const list = backends([1, 1, 1]);
    const balancer = create();
    balancer.pick(list, 'warm-up');
    list[0]!.healthy = false;
    list[1]!.inFlight = 7;
    list[2]!.state = 'ready';
    expect(hashCalls((key) => balancer.pick(list, key), 100)).toBe(100);
  });

  it('rebuilds when the list is replaced or a weight changes, once each', () => {
    const list = backends([1, 1, 1]);
    const balancer = create();
    balancer.pick(list, 'warm-up');
    const replaced = [...list];
    expect(hashCalls((key) => balancer.pick(replaced, key), 10)).toBeGreaterThan(10);
    expect(hashCalls((key) => balancer.pick(replaced, key), 10)).toBe(10);
    replaced[0]!.weight = 2;
    expect(hashCalls((key) => balancer.pick(replaced, key), 10)).toBeGreaterThan(10);
    expect(hashCalls((key) => balancer.pick(replaced, key), 10)).toBe(10);
  });
});
