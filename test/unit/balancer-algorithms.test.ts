import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { Backend } from '../../src/proxy/backend.js';
import { ALGORITHM_NAMES, createBalancer, KEYED_ALGORITHMS, type AlgorithmName, type BalancerOptions } from '../../src/proxy/balancers/index.js';
import { mulberry32 } from '../helpers/seeded-random.js';
import { backendOptions, backends, markReady } from '../helpers/backend-fixtures.js';

/** A fixed list of uniform numbers, for sequences that can be checked by hand. */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** A random IPv4 client address, one per /24 so ip-hash sees distinct keys. */
function clientAddress(random: () => number): string {
  const octet = () => Math.floor(random() * 256);
  return `${octet()}.${octet()}.${octet()}.${octet()}`;
}

const options = (): BalancerOptions => ({ random: mulberry32(7), nowMs: () => 1_000 });

/**
 * Run `count` picks. 'idle': each request finishes before the next (inFlight stays 0);
 * 'loaded': requests stay in flight, as under sustained concurrency.
 */
function shares(algorithm: AlgorithmName, list: Backend[], mode: 'idle' | 'loaded', count: number): Record<string, number> {
  const balancer = createBalancer(algorithm, options());
  const keys = mulberry32(99);
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const b = balancer.pick(list, algorithm === 'ip-hash' ? clientAddress(keys) : `user-${i}`);
    if (!b) continue;
    counts[b.id] = (counts[b.id] ?? 0) + 1;
    if (mode === 'loaded') b.inFlight++;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / count]));
}

describe('createBalancer', () => {
  it.each(ALGORITHM_NAMES)('builds %s', (name) => {
    const balancer = createBalancer(name);
    expect(balancer.name).toBe(name);
    expect(balancer.pick(backends([1, 1]), '10.0.0.1')).toBeDefined();
  });

  it('marks exactly the hashing algorithms as keyed', () => {
    expect([...KEYED_ALGORITHMS].sort()).toEqual(['ip-hash', 'maglev', 'ring-hash']);
  });

  it.each([
    ['ring-hash', { boundedLoadFactor: 0.9 }],
    ['maglev', { boundedLoadFactor: Number.NaN }],
    ['maglev', { maglevTableSize: 65536 }],
    ['ring-hash', { ringPointsPerWeight: 0 }],
  ] as const)('rejects invalid %s options %j with PRESCALE_ERR_CONFIG', (name, bad) => {
    expect(() => createBalancer(name, bad)).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG' }) as PrescaleError);
  });
});

