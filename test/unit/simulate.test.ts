import { describe, expect, it } from 'vitest';
import { simulate, type SimForecaster } from '../../src/sim/simulate.js';

// one-minute intervals; capacity 1 rps per backend at 100% target: need = ceil(count / 60)
const base = {
  intervalMs: 60_000,
  evalFrom: 10,
  leadTimeMs: 3 * 60_000,
  policy: { capacityPerBackendRps: 1, targetUtilization: 1, minBackends: 1, maxBackends: 100, scaleInStabilizationMs: 5 * 60_000 },
  tolerance: 0.1,
};
// 20 quiet minutes at 2 backends' worth, then a step to 6 backends' worth for 20 minutes
const demand = [...Array(20).fill(120), ...Array(20).fill(360)];

/** A forecaster that knows the future: the upper bound is the true demand ahead. */
function perfect(series: readonly number[]): SimForecaster {
  return { forecast: (history) => ({ point: series.slice(history.length, history.length + 4), upper: series.slice(history.length, history.length + 4) }) };
}

describe('simulate', () => {
  it('reactive is under-provisioned for the step until the lead time has passed', () => {
    const r = simulate('reactive', { ...base, demand });
    // sees the step one interval late, then waits 3 intervals for capacity: 4 minutes short
    expect(r.underProvisionedMinutes).toBe(4);
    expect(r.overCapacityRequestShare).toBeGreaterThan(0);
  });

  it('oracle is never under-provisioned and pays only for the lead time on top of the need', () => {
    const r = simulate('oracle', { ...base, demand });
    expect(r.underProvisionedMinutes).toBe(0);
    // 10 minutes at 2 + 3 minutes at 6 while booting + 17 minutes at 6... all in backend-minutes / 60
    expect(r.backendHours).toBeCloseTo((10 * 2 + 20 * 6 + 3 * 4) / 60, 5);
  });

  it('predictive with a perfect forecast is never under-provisioned', () => {
    const r = simulate('predictive', { ...base, demand, forecaster: perfect(demand) });
    expect(r.underProvisionedMinutes).toBe(0);
    expect(r.scalingActions).toBeGreaterThanOrEqual(1);
  });

  it('predictive with a useless forecast falls back to the reactive floor', () => {
    const zero: SimForecaster = { forecast: () => ({ point: [0, 0, 0, 0], upper: [0, 0, 0, 0] }) };
    const p = simulate('predictive', { ...base, demand, forecaster: zero });
    const r = simulate('reactive', { ...base, demand, tolerance: 0 });
    expect(p.underProvisionedMinutes).toBe(r.underProvisionedMinutes);
  });
});
