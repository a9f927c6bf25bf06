import { describe, expect, it } from 'vitest';
import { Backend, type UpstreamGroupState } from '../../src/proxy/backend.js';
import { OutlierDetector, type PassiveHealthOptions } from '../../src/proxy/outlier-detection.js';

const base: PassiveHealthOptions = {
  maxFails: 3,
  failTimeoutMs: 10_000,
  consecutive5xx: 5,
  consecutiveGatewayFailures: 4,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 100,
  panicThresholdPercent: 50,
};

function fleet(n: number, clock: { now: number }, group: UpstreamGroupState = { panic: false }) {
  const list = Array.from({ length: n }, (_, i) => {
    const b = new Backend({
      id: `b${i}`, url: `http://127.0.0.1:${20_000 + i}`, weight: 10, connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1, keepAliveConnections: 1,
      group, slowStart: { windowMs: 10_000, aggression: 1, minWeightPercent: 10 }, nowMs: () => clock.now,
    });
    b.state = 'ready';
    b.healthy = true;
    return b;
  });
  return list;
}

describe('passive ejection (nginx max_fails / fail_timeout)', () => {
  it('ejects a backend after 3 connect failures within 10 s, for 10 s, then it returns', () => {
    const clock = { now: 1_000_000 };
    const list = fleet(4, clock);
    const d = new OutlierDetector(base, { panic: false }, () => list);
    const b = list[0]!;
    d.record(b, 'connect', clock.now);
    d.record(b, 'timeout', clock.now + 4000);
    expect(b.eligible).toBe(true);
    d.record(b, 'connect', clock.now + 9000);
    expect(b.eligible).toBe(false);
    d.refresh(clock.now + 18_999);
    expect(b.eligible).toBe(false);
    d.refresh(clock.now + 19_000);
    expect(b.eligible).toBe(true);
  });

  it('does not eject when the failures are spread over more than fail_timeout', () => {
    const clock = { now: 0 };
    const list = fleet(4, clock);
    const d = new OutlierDetector({ ...base, consecutive5xx: 0, consecutiveGatewayFailures: 0 }, { panic: false }, () => list);
    for (let i = 0; i < 6; i++) d.record(list[0]!, 'connect', 1 + i * 6000);
    expect(list[0]!.eligible).toBe(true);
  });
});

describe('outlier detection (Envoy)', () => {
  it('ejects after consecutive gateway failures with an ejection time that grows each time', () => {
    const clock = { now: 0 };
    const list = fleet(4, clock);
    const d = new OutlierDetector({ ...base, maxFails: 0 }, { panic: false }, () => list);
    const b = list[1]!;
    for (let i = 0; i < 4; i++) d.record(b, 503, 1000);
    expect(b.ejectedUntilMs).toBe(31_000);
    d.refresh(31_000);
    expect(b.eligible).toBe(true);
    for (let i = 0; i < 4; i++) d.record(b, 502, 40_000);
    expect(b.ejectedUntilMs).toBe(40_000 + 60_000);
  });

  it('resets the count on a success', () => {
    const list = fleet(2, { now: 0 });
    const d = new OutlierDetector(base, { panic: false }, () => list);
    for (let i = 0; i < 4; i++) d.record(list[0]!, 500, 0);
    d.record(list[0]!, 200, 0);
    for (let i = 0; i < 4; i++) d.record(list[0]!, 500, 0);
    expect(list[0]!.eligible).toBe(true);
  });

  it('never ejects more than maxEjectionPercent of the backends (at least one)', () => {
    const list = fleet(10, { now: 0 });
    const d = new OutlierDetector({ ...base, maxEjectionPercent: 20 }, { panic: false }, () => list);
    for (const b of list) for (let i = 0; i < 5; i++) d.record(b, 500, 0);
    expect(d.ejected).toBe(2);
    expect(list.filter((b) => b.eligible).length).toBe(8);
  });

  it('enters panic mode below the healthy threshold: every ready backend takes traffic', () => {
    const group = { panic: false };
    const list = fleet(4, { now: 0 }, group);
    const d = new OutlierDetector(base, group, () => list);
    list[0]!.healthy = false;
    list[1]!.healthy = false;
    list[2]!.healthy = false;
    d.updatePanic();
    expect(group.panic).toBe(true);
    expect(list.every((b) => b.eligible)).toBe(true);
    list[3]!.healthy = false;
    d.updatePanic();
    expect(group.panic).toBe(false); // none healthy at all: 503 rather than sending to known-down backends
    expect(list.some((b) => b.eligible)).toBe(false);
  });
});

describe('slow start (Envoy formula)', () => {
  it.each([
    [0, 1],
    [500, 1],
    [1000, 1],
    [5000, 5],
    [9000, 9],
    [10_000, 10],
  ])('at %d ms into a 10 s window a weight of 10 counts as %d (10%% floor, linear)', (elapsed, weight) => {
    const clock = { now: 50_000 };
    const [b] = fleet(1, clock);
    b!.healthy = false;
    b!.setHealthy(true);
    clock.now += elapsed;
    expect(b!.effectiveWeight).toBeCloseTo(weight, 5);
  });

  it('ramps faster at first with aggression 2', () => {
    const clock = { now: 0 };
    const b = new Backend({ id: 'x', url: 'http://127.0.0.1:1', weight: 10, connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1, keepAliveConnections: 1, slowStart: { windowMs: 10_000, aggression: 2, minWeightPercent: 10 }, nowMs: () => clock.now });
    b.beginSlowStart();
    clock.now = 2500;
    expect(b.effectiveWeight).toBeCloseTo(10 * Math.sqrt(0.25), 5);
  });

  it('starts a ramp when an ejected backend returns', () => {
    const clock = { now: 0 };
    const list = fleet(4, clock);
    const d = new OutlierDetector(base, { panic: false }, () => list);
    for (let i = 0; i < 3; i++) d.record(list[0]!, 'connect', 0);
    clock.now = 10_000;
    d.refresh(clock.now);
    expect(list[0]!.effectiveWeight).toBeCloseTo(1, 5);
    clock.now = 15_000;
    expect(list[0]!.effectiveWeight).toBeCloseTo(5, 5);
  });
});
