import { afterEach, describe, expect, it } from 'vitest';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { PrescaleError } from '../../src/errors.js';

const upstreams: Upstream[] = [];
afterEach(async () => {
  for (const u of upstreams.splice(0)) await u.close();
});

function upstream(): Upstream {
  const u = new Upstream(createBalancer('round-robin'), { connectTimeoutMs: 100, firstByteTimeoutMs: 100, idleTimeoutMs: 100, keepAliveConnections: 1 });
  upstreams.push(u);
  return u;
}

describe('Upstream runtime changes', () => {
  it('remembers the weight each backend was added with while its weight changes', () => {
    const u = upstream();
    const b = u.add('a', 'http://127.0.0.1:1', 4, 'ready', true);
    expect(u.setWeight('a', 7)).toBe(b);
    expect(b.weight).toBe(7);
    expect(u.initialWeight('a')).toBe(4);
    expect(u.initialWeight('nope')).toBeUndefined();
    expect(u.setWeight('nope', 1)).toBeUndefined();
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses weight %s', (weight) => {
    const u = upstream();
    u.add('a', 'http://127.0.0.1:1', 1, 'ready', true);
    expect(() => u.setWeight('a', weight)).toThrow(PrescaleError);
  });

  it('sets the state in place; a backend being removed stays draining', async () => {
    const u = upstream();
    const b = u.add('a', 'http://127.0.0.1:1', 1, 'ready', true);
    expect(u.setState('a', 'maint')?.state).toBe('maint');
    b.inFlight = 1;
    const removal = u.drainAndRemove('a', 10_000);
    expect(u.isRemoving('a')).toBe(true);
    expect(u.setState('a', 'ready')).toBeUndefined();
    expect(u.setWeight('a', 5)).toBeUndefined();
    expect(b.state).toBe('drain');
    b.release();
    expect(await removal).toEqual({ drained: true });
    expect(u.isRemoving('a')).toBe(false);
    expect(u.get('a')).toBeUndefined();
    expect(u.initialWeight('a')).toBeUndefined();
  });
});
