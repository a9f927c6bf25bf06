/**
 * The scaling policy as one pure function (STYLE.md §2, §3): time arrives as data, nothing here
 * reads a clock or does I/O, and every answer carries the rule that won and a human reason.
 *
 * Model: the Kubernetes HPA replica calculator (desired = ceil(load / per-replica target)) with
 * its scale-down stabilization window, plus a predictive term in the manner of AWS predictive
 * scaling and Crane/AHPA: desired = max(predictive, reactive), so a wrong forecast never leaves
 * the fleet smaller than a reactive autoscaler would.
 *
 * Timing:
 * - reactive sizes the fleet for the load observed in the last interval; predictive for the
 *   forecast's upper bound. Capacity asked for now is ready only after the lead time, so a
 *   scale-out aims at the bound for the interval in which it arrives ([now + lead, now + lead +
 *   one interval]), while a scale-in is allowed only down to what the bound needs over the whole
 *   of [now, now + lead + one interval]: a backend released now could not come back before then.
 * - scale-in also waits for the HPA stabilization window: every recommendation of the window
 *   must allow it. A recommendation is what a tick asked for the time its capacity would arrive
 *   (observed load, forecast at now + lead, schedule), so a forecast that flickers up and down
 *   holds capacity until the time it forecast has come, and a forecast for a time already past
 *   holds nothing.
 * - after any change of the desired count, no scale-in for a cooldown (default: the lead time,
 *   so capacity asked for is not released before it could even be ready); scale-out is never
 *   held back by the cooldown (AWS target tracking behaves the same way).
 */

export type ScalingMode = 'predictive' | 'reactive';

export type DecisionReason =
  | 'forecast-scale-out'
  | 'reactive-scale-out'
  | 'max-capacity'
  | 'min-capacity'
  | 'scale-in'
  | 'scale-in-stabilizing'
  | 'scale-in-cooldown'
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
  /** No scale-in within this long after the desired count last changed; default: the lead time. */
  scaleInCooldownMs?: number | undefined;
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
  /**
   * Upper bound of the forecast for the interval in which capacity asked for now arrives
   * ([now + lead, now + lead + interval]), rps; the scale-out target. Default: forecastUpperRps.
   */
  forecastArrivalUpperRps?: number | null | undefined;
  /** Lead time the forecast looks ahead, ms (for the reason text only). */
  leadTimeMs: number;
  /** The fleet size currently asked for. */
  current: number;
  /** Earlier recommendations (any order); those older than the stabilization window are ignored. */
  recent: readonly Recommendation[];
  /** When the desired count last changed, ms; null or omitted: never (no cooldown). */
  lastChangeAtMs?: number | null | undefined;
  /** A scheduled floor for a known event (schedule.ts), or null. */
  scheduled?: { minBackends: number; window: string } | null;
}

export interface Decision {
  atMs: number;
  /** Fleet size to ask for, within [minBackends, maxBackends]. */
  desired: number;
  /**
   * This tick's recommendation (observed load, forecast at now + lead and schedule, clamped to
   * [min, max]) before stabilization; the caller keeps it in `recent`.
   */
  recommendation: number;
  reactive: number;
  /** Backends the forecast needs over [now, now + lead + interval]; null without a forecast. */
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
  const reactive = backendsFor(input.observedRps, policy);
  const forecasting = policy.mode === 'predictive' && input.forecastUpperRps !== null;
  const predictive = forecasting ? backendsFor(input.forecastUpperRps as number, policy) : null;
  const arrival = forecasting ? Math.min(predictive as number, backendsFor(input.forecastArrivalUpperRps ?? (input.forecastUpperRps as number), policy)) : 0;
  const scheduledMin = input.scheduled?.minBackends ?? 0;
  // the scale-out target: what is needed from when new capacity arrives; the window holds it
  const target = clamp(Math.max(reactive, arrival, scheduledMin), policy.minBackends, policy.maxBackends);
  const recommendation = target;
  let windowMax = recommendation;
  for (const r of input.recent) {
    if (r.atMs > nowMs - policy.scaleInStabilizationMs && r.atMs <= nowMs && r.desired > windowMax) windowMax = r.desired;
  }
  // scale-in never goes below the window's recommendations nor what the forecast needs before capacity could return
  const keep = Math.max(target, windowMax, clamp(predictive ?? 0, policy.minBackends, policy.maxBackends));
  const cooldownMs = policy.scaleInCooldownMs ?? input.leadTimeMs;
  const cooling = input.lastChangeAtMs != null && nowMs - input.lastChangeAtMs < cooldownMs;
  const base = { atMs: nowMs, recommendation, reactive, predictive };
  const raw = Math.max(reactive, predictive ?? 0);

