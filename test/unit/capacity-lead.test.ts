import { describe, expect, it } from 'vitest';
import { capacityRises, underProvisioned } from '../../src/demo/capacity-lead.js';

describe('capacity lead over load rises', () => {
  it('counts capacity ready 3 intervals before a rise as +3', () => {
    const needed = [1, 1, 1, 1, 1, 2, 2, 2];
    const ready = [1, 1, 2, 2, 2, 2, 2, 2];
    expect(capacityRises(needed, ready, 1)).toEqual([{ level: 2, loadIndex: 5, leadIntervals: 3 }]);
  });

  it('counts capacity arriving 2 intervals after the rise as -2', () => {
    const needed = [1, 2, 2, 2, 2];
    const ready = [1, 1, 1, 2, 2];
    expect(capacityRises(needed, ready, 1)).toEqual([{ level: 2, loadIndex: 1, leadIntervals: -2 }]);
  });

  it('ignores a one-interval blip and reports capacity that never came as null', () => {
    expect(capacityRises([1, 3, 1, 1], [1, 1, 1, 1], 1)).toEqual([]);
    expect(capacityRises([1, 2, 2], [1, 1, 1], 1)).toEqual([{ level: 2, loadIndex: 1, leadIntervals: null }]);
  });

  it('reports every rise, including a second one after the load fell back for two intervals', () => {
    const rises = capacityRises([1, 2, 2, 1, 1, 2, 2], [2, 2, 2, 2, 2, 1, 2], 1);
    expect(rises.map((r) => [r.loadIndex, r.leadIntervals])).toEqual([[1, 1], [5, -1]]);
  });

  it('does not count the return from a one-interval dropout as a rise', () => {
    expect(capacityRises([1, 2, 2, 1, 2, 2], [2, 2, 2, 2, 2, 2], 1).map((r) => r.loadIndex)).toEqual([1]);
  });

  it('counts under-provisioned intervals', () => {
    expect(underProvisioned([100, 200, 300], [2, 2, 2], 100)).toBe(1);
  });
});
