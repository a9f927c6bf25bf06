import { maxOfFirst } from '../forecast/max-of-first.js';
import { backendsFor, decide, type Recommendation, type ScalingPolicy } from '../scaler/decide.js';

/** A forecaster as the simulator needs it: counts per interval for the next intervals. */
export interface SimForecaster {
  /** `origin`: index of the interval being forecast first (= history length here), for online calibration. */
  forecast(history: readonly number[], origin?: number): { point: number[]; upper: number[] };
}

export type SimPolicyName = 'predictive' | 'reactive' | 'oracle';

export interface SimOptions {
  /** Requests per interval, oldest first. */
  demand: readonly number[];
  intervalMs: number;
  /** Index of the first evaluated interval; earlier intervals are history only. */
  evalFrom: number;
  /** Provisioning lead time: an instance asked for at step t is ready at t + ceil(leadMs / intervalMs). */
  leadTimeMs: number;
  policy: Omit<ScalingPolicy, 'mode'>;
  /** HPA tolerance for the reactive policy (0.1 = 10%). */
  tolerance: number;
  /** Needed for 'predictive'. */
  forecaster?: SimForecaster;
  /** Called every 100 simulated steps and at the end: (steps done, steps in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface SimStep {
  demandRps: number;
  ready: number;
  instances: number;
  forecastUpperRps: number | null;
}

export interface SimResult {
  policy: SimPolicyName;
  /** Minutes in which demand exceeded what the ready backends serve at 100%. */
  underProvisionedMinutes: number;
  /** Share of requests above ready capacity at 100%. */
  overCapacityRequestShare: number;
  /** Σ instances (ready or provisioning: both are paid for) × interval, in hours. */
  backendHours: number;
  /** Times the desired count changed. */
  scalingActions: number;
  steps: SimStep[];
}

/**
 * Simulate one policy over a request-count series in simulated time, with backends that take
 * the lead time to become ready and leave at once on scale-in (the drain is assumed short next
 * to the interval). Policies:
 * - predictive: the service's own `decide()` with the forecast upper bound over
 *   [now, now + lead + one interval] and at now + lead, the observed load of the last interval,
 *   the stabilization window and the scale-in cooldown;
 * - reactive: HPA-like target tracking on the last interval's load with `tolerance` and the
 *   same scale-down stabilization window (Kubernetes HPA defaults: 10%, 5 minutes);
 * - oracle: perfect foresight, asks at t for the most the demand needs over [t, t + lead].
 * The decision at step t uses only data before t (except the oracle). O(steps × forecast cost).
 */
export function simulate(name: SimPolicyName, o: SimOptions): SimResult {
  const intervalSeconds = o.intervalMs / 1000;
  const leadSteps = Math.max(0, Math.ceil(o.leadTimeMs / o.intervalMs));
  const need = (count: number) => backendsFor(count / intervalSeconds, o.policy);
  const clamp = (n: number) => Math.min(o.policy.maxBackends, Math.max(o.policy.minBackends, n));
  const start = Math.max(1, o.evalFrom);
  const history: number[] = Array.from(o.demand.slice(0, start));
  // instances: ready ones and pending ones with the step at which they become ready
  let desired = clamp(need(o.demand[start - 1] ?? 0));
  let ready = desired;
  let pending: number[] = [];
  const recent: Recommendation[] = [];
  const steps: SimStep[] = [];
  let actions = 0;
  let lastChangeAtMs: number | null = null;
  let underSteps = 0;
  let over = 0;
  let total = 0;
  let instanceSteps = 0;

  for (let t = start; t < o.demand.length; t++) {
    // arrivals first: what was asked lead steps ago is ready now
    const arrived = pending.filter((at) => at <= t).length;
    pending = pending.filter((at) => at > t);
    ready += arrived;

    const observed = (o.demand[t - 1] ?? 0) / intervalSeconds;
    const nowMs = t * o.intervalMs;
    let forecastUpperRps: number | null = null;
    let next = desired;
    if (name === 'oracle') {
      let peak = 0;
      for (let u = t; u <= Math.min(o.demand.length - 1, t + leadSteps); u++) peak = Math.max(peak, need(o.demand[u] as number));
      next = clamp(peak);
    } else if (name === 'reactive') {
      const utilization = desired > 0 ? observed / (desired * o.policy.capacityPerBackendRps * o.policy.targetUtilization) : Number.POSITIVE_INFINITY;
      const raw = Math.abs(utilization - 1) <= o.tolerance ? desired : clamp(need(o.demand[t - 1] ?? 0));
      next = stabilize(raw, desired, recent, nowMs, o.policy.scaleInStabilizationMs);
      const limit = o.policy.scaleOutLimit;
      if (limit !== undefined) next = Math.min(next, desired + Math.max(limit.backends, Math.ceil((desired * limit.percent) / 100)));
    } else {
      const f = (o.forecaster as SimForecaster).forecast(history, t);
      forecastUpperRps = maxOfFirst(f.upper, leadSteps + 1) / intervalSeconds;
      const forecastArrivalUpperRps = (f.upper[Math.min(leadSteps + 1, f.upper.length) - 1] ?? 0) / intervalSeconds;
      const policy = { ...o.policy, mode: 'predictive' as const };
      const d = decide({ nowMs, policy, observedRps: observed, forecastUpperRps, forecastArrivalUpperRps, leadTimeMs: o.leadTimeMs, current: desired, recent, lastChangeAtMs });
      next = d.desired;
      recent.push({ atMs: nowMs, desired: d.recommendation });
    }
    while (recent.length > 0 && (recent[0] as Recommendation).atMs <= nowMs - o.policy.scaleInStabilizationMs) recent.shift();

    if (next !== desired) {
      actions++;
      lastChangeAtMs = nowMs;
    }
    if (next > desired) {
      for (let i = desired; i < next; i++) pending.push(t + leadSteps);
      if (leadSteps === 0) {
        ready += pending.length;
        pending = [];
      }
    } else if (next < desired) {
      // scale in: cancel pending ones first (newest), then ready ones
      let remove = desired - next;
      while (remove > 0 && pending.length > 0) {
        pending.pop();
        remove--;
      }
      ready -= remove;
    }
    desired = next;

    const demand = o.demand[t] as number;
    const capacity = ready * o.policy.capacityPerBackendRps * intervalSeconds;
    if (demand > capacity) {
      underSteps++;
      over += demand - capacity;
    }
    total += demand;
    instanceSteps += ready + pending.length;
    steps.push({ demandRps: demand / intervalSeconds, ready, instances: ready + pending.length, forecastUpperRps });
    history.push(demand);
    if ((t - start + 1) % 100 === 0 || t === o.demand.length - 1) o.onProgress?.(t - start + 1, o.demand.length - start);
  }
  return {
    policy: name,
    underProvisionedMinutes: (underSteps * o.intervalMs) / 60_000,
    overCapacityRequestShare: total > 0 ? over / total : 0,
    backendHours: (instanceSteps * o.intervalMs) / 3_600_000,
    scalingActions: actions,
    steps,
  };
}

/** HPA scale-down stabilization: the highest recommendation of the window wins. */
function stabilize(raw: number, current: number, recent: Recommendation[], nowMs: number, windowMs: number): number {
  recent.push({ atMs: nowMs, desired: raw });
  if (raw >= current) return raw;
  let max = raw;
  for (const r of recent) if (r.atMs > nowMs - windowMs && r.desired > max) max = r.desired;
  return Math.min(current, max);
}
