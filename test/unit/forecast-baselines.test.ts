import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { createBaseline } from '../../src/forecast/baselines.js';
import { createModel } from '../../src/forecast/forecaster.js';

const day = 24;
/** A week whose days differ: weekday w has level 100 + 20·w, plus a daily shape. */
const week = Array.from({ length: 7 * day }, (_, t) => 100 + 20 * Math.floor(t / day) + (t % day) * 3);
const threeWeeks = Object.freeze([...week, ...week, ...week]);

describe('baseline models', () => {
  it('naive repeats the last value and bounds step h by the h-step changes it saw', () => {
    const ramp = Array.from({ length: 60 }, (_, t) => 10 + 2 * t);
    const result = createBaseline('naive', { intervalsPerDay: day }).forecast(ramp, 5, 0.9);
    expect(result.model).toBe('naive');
    expect(result.point).toEqual([128, 128, 128, 128, 128]);
    // every h-step change of a ramp of slope 2 is exactly 2h, so the conformal offset is 2h
    expect(result.upper).toEqual([130, 132, 134, 136, 138]);
    expect(result.fallback).toBeUndefined();
  });

  it('seasonal-naive-daily repeats the same interval yesterday', () => {
    const result = createBaseline('seasonal-naive-daily', { intervalsPerDay: day }).forecast(threeWeeks, 30, 0.9);
    expect(result.model).toBe('seasonal-naive-daily');
    const yesterday = threeWeeks.slice(-day);
    expect(result.point).toEqual(Array.from({ length: 30 }, (_, i) => yesterday[i % day]));
  });

  it('seasonal-naive-weekly repeats the same interval last week, not yesterday', () => {
    const result = createBaseline('seasonal-naive-weekly', { intervalsPerDay: day }).forecast(threeWeeks, 30, 0.9);
    expect(result.model).toBe('seasonal-naive-weekly');
    expect(result.fallback).toBeUndefined();
    expect(result.point).toEqual(week.slice(0, 30));
    // the series repeats weekly, so the model's own errors, and its interval width, are 0
    expect(result.upper).toEqual(result.point);
  });

  it.each([
    [5 * day, 'seasonal-naive-daily', /^history 120 < season \+ 1 \(169\); using seasonal-naive-daily$/],
    [10, 'naive', /^history 10 < season \+ 1 \(169\); using seasonal-naive-daily; history 10 < season \+ 1 \(25\); using naive$/],
    [0, 'naive', /using seasonal-naive-daily; history 0 < season \+ 1 \(25\); using naive; no finite value in history; forecasting 0; no residuals/],
  ])('seasonal-naive-weekly with %i intervals falls back to %s and says so', (length, via, reason) => {
    const history = threeWeeks.slice(0, length);
    const weekly = createBaseline('seasonal-naive-weekly', { intervalsPerDay: day }).forecast(history, 6, 0.9);
    const direct = (via === 'naive' ? createBaseline('naive', { intervalsPerDay: day }) : createBaseline('seasonal-naive-daily', { intervalsPerDay: day })).forecast(history, 6, 0.9);
    expect(weekly.model).toBe('seasonal-naive-weekly');
    expect(weekly.fallback).toMatch(reason);
    expect(weekly.point).toEqual(direct.point);
    expect(weekly.upper).toEqual(direct.upper);
  });

  it.each(['naive', 'seasonal-naive-daily', 'seasonal-naive-weekly'] as const)('createModel builds %s by name', (name) => {
    const model = createModel(name, { seasonLength: day, windowIntervals: 30, intervalsPerDay: day });
    expect(model.name).toBe(name);
  });

  it('keeps the legacy seasonal-naive factory and its options', () => {
    const model = createModel('seasonal-naive', { seasonLength: day, windowIntervals: 30 });
    expect(model.name).toBe('seasonal-naive');
    expect(model.lookbackIntervals).toBe(4 * day);
  });

  it('asks for intervalsPerDay when a model needs to know what a day is', () => {
    const build = () => createModel('seasonal-naive-daily', { seasonLength: day, windowIntervals: 30 });
    expect(build).toThrow(PrescaleError);
    expect(build).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG', message: expect.stringMatching(/needs intervalsPerDay/) }));
  });

  it.each([0, 1.5, Number.NaN])('rejects intervalsPerDay %s', (intervalsPerDay) => {
    expect(() => createBaseline('naive', { intervalsPerDay })).toThrow(PrescaleError);
  });
});