describe('pick sequences on a small fixed input', () => {
  it.each([
    // weights, in-flight before, the random numbers each pick draws, expected ids
    ['random', [3, 1, 1], [0, 0, 0], [0.1, 0.59, 0.61, 0.79, 0.81, 0.99], 'a a b b c c'],
    // p2c: first draw over all weight, second over the rest; idle ties keep the first draw
    ['p2c', [3, 1, 1], [0, 0, 0], [0.1, 0.5, 0.7, 0.1, 0.9, 0.9], 'a b c'],
    // p2c: a (3 in flight) loses to whichever other backend is drawn
    ['p2c', [1, 1, 1], [3, 0, 0], [0.1, 0.1, 0.1, 0.9, 0.5, 0.1], 'b c b'],
    // p2c compares inFlight / weight: a at 3/3 beats b at 2/1
    ['p2c', [3, 1, 1], [3, 2, 5], [0.7, 0.1], 'a'],
  ] as const)('%s with weights %j and in-flight %j draws %j → %s', (name, weights, inFlight, draws, expected) => {
    const list = backends([...weights]);
    list.forEach((b, i) => (b.inFlight = inFlight[i]!));
    const balancer = createBalancer(name, { random: scripted([...draws]) });
    const picks = expected.split(' ').map(() => balancer.pick(list)?.id);
    expect(picks.join(' ')).toBe(expected);
  });

  it.each([
    // nginx least_conn: lowest inFlight/weight, ties by smooth weighted round robin
    ['least-connections', [3, 1, 1], 'a b c a a c a b a a'],
    // nginx carries the round-robin weights across tie groups, so equal backends do not cycle strictly
    ['least-connections', [1, 1, 1], 'a b c c b a a b c c'],
    ['smooth-weighted-round-robin', [3, 1, 1], 'a b a c a a b a c a'],
    // equal latencies: cost = latency × (inFlight + 1) / weight, ties in turn
    ['least-response-time', [1, 1, 1], 'a b c a b c a b c a'],
  ] as const)('%s with weights %j under sustained load picks %s', (name, weights, expected) => {
    const list = backends([...weights]);
    for (const b of list) b.observeLatency(20, 0);
    const balancer = createBalancer(name, options());
    const picks = expected.split(' ').map(() => {
      const b = balancer.pick(list);
      if (b) b.inFlight++;
      return b?.id;
    });
    expect(picks.join(' ')).toBe(expected);
  });

  it.each([
    // nginx ip_hash over 192.168.1: hash 89 → 3978 → 4441 → 154; 154 mod 3 = 1, 154 mod 5 = 4
    ['ip-hash', [1, 1, 1], ['192.168.1.10', '192.168.1.99', '10.0.0.1'], 'b b a'],
    ['ip-hash', [3, 1, 1], ['192.168.1.10', '192.168.1.99', '10.0.0.1'], 'c c a'],
    // regression pins: these follow from murmur3 of the ids and keys
    ['ring-hash', [1, 1, 1], ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'], 'c a a a a b'],
    ['maglev', [1, 1, 1], ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'], 'a c c a c b'],
  ] as const)('%s with weights %j maps keys %j → %s', (name, weights, keys, expected) => {
    const list = backends([...weights]);
    const balancer = createBalancer(name);
    expect(keys.map((key) => balancer.pick(list, key)?.id).join(' ')).toBe(expected);
  });
});

describe('shares over 10,000 picks with weights 3:1:1', () => {
  it.each([
    ['smooth-weighted-round-robin', 'idle'],
    ['least-connections', 'idle'],
    ['least-connections', 'loaded'],
    ['least-response-time', 'loaded'],
    ['p2c', 'idle'],
    ['p2c', 'loaded'],
    ['random', 'idle'],
    ['ip-hash', 'idle'],
    ['ring-hash', 'idle'],
    ['ring-hash', 'loaded'],
    ['maglev', 'idle'],
  ] as const)('%s (%s) gives 0.6 / 0.2 / 0.2 within ±0.03', (name, mode) => {
    const list = backends([3, 1, 1]);
    for (const b of list) b.observeLatency(20, 0);
    const got = shares(name, list, mode, 10_000);
    for (const [id, share] of Object.entries({ a: 0.6, b: 0.2, c: 0.2 })) expect(Math.abs((got[id] ?? 0) - share)).toBeLessThanOrEqual(0.03);
  });
});

describe('eligibility', () => {
  it.each(ALGORITHM_NAMES)('%s skips draining, unhealthy, maintenance and zero-weight backends', (name) => {
    const list = backends([3, 1, 1, 2, 1]);
    list[0]!.state = 'drain';
    list[1]!.healthy = false;
    list[3]!.state = 'maint';
    list[4]!.weight = 0;
    const got = shares(name, list, 'idle', 1000);
    expect(got).toEqual({ c: 1 });
  });

  it.each(ALGORITHM_NAMES)('%s returns undefined when no backend is eligible, or the list is empty', (name) => {
    const list = backends([1, 1, 1]);
    list[0]!.state = 'drain';
    list[1]!.healthy = false;
    list[2]!.state = 'maint';
    const balancer = createBalancer(name, options());
    expect(balancer.pick(list, '10.0.0.1')).toBeUndefined();
    expect(balancer.pick(list)).toBeUndefined();
    expect(balancer.pick([], 'k')).toBeUndefined();
  });

  /** A backend in slow start: its effective weight is a fraction of its configured weight. */
  class RampingBackend extends Backend {
    ramp = 1;
    override get effectiveWeight(): number {
      return this.weight * this.ramp;
    }
  }

  it.each(['smooth-weighted-round-robin', 'least-connections', 'p2c', 'random'] as const)(
    '%s follows effectiveWeight, and skips a backend whose effective weight is 0',
    (name) => {
      const list = [0, 1].map((i) => markReady(new RampingBackend(backendOptions(i, 4))));
      list[0]!.ramp = 0.25; // effective weights 1 : 4
      const got = shares(name, list, 'idle', 10_000);
      expect(Math.abs((got['a'] ?? 0) - 0.2)).toBeLessThanOrEqual(0.03);
      list[0]!.ramp = 0;
      expect(shares(name, list, 'idle', 100)).toEqual({ b: 1 });
    },
  );
});
