import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeartbeatRegistry } from '../../src/admin/heartbeat-registry.js';

function registryAt(startMs: number) {
  const clock = { nowMs: startMs, now: () => clock.nowMs };
  return { clock, registry: new HeartbeatRegistry(clock) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('HeartbeatRegistry', () => {
  it('registers on the first beat and expires it once its TTL has passed without another', () => {
    const { registry } = registryAt(1000);
    const { entry, registered } = registry.beat('a', 500);
    expect(registered).toBe(true);
    expect(entry).toEqual({ id: 'a', ttlMs: 500, lastBeatMs: 1000, expiresAtMs: 1500 });
    expect(registry.sweep(1499)).toEqual([]);
    expect(registry.get('a')).toBeDefined();
    expect(registry.sweep(1500)).toEqual(['a']);
    expect(registry.get('a')).toBeUndefined();
    expect(registry.sweep(10_000)).toEqual([]);
  });

  it('a refresh before the TTL passes keeps it, with the new TTL counted from the refresh', () => {
    const { clock, registry } = registryAt(0);
    registry.beat('a', 1000);
    clock.nowMs = 900;
    expect(registry.beat('a', 2000).registered).toBe(false);
    expect(registry.sweep(1000)).toEqual([]);
    expect(registry.sweep(2899)).toEqual([]);
    expect(registry.sweep(2900)).toEqual(['a']);
  });

  it('expires only the silent ones and tells every listener, even after one throws', () => {
    const { clock, registry } = registryAt(0);
    registry.beat('quiet', 100);
    registry.beat('chatty', 100);
    clock.nowMs = 90;
    registry.beat('chatty', 100);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const heard: string[] = [];
    registry.onExpire(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = registry.onExpire((id) => heard.push(id));
    expect(registry.sweep(150)).toEqual(['quiet']);
    expect(heard).toEqual(['quiet']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('listener bug'), 'PrescaleHeartbeatWarning');
    expect(registry.list().map((e) => e.id)).toEqual(['chatty']);
    unsubscribe();
    expect(registry.sweep(1000)).toEqual(['chatty']);
    expect(heard).toEqual(['quiet']);
  });

  it('forget stops tracking without an expiry; a NaN time expires nothing', () => {
    const { registry } = registryAt(0);
    registry.beat('a', 100);
    registry.beat('b', 100);
    expect(registry.forget('a')).toBe(true);
    expect(registry.forget('a')).toBe(false);
    expect(registry.sweep(Number.NaN)).toEqual([]);
    expect(registry.sweep(100)).toEqual(['b']);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a TTL of %s', (ttlMs) => {
    expect(() => registryAt(0).registry.beat('a', ttlMs)).toThrow(RangeError);
  });
});
