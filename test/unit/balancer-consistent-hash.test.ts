import { describe, expect, it } from 'vitest';
import { Backend } from '../../src/proxy/backend.js';
import { createIpHash } from '../../src/proxy/balancers/ip-hash.js';
import { createMaglev } from '../../src/proxy/balancers/maglev.js';
import { createRingHash } from '../../src/proxy/balancers/ring-hash.js';
import type { Balancer } from '../../src/proxy/balancers/balancer.js';
import { mulberry32 } from '../helpers/seeded-random.js';
import { backends } from '../helpers/backend-fixtures.js';

const random = mulberry32(11);
const ipKeys = Array.from({ length: 10_000 }, () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.'));
const userKeys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

const hashing = [
  ['ip-hash', () => createIpHash(), ipKeys],
  ['ring-hash', () => createRingHash(), userKeys],
  ['maglev', () => createMaglev(), userKeys],
] as const;

function assign(balancer: Balancer, list: readonly Backend[], keys: readonly string[]): string[] {
  return keys.map((key) => balancer.pick(list, key)?.id ?? '-');
}

describe('hash-based affinity', () => {
  it.each(hashing)('%s sends the same key to the same backend every time', (_name, create, keys) => {
    const list = backends([3, 1, 1, 2]);
    const first = assign(create(), list, keys);
    const balancer = create();
    expect(assign(balancer, list, keys)).toEqual(first);
    expect(assign(balancer, list, keys)).toEqual(first);
    expect(assign(balancer, [...list], keys)).toEqual(first); // a rebuilt list with the same backends
  });

  it.each(hashing)('%s moves only the keys of a backend that goes unhealthy, and moves them back', (_name, create, keys) => {
    const list = backends([1, 1, 1, 1]);
    const balancer = create();
    const before = assign(balancer, list, keys);
    list[1]!.healthy = false;
    const during = assign(balancer, list, keys);
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === 'b') expect(during[i]).not.toBe('b');
      else expect(during[i]).toBe(before[i]);
    }
    list[1]!.healthy = true;
    expect(assign(balancer, list, keys)).toEqual(before);
  });

  it('ip-hash keeps a /24 together and treats IPv4-mapped IPv6 as IPv4, as nginx', () => {
    const list = backends([1, 1, 1, 1, 1]);
    const balancer = createIpHash();
    const home = balancer.pick(list, '203.0.113.7')?.id;
    for (const key of ['203.0.113.1', '203.0.113.254', '::ffff:203.0.113.9']) expect(balancer.pick(list, key)?.id).toBe(home);
    const v6 = assign(balancer, list, ['2001:db8::1', '2001:db8::2', '2001:db8::1']);
    expect(v6[2]).toBe(v6[0]);
  });
});

describe('consistent hashing: adding a backend moves about 1/5 of the keys', () => {
  it.each([
    ['ring-hash', () => createRingHash()],
    ['maglev', () => createMaglev()],
  ] as const)('%s going from 4 to 5 backends moves between 15%% and 25%% of 10,000 keys', (name, create) => {
    const four = backends([1, 1, 1, 1]);
    const five = [...four, ...backends([1], 4)];
    const balancer = create();
    const before = assign(balancer, four, userKeys);
    const after = assign(balancer, five, userKeys);
    const moved = after.filter((id, i) => id !== before[i]);
    expect(moved.length / userKeys.length).toBeGreaterThanOrEqual(0.15);
    expect(moved.length / userKeys.length).toBeLessThanOrEqual(0.25);
    if (name === 'ring-hash') expect(new Set(moved)).toEqual(new Set(['e'])); // Ketama: keys only move to the new backend
  });

  it.each([
    ['ring-hash', () => createRingHash()],
    ['maglev', () => createMaglev()],
  ] as const)('%s rebuilds when a weight changes in place (same list)', (_name, create) => {
    const list = backends([1, 1, 1, 1]);
    const balancer = create();
    assign(balancer, list, userKeys);
    list[0]!.weight = 4; // a: 4 of 7
    const got = assign(balancer, list, userKeys);
    expect(Math.abs(got.filter((id) => id === 'a').length / got.length - 4 / 7)).toBeLessThanOrEqual(0.03);
  });

  it.each([
    ['ring-hash', () => createRingHash({ random: mulberry32(5) })],
    ['maglev', () => createMaglev({ random: mulberry32(5) })],
  ] as const)('%s spreads requests without a key by weight', (_name, create) => {
    const list = backends([3, 1, 1]);
    const balancer = create();
    const got = Array.from({ length: 10_000 }, () => balancer.pick(list)?.id);
    expect(Math.abs(got.filter((id) => id === 'a').length / 10_000 - 0.6)).toBeLessThanOrEqual(0.03);
  });
});

describe('bounded loads (Mirrokni et al.; Envoy hash_balance_factor)', () => {
  /** 1,000 requests that stay in flight; 80% carry one hot key, the rest distinct keys. */
  function assignSticky(balancer: Balancer, list: Backend[], check: (total: number) => void): void {
    for (let i = 0; i < 1000; i++) {
      const b = balancer.pick(list, i % 5 === 0 ? `cold-${i}` : 'hot')!;
      b.inFlight++;
      check(i + 1);
    }
  }

  it.each([
    ['ring-hash', () => createRingHash({ boundedLoadFactor: 1.25 })],
    ['maglev', () => createMaglev({ boundedLoadFactor: 1.25 })],
  ] as const)('%s with c = 1.25 never lets a backend exceed ceil(1.25 × average in-flight)', (_name, create) => {
    const list = backends([1, 1, 1, 1]);
    let worst = 0;
    assignSticky(create(), list, (total) => {
      const cap = Math.ceil((1.25 * total) / list.length);
      for (const b of list) worst = Math.max(worst, b.inFlight - cap);
    });
    expect(worst).toBeLessThanOrEqual(0);
    expect(list.reduce((sum, b) => sum + b.inFlight, 0)).toBe(1000);
  });

  it.each([
    ['ring-hash', () => createRingHash({ boundedLoadFactor: 1.25 }), () => createRingHash()],
    ['maglev', () => createMaglev({ boundedLoadFactor: 1.25 }), () => createMaglev()],
  ] as const)('%s sends the hot key to its home backend whenever that backend has room', (_name, bounded, unbounded) => {
    const list = backends([1, 1, 1, 1]);
    const home = list.find((b) => b.id === unbounded().pick(list, 'hot')!.id)!;
    const balancer = bounded();
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const key = i % 5 === 0 ? `cold-${i}` : 'hot';
      const homeHasRoom = home.inFlight < Math.ceil((1.25 * (total + 1)) / list.length);
      const b = balancer.pick(list, key)!;
      if (key === 'hot') expect(b === home).toBe(homeHasRoom);
      b.inFlight++;
      total++;
    }
    expect(home.inFlight).toBe(Math.ceil((1.25 * 1000) / 4)); // filled to capacity
    const unboundedList = backends([1, 1, 1, 1]);
    assignSticky(unbounded(), unboundedList, () => undefined);
    expect(Math.max(...unboundedList.map((b) => b.inFlight))).toBeGreaterThan(800); // what the bound prevents
  });
});