  if (target > current) return scaleOut(input, { ...base, desired: target }, arrival, scheduledMin, raw);
  if (keep < current && !cooling) {
    return { ...base, desired: keep, reason: 'scale-in', detail: `every recommendation for ${seconds(policy.scaleInStabilizationMs)}s (observed load, forecast to +${seconds(input.leadTimeMs)}s) was <= ${keep}; releasing ${current - keep}` };
  }
  const held = { ...base, desired: current };
  if (keep < current) {
    return { ...held, reason: 'scale-in-cooldown', detail: `now needs ${keep}, but the desired count changed ${seconds(nowMs - (input.lastChangeAtMs as number))}s ago (cooldown ${seconds(cooldownMs)}s)` };
  }
  if (target < current && windowMax > recommendation) {
    return { ...held, reason: 'scale-in-stabilizing', detail: `now needs ${recommendation}, but ${windowMax} was needed within the last ${seconds(policy.scaleInStabilizationMs)}s` };
  }
  const bound = boundReason(input, raw, scheduledMin, recommendation);
  if (bound !== null && target === current) return { ...held, ...bound };
  const each = `${round1(policy.capacityPerBackendRps * policy.targetUtilization)} rps each`;
  const upper = input.forecastUpperRps === null ? 'n/a' : rate(input.forecastUpperRps);
  return { ...held, reason: 'hold', detail: `${current} backends fit: observed ${rate(input.observedRps)}, forecast upper to +${seconds(input.leadTimeMs)}s ${upper} at ${each}` };
}

/** A scale-out to `d.desired`, limited by the step limit, with the rule that asked for it. */
function scaleOut(input: DecideInput, d: Omit<Decision, 'reason' | 'detail'>, arrival: number, scheduledMin: number, raw: number): Decision {
  const { policy, current } = input;
  const limit = policy.scaleOutLimit;
  const cap = limit === undefined ? Number.POSITIVE_INFINITY : current + Math.max(limit.backends, Math.ceil((current * limit.percent) / 100));
  if (d.desired > cap) {
    return { ...d, desired: cap, reason: 'scale-out-limited', detail: `wants ${d.desired}; adding at most ${cap - current} at once (scale-out limit ${limit?.percent}% or ${limit?.backends} backends)` };
  }
  const bound = boundReason(input, raw, scheduledMin, d.desired);
  if (bound !== null) return { ...d, ...bound };
  const each = `${round1(policy.capacityPerBackendRps * policy.targetUtilization)} rps each`;
  if (arrival > d.reactive) {
    const upper = input.forecastArrivalUpperRps ?? input.forecastUpperRps ?? 0;
    return { ...d, reason: 'forecast-scale-out', detail: `forecast upper ${rate(upper)} at +${seconds(input.leadTimeMs)}s needs ${arrival} at ${each} (observed ${rate(input.observedRps)} needs ${d.reactive})` };
  }
  return { ...d, reason: 'reactive-scale-out', detail: `observed ${rate(input.observedRps)} needs ${d.reactive} at ${each}` };
}

/** A bound that set the size (schedule, max, min) wins the explanation over the load rules. */
function boundReason(input: DecideInput, raw: number, scheduledMin: number, size: number): Pick<Decision, 'reason' | 'detail'> | null {
  const { policy } = input;
  if (scheduledMin > raw && size === Math.min(scheduledMin, policy.maxBackends) && scheduledMin > policy.minBackends) {
    return { reason: 'scheduled', detail: `schedule "${input.scheduled?.window}" keeps at least ${scheduledMin} (load needs ${raw})` };
  }
  if (raw > policy.maxBackends) return { reason: 'max-capacity', detail: `load needs ${raw} but maxBackends is ${policy.maxBackends}` };
  if (raw < policy.minBackends) return { reason: 'min-capacity', detail: `load needs ${raw}; keeping minBackends ${policy.minBackends}` };
  return null;
}

function rate(rps: number): string {
  return `${round1(rps)} rps`;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
