import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';

const base = { scaler: { capacityPerBackendRps: 50 }, upstream: { backends: [{ url: 'http://127.0.0.1:8081' }] } };
const exec = { kind: 'exec', command: 'fleet' };

function problems(input: object): string[] {
  const parsed = validateConfig({ ...base, ...input });
  return parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('config: leader', () => {
  it('defaults to none: a single replica scales as before', () => {
    const parsed = validateConfig(base);
    expect(parsed.ok && parsed.config.leader).toEqual({ kind: 'none', leaseDurationMs: 15_000 });
  });

  it('accepts a Redis lease with durations as strings', () => {
    const parsed = validateConfig({ ...base, provider: exec, leader: { kind: 'redis', redis: { url: 'redis://10.0.0.7:6379/2' }, leaseDurationMs: '6s', renewIntervalMs: '1s' } });
    expect(parsed.ok && parsed.config.leader).toEqual({ kind: 'redis', redis: { url: 'redis://10.0.0.7:6379/2', key: 'prescale:leader' }, leaseDurationMs: 6_000, renewIntervalMs: 1_000 });
  });

  it.each([
    [{ leader: { kind: 'redis' } }, 'leader.redis: leader kind "redis" needs redis.url'],
    [{ leader: { kind: 'redis', redis: { url: 'http://10.0.0.7:6379' } } }, 'leader.redis.url'],
    [{ leader: { kind: 'kubernetes' } }, 'leader.kubernetes.namespace: leader kind "kubernetes" needs kubernetes.namespace'],
    [{ leader: { kind: 'redis', redis: { url: 'redis://r:6379' }, leaseDurationMs: '6s', renewDeadlineMs: '7s' } }, 'leader.renewIntervalMs: expected 0 < renewIntervalMs (2000) < renewDeadlineMs (7000) < leaseDurationMs (6000)'],
    [{ provider: { kind: 'local-process' }, leader: { kind: 'redis', redis: { url: 'redis://r:6379' } } }, 'leader.kind: local-process backends belong to one replica'],
  ])('%j is refused: %s', (input, expected) => {
    const found = problems({ provider: exec, ...input });
    expect(found.some((p) => p.startsWith(expected)), found.join('\n')).toBe(true);
  });

  it('a Kubernetes lease takes its namespace from a kubernetes provider', () => {
    const provider = { kind: 'kubernetes', namespace: 'shop', target: { kind: 'Deployment', name: 'web' }, port: 8080 };
    expect(problems({ provider, leader: { kind: 'kubernetes' } })).toEqual([]);
  });
});
