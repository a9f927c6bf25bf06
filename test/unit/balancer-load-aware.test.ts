import { describe, expect, it } from 'vitest';
import { Backend } from '../../src/proxy/backend.js';
import { createLeastConnections } from '../../src/proxy/balancers/least-connections.js';
import { createLeastResponseTime } from '../../src/proxy/balancers/least-response-time.js';
import { createPowerOfTwoChoices } from '../../src/proxy/balancers/power-of-two-choices.js';
import { mulberry32 } from '../helpers/seeded-random.js';
import { backends } from '../helpers/backend-fixtures.js';

function counts(pick: () => Backend | undefined, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = pick();
    if (b) out[b.id] = (out[b.id] ?? 0) + 1;
  }
  return out;
}

describe('least connections and power of two choices prefer fewer in-flight requests', () => {
  const algorithms = [
    ['least-connections', () => createLeastConnections()],
    ['p2c', () => createPowerOfTwoChoices({ random: mulberry32(3) })],
  ] as const;

  it.each(algorithms)('%s never sends to the backend with the most requests in flight', (_name, create) => {
    const list = backends([1, 1, 1]);
    list[0]!.inFlight = 10;
    list[2]!.inFlight = 1;
    const balancer = create();
    const got = counts(() => balancer.pick(list), 1000);
    expect(got['a']).toBeUndefined();
    expect(got['b']).toBeGreaterThan(got['c'] ?? 0);
  });

  it.each(algorithms)('%s compares in-flight per unit of weight (a: 5 of weight 3 beats b: 2 of weight 1)', (_name, create) => {
    const list = backends([3, 1]);
    list[0]!.inFlight = 5;
    list[1]!.inFlight = 2;
    expect(create().pick(list)?.id).toBe('a');
  });

  it.each(algorithms)('%s evens out in-flight requests when they pile up on one backend', (_name, create) => {
    const list = backends([1, 1, 1, 1]);
    list[0]!.inFlight = 20;
    const balancer = create();
    for (let i = 0; i < 60; i++) balancer.pick(list)!.inFlight++;
    expect(list.map((b) => b.inFlight)).toEqual([20, 20, 20, 20]);
  });
});

describe('peak EWMA latency (Backend.observeLatency)', () => {
  const tauMs = 10_000;

  it.each([
    // [samples as [latencyMs, atMs], read at ms, expected peak EWMA ms]
    ['the first sample is taken as is', [[100, 0]], 0, 100],
    ['a spike replaces the average at once', [[10, 0], [10, 1000], [500, 1001]], 1001, 500],
    ['the value decays by e^(−Δt/τ) with no samples', [[500, 0]], tauMs, 500 / Math.E],
    ['after 5τ the spike is almost forgotten', [[500, 0]], 5 * tauMs, 500 * Math.exp(-5)],
    ['a lower sample is blended in with weight 1 − e^(−Δt/τ)', [[500, 0], [10, tauMs]], tauMs, 500 / Math.E + 10 * (1 - 1 / Math.E)],
    ['a lower sample right after a spike barely moves it', [[500, 0], [10, 0]], 0, 500],
    ['steady samples converge on the latency', Array.from({ length: 200 }, (_, i) => [40, i * 1000] as const), 199_000, 40],
    ['NaN, negative and infinite samples are ignored', [[50, 0], [Number.NaN, 1], [-5, 2], [Infinity, 3]], 0, 50],
    ['a clock going backwards counts as no time passing', [[80, 5000], [80, 1000]], 4000, 80],
  ] as const)('%s', (_name, samples, readAtMs, expected) => {
    const b = backends([1])[0]!;
    b.peakEwmaDecayMs = tauMs;
    for (const [latencyMs, atMs] of samples) b.observeLatency(latencyMs, atMs);
    expect(b.peakEwmaAt(readAtMs)).toBeCloseTo(expected, 6);
  });

  it('reads without recording: peakEwmaAt leaves peakEwmaMs unchanged', () => {
    const b = backends([1])[0]!;
    b.observeLatency(200, 0);
    b.peakEwmaAt(50_000);
    expect(b.peakEwmaMs).toBe(200);
  });
});

describe('least response time (peak EWMA × (inFlight + 1))', () => {
  it.each([
    // [latency ms per backend, in-flight per backend, expected pick]
    [[10, 4], [0, 2], 'a'], // 10 × 1 < 4 × 3
    [[10, 4], [0, 1], 'b'], // 4 × 2 < 10 × 1
    [[10, 10], [3, 0], 'b'],
    [[30, 20, 10], [0, 0, 0], 'c'],
  ])('latencies %j with in-flight %j pick %s', (latencies, inFlight, expected) => {
    const list = backends(latencies.map(() => 1));
    list.forEach((b, i) => {
      b.observeLatency(latencies[i]!, 0);
      b.inFlight = inFlight[i]!;
    });
    expect(createLeastResponseTime({ nowMs: () => 0 }).pick(list)?.id).toBe(expected);
  });

  it('moves traffic off a backend the moment its latency spikes, and back as the spike decays', () => {
    let nowMs = 0;
    const list = backends([1, 1]);
    for (const b of list) b.observeLatency(10, nowMs);
    const balancer = createLeastResponseTime({ nowMs: () => nowMs });
    nowMs = 1000;
    list[0]!.observeLatency(500, nowMs); // a: one slow response
    list[1]!.inFlight = 5; // b is busy: cost 10 × 6 = 60, still far below a's 500
    expect(counts(() => balancer.pick(list), 100)).toEqual({ b: 100 });
    nowMs += 30_000;
    list[1]!.observeLatency(10, nowMs); // b keeps answering in 10 ms: cost 60
    expect(list[0]!.peakEwmaAt(nowMs)).toBeCloseTo(500 * Math.exp(-3), 6); // 3τ later a costs ≈ 25
    expect(balancer.pick(list)?.id).toBe('a');
  });

  it('gives a fresh backend one probe, then holds off until its first response is measured', () => {
    const list = backends([1, 1]);
    list[0]!.observeLatency(20, 0);
    list[0]!.inFlight = 3; // cost 80
    const balancer = createLeastResponseTime({ nowMs: () => 0 });
    const probe = balancer.pick(list)!;
    expect(probe.id).toBe('b'); // unmeasured and idle: cost 0
    probe.inFlight++;
    expect(balancer.pick(list)?.id).toBe('a'); // unmeasured with a request in flight: penalty
    probe.observeLatency(5, 0);
    expect(balancer.pick(list)?.id).toBe('b'); // 5 × 2 = 10 < 80
  });

  it('divides cost by effective weight (a twice as heavy takes a twice as long queue)', () => {
    const list = backends([2, 1]);
    for (const b of list) b.observeLatency(10, 0);
    const balancer = createLeastResponseTime({ nowMs: () => 0 });
    for (let i = 0; i < 300; i++) balancer.pick(list)!.inFlight++;
    expect(list.map((b) => b.inFlight)).toEqual([200, 100]);
  });
});
