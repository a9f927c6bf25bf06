import { describe, expect, it } from 'vitest';
import { backendsFor, decide, type DecideInput, type ScalingPolicy } from '../../src/scaler/decide.js';

const policy: ScalingPolicy = {
  mode: 'predictive',
  capacityPerBackendRps: 100,
  targetUtilization: 0.8,
  minBackends: 1,
  maxBackends: 10,
  scaleInStabilizationMs: 300_000,
};

function input(over: Partial<DecideInput>): DecideInput {
  return { nowMs: 1_000_000, policy, observedRps: 0, forecastUpperRps: null, leadTimeMs: 300_000, current: 2, recent: [], ...over };
}

describe('backendsFor: ceil(load / (capacity × target))', () => {
  it.each([
    [0, 0],
    [1, 1],
    [80, 1],
    [80.5, 2],
    [160, 2],
    [400, 5],
    [Number.NaN, 0],
    [-5, 0],
    [Number.POSITIVE_INFINITY, 0],
  ])('%d rps needs %d backends at 100 rps and 80%%', (rps, n) => {
    expect(backendsFor(rps, policy)).toBe(n);
  });
});

describe('decide()', () => {
  it.each<[string, Partial<DecideInput>, number, string]>([
    ['forecast ahead of load scales out early', { observedRps: 150, forecastUpperRps: 390 }, 5, 'forecast-scale-out'],
    ['observed load above the forecast scales out reactively', { observedRps: 390, forecastUpperRps: 100 }, 5, 'reactive-scale-out'],
    ['reactive mode ignores the forecast', { policy: { ...policy, mode: 'reactive' }, observedRps: 150, forecastUpperRps: 390 }, 2, 'hold'],
    ['no forecast falls back to the observed load', { observedRps: 390, forecastUpperRps: null }, 5, 'reactive-scale-out'],
    ['capped at maxBackends', { observedRps: 5000, current: 4 }, 10, 'max-capacity'],
    ['held at maxBackends', { observedRps: 5000, current: 10 }, 10, 'max-capacity'],
    ['raised to minBackends', { policy: { ...policy, minBackends: 3 }, observedRps: 10, current: 1 }, 3, 'min-capacity'],
    ['kept at minBackends', { policy: { ...policy, minBackends: 3 }, observedRps: 10, current: 3 }, 3, 'min-capacity'],
    ['holds when the fleet fits', { observedRps: 150, forecastUpperRps: 150 }, 2, 'hold'],
    ['waits for the stabilization window before scaling in', { observedRps: 50, current: 4, recent: [{ atMs: 900_000, desired: 4 }] }, 4, 'scale-in-stabilizing'],
    ['scales in to the window maximum when lower recommendations persist', { observedRps: 50, current: 4, recent: [{ atMs: 900_000, desired: 3 }] }, 3, 'scale-in'],
    ['ignores recommendations older than the window', { observedRps: 50, current: 4, recent: [{ atMs: 600_000, desired: 4 }] }, 1, 'scale-in'],
    ['does not scale in while the forecast still needs the capacity', { observedRps: 50, forecastUpperRps: 310, current: 4 }, 4, 'hold'],
    ['scales out only for the bound where new capacity arrives', { observedRps: 150, forecastUpperRps: 390, forecastArrivalUpperRps: 230 }, 3, 'forecast-scale-out'],
    ['keeps capacity the window still needs though arrival needs less', { observedRps: 150, forecastUpperRps: 390, forecastArrivalUpperRps: 230, current: 5 }, 5, 'hold'],
    ['scales in to what the forecast window needs', { observedRps: 50, forecastUpperRps: 230, forecastArrivalUpperRps: 100, current: 6 }, 3, 'scale-in'],
    ['a forecast-driven recommendation of the window holds a scale-in', { observedRps: 50, forecastUpperRps: 100, current: 4, recent: [{ atMs: 900_000, desired: 3 }] }, 3, 'scale-in'],
    ['no scale-in within the cooldown after a change', { observedRps: 50, current: 4, lastChangeAtMs: 900_000 }, 4, 'scale-in-cooldown'],
    ['the cooldown defaults to the lead time', { observedRps: 50, current: 4, lastChangeAtMs: 1_000_000 - 300_000 }, 1, 'scale-in'],
    ['a configured cooldown overrides the lead time', { policy: { ...policy, scaleInCooldownMs: 60_000 }, observedRps: 50, current: 4, lastChangeAtMs: 930_000 }, 1, 'scale-in'],
    ['the cooldown never holds back a scale-out', { observedRps: 390, current: 2, lastChangeAtMs: 990_000 }, 5, 'reactive-scale-out'],
    ['limits a scale-out step to max(4, 100%) like the HPA', { policy: { ...policy, maxBackends: 50, scaleOutLimit: { percent: 100, backends: 4 } }, observedRps: 2000, current: 3 }, 7, 'scale-out-limited'],
    ['doubles a large fleet at most', { policy: { ...policy, maxBackends: 50, scaleOutLimit: { percent: 100, backends: 4 } }, observedRps: 3000, current: 10 }, 20, 'scale-out-limited'],
  ])('%s', (_name, over, desired, reason) => {
    const d = decide(input(over));
    expect(d.desired).toBe(desired);
    expect(d.reason).toBe(reason);
    expect(d.detail.length).toBeGreaterThan(10);
    expect(d.desired).toBeGreaterThanOrEqual((over.policy ?? policy).minBackends);
    expect(d.desired).toBeLessThanOrEqual((over.policy ?? policy).maxBackends);
  });

  it('remembers what the forecast needs when capacity would arrive, not the whole window', () => {
    // the window peak (390 rps, 5) is before arrival: it keeps the fleet now but is not held for 5 minutes
    const d = decide(input({ observedRps: 50, forecastUpperRps: 390, forecastArrivalUpperRps: 150, current: 6 }));
    expect(d.predictive).toBe(5);
    expect(d.recommendation).toBe(2);
    expect(d.desired).toBe(5);
    expect(d.reason).toBe('scale-in');
  });

  it('returns the unstabilized recommendation for the caller to remember', () => {
    const d = decide(input({ observedRps: 50, current: 4, recent: [{ atMs: 900_000, desired: 4 }] }));
    expect(d.recommendation).toBe(1);
    expect(d.reactive).toBe(1);
  });
});
