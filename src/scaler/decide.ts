/**
 * The scaling policy as one pure function (STYLE.md §2, §3): time arrives as data, nothing here
 * reads a clock or does I/O, and every answer carries the rule that won and a human reason.
 *
 * Model: the Kubernetes HPA replica calculator (desired = ceil(load / per-replica target)) with
 * its scale-down stabilization window (the highest recommendation of the window wins, so capacity
 * is released only when every recent recommendation allows it), plus a predictive term in the
 * manner of AWS predictive scaling and Crane/AHPA: desired = max(predictive, reactive), where
 * predictive sizes the fleet for the forecast's upper bound over [now, now + lead time + one
 * interval] and reactive for the load observed now, so a wrong forecast never leaves the fleet
 * smaller than a reactive autoscaler would.
 */

export type ScalingMode = 'predictive' | 'reactive';

export type DecisionReason =
  | 'forecast-scale-out'
  | 'reactive-scale-out'
  | 'max-capacity'
  | 'min-capacity'
  | 'scale-in'
  | 'scale-in-stabilizing'
  | 'scheduled'
  | 'scale-out-limited'
  | 'hold';

export interface ScalingPolicy {
  mode: ScalingMode;
  /** Requests per second one backend serves at 100% utilisation. */
  capacityPerBackendRps: number;
  /** Fraction of capacity to plan for, in (0, 1]. */
  targetUtilization: number;
  minBackends: number;
  maxBackends: number;
  /** Scale-in waits until every recommendation of this window allows it (HPA default 5 min). */
  scaleInStabilizationMs: number;
  /**
   * Scale-out step limit per decision, the HPA's default scale-up policy: at most
   * max(backends, ceil(current × percent / 100)) added at once. Omitted: no limit.
   */
  scaleOutLimit?: { percent: number; backends: number } | undefined;
}

export interface Recommendation {
  atMs: number;
  desired: number;
}

export interface DecideInput {
  nowMs: number;
  policy: ScalingPolicy;
  /** Request rate observed in the last closed interval, requests per second. */
  observedRps: number;
  /** Upper bound of the forecast over [now, now + lead + interval] in rps; null without a forecast. */
  forecastUpperRps: number | null;
  /** Lead time the forecast looks ahead, ms (for the reason text only). */
  leadTimeMs: number;
  /** The fleet size currently asked for. */
  current: number;
  /** Earlier recommendations (any order); those older than the stabilization window are ignored. */
  recent: readonly Recommendation[];
  /** A scheduled floor for a known event (schedule.ts), or null. */
  scheduled?: { minBackends: number; window: string } | null;
}

export interface Decision {
  atMs: number;
  /** Fleet size to ask for, within [minBackends, maxBackends]. */
  desired: number;
  /** This tick's recommendation before stabilization; the caller keeps it in `recent`. */
  recommendation: number;
  reactive: number;
  predictive: number | null;
  reason: DecisionReason;
  detail: string;
}

/**
 * Backends needed to serve `rps` at the target utilisation: ceil(rps / (capacity × target)).
 * Non-finite or negative rates count as 0. Returns an integer >= 0.
 */
export function backendsFor(rps: number, policy: Pick<ScalingPolicy, 'capacityPerBackendRps' | 'targetUtilization'>): number {
  if (!Number.isFinite(rps) || rps <= 0) return 0;
  // the small epsilon keeps an exact fit (e.g. 160 rps at 80 each) from rounding up by float error
  return Math.ceil(rps / (policy.capacityPerBackendRps * policy.targetUtilization) - 1e-9);
}

/** Decide the desired fleet size for this tick. Pure; O(recent.length). */
export function decide(input: DecideInput): Decision {
  const { policy, nowMs, current } = input;
  const perBackend = policy.capacityPerBackendRps * policy.targetUtilization;
  const reactive = backendsFor(input.observedRps, policy);
  const predictive = policy.mode === 'predictive' && input.forecastUpperRps !== null ? backendsFor(input.forecastUpperRps, policy) : null;
  const scheduledMin = input.scheduled?.minBackends ?? 0;
  const raw = Math.max(reactive, predictive ?? 0);
  const recommendation = clamp(Math.max(raw, scheduledMin), policy.minBackends, policy.maxBackends);

  let windowMax = recommendation;
  for (const r of input.recent) {
    if (r.atMs > nowMs - policy.scaleInStabilizationMs && r.atMs <= nowMs && r.desired > windowMax) windowMax = r.desired;
  }
  const unlimited = recommendation >= current ? recommendation : Math.min(current, windowMax);
  const limit = policy.scaleOutLimit;
  const cap = limit === undefined ? Number.POSITIVE_INFINITY : current + Math.max(limit.backends, Math.ceil((current * limit.percent) / 100));
  const desired = Math.min(unlimited, cap);
  const base = { atMs: nowMs, desired, recommendation, reactive, predictive };
  if (desired < unlimited) {
    return { ...base, reason: 'scale-out-limited', detail: `wants ${unlimited}; adding at most ${cap - current} at once (scale-out limit ${limit?.percent}% or ${limit?.backends} backends)` };
  }
  const rate = (rps: number) => `${round1(rps)} rps`;
  const each = `${round1(perBackend)} rps each`;

  // a bound that set the size (schedule, max, min) wins the explanation over the load rules
  const byschedule = scheduledMin > raw && recommendation === Math.min(scheduledMin, policy.maxBackends) && scheduledMin > policy.minBackends;
  const bound: Pick<Decision, 'reason' | 'detail'> | null = byschedule
    ? { reason: 'scheduled', detail: `schedule "${input.scheduled?.window}" keeps at least ${scheduledMin} (load needs ${raw})` }
    : raw > policy.maxBackends
      ? { reason: 'max-capacity', detail: `load needs ${raw} but maxBackends is ${policy.maxBackends}` }
      : raw < policy.minBackends
        ? { reason: 'min-capacity', detail: `load needs ${raw}; keeping minBackends ${policy.minBackends}` }
        : null;
  if (desired > current) {
    if (bound !== null) return { ...base, ...bound };
    if (predictive !== null && predictive > reactive) {
      return {
        ...base,
        reason: 'forecast-scale-out',
        detail: `forecast upper ${rate(input.forecastUpperRps ?? 0)} within +${Math.round(input.leadTimeMs / 1000)}s needs ${predictive} at ${each} (observed ${rate(input.observedRps)} needs ${reactive})`,
      };
    }
    return { ...base, reason: 'reactive-scale-out', detail: `observed ${rate(input.observedRps)} needs ${reactive} at ${each}` };
  }
  if (desired < current) {
    return { ...base, reason: 'scale-in', detail: `every recommendation for ${Math.round(policy.scaleInStabilizationMs / 1000)}s was <= ${desired}; releasing ${current - desired}` };
  }
  if (recommendation < current) {
    return { ...base, reason: 'scale-in-stabilizing', detail: `now needs ${recommendation}, but ${windowMax} was needed within the last ${Math.round(policy.scaleInStabilizationMs / 1000)}s` };
  }
  if (bound !== null) return { ...base, ...bound };
  return { ...base, reason: 'hold', detail: `${current} backends fit: observed ${rate(input.observedRps)}, forecast upper ${input.forecastUpperRps === null ? 'n/a' : rate(input.forecastUpperRps)} at ${each}` };
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
