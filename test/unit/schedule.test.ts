import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { decide } from '../../src/scaler/decide.js';
import { scheduledFloor, type ScheduleWindow } from '../../src/scaler/schedule.js';

const windows: ScheduleWindow[] = [
  { name: 'weekday-noon', cron: '0 12 * * 1-5', durationMs: 2 * 3_600_000, minBackends: 4 },
  { name: 'launch', from: '2026-12-01T09:00:00Z', to: '2026-12-01T18:00:00Z', minBackends: 10 },
];

describe('scheduled capacity for known events', () => {
  it.each([
    ['2026-11-20T11:59:59Z', null], // Friday, before noon
    ['2026-11-20T12:00:00Z', 4],
    ['2026-11-20T13:59:59Z', 4],
    ['2026-11-20T14:00:00Z', null],
    ['2026-11-21T12:30:00Z', null], // Saturday
    ['2026-12-01T12:30:00Z', 10], // Tuesday noon and the launch: the higher floor wins
    ['2026-12-01T17:00:00Z', 10],
    ['2026-12-01T18:00:00Z', null],
  ])('at %s the floor is %s', (at, floor) => {
    expect(scheduledFloor(windows, Date.parse(at))?.minBackends ?? null).toBe(floor);
  });

  it('raises the decision to the scheduled floor with reason "scheduled"', () => {
    const d = decide({
      nowMs: Date.parse('2026-12-01T10:00:00Z'),
      policy: { mode: 'predictive', capacityPerBackendRps: 100, targetUtilization: 0.8, minBackends: 1, maxBackends: 20, scaleInStabilizationMs: 300_000 },
      observedRps: 50,
      forecastUpperRps: 60,
      leadTimeMs: 300_000,
      current: 2,
      recent: [],
      scheduled: scheduledFloor(windows, Date.parse('2026-12-01T10:00:00Z')),
    });
    expect(d.desired).toBe(10);
    expect(d.reason).toBe('scheduled');
    expect(d.detail).toContain('launch');
  });

  it('rejects a cron expression that does not parse, naming the schedule entry', () => {
    const r = validateConfig({ scaler: { capacityPerBackendRps: 1, schedule: [{ cron: 'every noon', durationMs: '1h', minBackends: 3 }] }, upstream: { backends: [{ url: 'http://127.0.0.1:1' }] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.some((p) => p.path.startsWith('scaler.schedule.0'))).toBe(true);
  });
});
