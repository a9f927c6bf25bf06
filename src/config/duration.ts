import ms from 'ms';
import { z } from 'zod';

/** Milliseconds from a number or an `ms`-style string ("500ms", "10s", "5m", "1h", "1d"); null when invalid or negative. */
function toMs(value: number | string): number | null {
  // ms("") throws instead of returning undefined
  const parsed = typeof value === 'number' ? value : value === '' ? null : ms(value as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0 ? Math.round(parsed) : null;
}

/**
 * A duration field: a number of milliseconds, or a string the `ms` library understands
 * ("500ms", "10s", "5m", "1h", "1d"). Parsed to a non-negative integer of milliseconds.
 * Invalid input yields a zod issue `expected a duration like "5m", got "<value>"`.
 */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const parsed = toMs(value);
  if (parsed === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "5m", "10s" or a number of milliseconds, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed;
});

/** A lead time: a duration, or "auto" (learned from measured scale-outs). */
export const leadTime = z.union([z.number(), z.string()]).transform((value, ctx): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const parsed = toMs(value);
  if (parsed === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "5m", a number of milliseconds or "auto", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return parsed;
});
