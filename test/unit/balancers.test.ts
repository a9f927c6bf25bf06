import { describe, expect, it } from 'vitest';
import { Backend } from '../../src/proxy/backend.js';
import { createRoundRobin } from '../../src/proxy/balancers/round-robin.js';
import { createSmoothWeightedRoundRobin } from '../../src/proxy/balancers/smooth-weighted-round-robin.js';
import { backends } from '../helpers/backend-fixtures.js';

function shares(pick: () => Backend | undefined, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = pick();
    if (b) counts[b.id] = (counts[b.id] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / n]));
}

describe('smooth weighted round robin (nginx)', () => {
  it('gives weights 5:1:1 the interleaved sequence a a b a c a a', () => {
    const list = backends([5, 1, 1]);
    const swrr = createSmoothWeightedRoundRobin();
    const seq = Array.from({ length: 7 }, () => swrr.pick(list)?.id).join(' ');
    expect(seq).toBe('a a b a c a a');
  });

  it.each([
    [[3, 1, 1], { a: 0.6, b: 0.2, c: 0.2 }],
    [[1, 1, 1], { a: 1 / 3, b: 1 / 3, c: 1 / 3 }],
    [[7, 2, 1], { a: 0.7, b: 0.2, c: 0.1 }],
  ])('weights %j give shares %j within ±3%% over 10,000 picks', (weights, expected) => {
    const list = backends(weights);
    const swrr = createSmoothWeightedRoundRobin();
    const got = shares(() => swrr.pick(list), 10_000);
    for (const [id, share] of Object.entries(expected)) expect(Math.abs((got[id] ?? 0) - share)).toBeLessThanOrEqual(0.03);
  });

  it('skips draining, unhealthy and zero-weight backends', () => {
    const list = backends([3, 1, 1, 2]);
    list[0]!.state = 'drain';
    list[1]!.healthy = false;
    list[3]!.weight = 0;
    const swrr = createSmoothWeightedRoundRobin();
    const got = shares(() => swrr.pick(list), 1000);
    expect(got).toEqual({ c: 1 });
  });

  it('returns undefined when no backend is eligible', () => {
    const list = backends([1, 1]);
    for (const b of list) b.state = 'maint';
    expect(createSmoothWeightedRoundRobin().pick(list)).toBeUndefined();
  });
});

describe('round robin', () => {
  it('visits each eligible backend in turn, ignoring weights', () => {
    const list = backends([5, 1, 1]);
    const rr = createRoundRobin();
    expect(Array.from({ length: 6 }, () => rr.pick(list)?.id).join('')).toBe('abcabc');
  });

  it('gives equal shares within ±3% over 10,000 picks and skips a draining backend', () => {
    const list = backends([1, 1, 1, 1]);
    list[2]!.state = 'drain';
    const rr = createRoundRobin();
    const got = shares(() => rr.pick(list), 10_000);
    expect(got['c']).toBeUndefined();
    for (const id of ['a', 'b', 'd']) expect(Math.abs((got[id] ?? 0) - 1 / 3)).toBeLessThanOrEqual(0.03);
  });
});
