import { CronExpressionParser } from 'cron-parser';
import { PrescaleError } from '../errors.js';

/**
 * Scheduled capacity for known events (launches, sales), as AWS scheduled actions and KEDA's
 * cron scaler do: while a window is active the fleet never goes below its `minBackends`.
 * A window is either a cron expression that opens it plus a duration, or a fixed date range.
 */
export type ScheduleWindow =
  | { cron: string; durationMs: number; minBackends: number; timezone?: string | undefined; name?: string | undefined }
  | { from: string; to: string; minBackends: number; name?: string | undefined };

export interface ScheduledFloor {
  minBackends: number;
  /** Name (or the cron / range text) of the window that set the floor. */
  window: string;
}

/**
 * The highest `minBackends` among the windows active at `nowMs`, or null when none is.
 * A cron window is active from an occurrence for `durationMs`; a date range is [from, to).
 * Pure: time comes in as data. O(windows).
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a cron expression or date that does not parse
 *   (validateSchedule reports these at config time).
 */
export function scheduledFloor(windows: readonly ScheduleWindow[], nowMs: number): ScheduledFloor | null {
  let best: ScheduledFloor | null = null;
  for (const w of windows) {
    if (!isActive(w, nowMs)) continue;
    if (best === null || w.minBackends > best.minBackends) {
      best = { minBackends: w.minBackends, window: w.name ?? ('cron' in w ? w.cron : `${w.from}..${w.to}`) };
    }
  }
  return best;
}

/** Problems of a schedule as messages (empty when valid). */
export function validateSchedule(w: ScheduleWindow): string | null {
  try {
    isActive(w, Date.now());
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function isActive(w: ScheduleWindow, nowMs: number): boolean {
  if ('cron' in w) {
    let last: number;
    try {
      // the latest occurrence at or before now (prev() is strictly before, so ask from now + 1 ms)
      last = CronExpressionParser.parse(w.cron, { currentDate: new Date(nowMs + 1), tz: w.timezone ?? 'UTC' }).prev().getTime();
    } catch (cause) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `schedule cron "${w.cron}" does not parse: ${(cause as Error).message}`, { cause });
    }
    return nowMs >= last && nowMs < last + w.durationMs;
  }
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new PrescaleError('PRESCALE_ERR_CONFIG', `schedule range ${w.from}..${w.to} needs ISO-8601 dates`);
  return nowMs >= from && nowMs < to;
}
