import { describe, expect, it } from 'vitest';
import { estimateCapacity, stepToward, type CapacitySample } from '../../src/scaler/capacity-estimate.js';
import { seededRandom } from '../../src/runtime/seeded-random.js';

/**
 * Samples from an M/M/1-like backend: p99 latency = service time × ln(100) / (1 − ρ), ρ = load /
 * capacity (the sojourn time of M/M/1 is exponential with rate μ − λ), with 10% noise.
 */
function mm1Samples(capacityRps: number, serviceMs: number, loads: readonly number[], seed = 1): CapacitySample[] {
  const random = seededRandom(seed);
  return loads.map((perBackendRps) => {
    const rho = Math.min(0.999, perBackendRps / capacityRps);
    return { perBackendRps, latencyP99Ms: ((serviceMs * Math.log(100)) / (1 - rho)) * (0.9 + 0.2 * random()) };
  });
}
const range = (from: number, to: number, n: number) => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe('estimateCapacity (throughput vs latency knee)', () => {
  // service 10 ms → saturation 100 rps; p99 ≤ 250 ms needs 46·(1/(1−ρ)) ≤ 250 → ρ ≤ 0.816 → 81.6 rps
  it.each([
    ['pushed past the knee', range(10, 98, 60), 'latency-knee', 75, 88],
    ['never near the knee: lower bound, not below configured', range(5, 40, 60), 'sustained', 36, 40],
  ])('%s', (_name, loads, basis, low, high) => {
    const e = estimateCapacity(mm1Samples(100, 10, loads as number[]), 250, 30, 20);
    expect(e.basis).toBe(basis);
    expect(e.rps).toBeGreaterThanOrEqual(low as number);
    expect(e.rps).toBeLessThanOrEqual(high as number);
  });

  it('keeps the configured value with too few samples, or when latency is high even at low load', () => {
    expect(estimateCapacity(mm1Samples(100, 10, range(10, 98, 5)), 250, 30, 20)).toMatchObject({ rps: 30, basis: 'too-few-samples' });
    expect(estimateCapacity(mm1Samples(100, 10, range(10, 98, 60)), 40, 30, 20)).toMatchObject({ rps: 30, basis: 'not-load-driven' });
  });

  it('is not moved by a few slow intervals at low load, and ignores empty or non-finite samples', () => {
    const samples = [...mm1Samples(100, 10, range(10, 98, 60)), { perBackendRps: 12, latencyP99Ms: 5000 }, { perBackendRps: 15, latencyP99Ms: 4000 }, { perBackendRps: 0, latencyP99Ms: 1 }, { perBackendRps: Number.NaN, latencyP99Ms: 1 }];
    const e = estimateCapacity(samples, 250, 30, 20);
    expect(e.basis).toBe('latency-knee');
    expect(e.rps).toBeGreaterThan(70);
    expect(e.samples).toBe(62);
  });

  it.each([
    [100, 200, 0.25, 125],
    [100, 50, 0.25, 75],
    [100, 110, 0.25, 110],
  ])('stepToward(%i, %i, %f) = %i', (current, target, step, expected) => {
    expect(stepToward(current, target, step)).toBe(expected);
  });
});

describe('CapacityTracker (the control loop\'s running estimate)', () => {
  it('starts at the configured value, skips thin intervals, and steps toward the knee by at most maxStep', async () => {
    const { CapacityTracker } = await import('../../src/scaler/capacity-estimate.js');
    const tracker = new CapacityTracker({ configuredRps: 40, latencyTargetMs: 250, minSamples: 20, windowIntervals: 100, maxStep: 0.25 });
    expect(tracker.estimate).toMatchObject({ rps: 40, basis: 'too-few-samples' });
    expect(tracker.observe([{ requests: 5, intervalMs: 1000, latencyP99Ms: 9999 }], 1).samples).toBe(0);
    const samples = mm1Samples(100, 10, range(10, 98, 60));
    const seen: number[] = [];
    for (const s of samples) {
      // 2 ready backends: the bucket holds both backends' requests over a 10 s interval
      const e = tracker.observe([{ requests: s.perBackendRps * 2 * 10, intervalMs: 10_000, latencyP99Ms: s.latencyP99Ms }], 2);
      seen.push(e.rps);
    }
    for (let i = 1; i < seen.length; i++) expect(Math.abs((seen[i] as number) - (seen[i - 1] as number))).toBeLessThanOrEqual(0.25 * (seen[i - 1] as number) + 1e-9);
    expect(tracker.estimate.basis).toBe('latency-knee');
    expect(tracker.estimate.rps).toBeGreaterThan(75);
    expect(tracker.estimate.rps).toBeLessThan(88);
  });
});
