/**
 * The three durations of leader election (client-go leaderelection: LeaseDuration, RenewDeadline,
 * RetryPeriod), with prescale's defaults derived from the lease duration.
 */

export interface LeaseTimings {
  /** How long a lease lasts after its last renew; a dead leader is replaced after at most this plus one renew interval, ms. */
  readonly leaseDurationMs: number;
  /** A leader that has not renewed for this long stops scaling, ms; default two thirds of the lease. */
  readonly renewDeadlineMs: number;
  /** Time between acquire/renew attempts, ms; default a third of the lease. */
  readonly renewIntervalMs: number;
}

/**
 * Fill in the defaults: renewDeadlineMs = round(2/3 × lease), renewIntervalMs = round(lease / 3)
 * (15 s → 10 s and 5 s; client-go's defaults are 15 s, 10 s and 2 s).
 */
export function resolveLeaseTimings(input: { leaseDurationMs: number; renewDeadlineMs?: number | undefined; renewIntervalMs?: number | undefined }): LeaseTimings {
  const leaseDurationMs = input.leaseDurationMs;
  return {
    leaseDurationMs,
    renewDeadlineMs: input.renewDeadlineMs ?? Math.round((leaseDurationMs * 2) / 3),
    renewIntervalMs: input.renewIntervalMs ?? Math.round(leaseDurationMs / 3),
  };
}

/** A sentence naming what is wrong, or null when 0 < renewIntervalMs < renewDeadlineMs < leaseDurationMs. */
export function leaseTimingsProblem(t: LeaseTimings): string | null {
  if (t.renewIntervalMs > 0 && t.renewIntervalMs < t.renewDeadlineMs && t.renewDeadlineMs < t.leaseDurationMs) return null;
  return `expected 0 < renewIntervalMs (${t.renewIntervalMs}) < renewDeadlineMs (${t.renewDeadlineMs}) < leaseDurationMs (${t.leaseDurationMs})`;
}

/** The stated handover bound after a leader dies: leaseDurationMs + renewIntervalMs (plus one store round trip). */
export function handoverBoundMs(t: LeaseTimings): number {
  return t.leaseDurationMs + t.renewIntervalMs;
}
