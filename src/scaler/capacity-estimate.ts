/** One closed interval as the capacity estimator sees it. */
export interface CapacitySample {
  /** Requests per second per ready backend over the interval (> 0). */
  perBackendRps: number;
  /** p99 latency of the interval's requests, ms. */
  latencyP99Ms: number;
}

export interface CapacityEstimate {
  /** Requests per second one backend serves at 100% (the latency target), > 0. */
  rps: number;
  /**
   * `latency-knee`: the lowest per-backend load above which most intervals broke the latency
   * target; `sustained`: never saturated, so the most load seen within the target (or the
   * configured value, if higher); `too-few-samples`: the configured value; `not-load-driven`:
   * the least loaded quarter of the samples already broke the target (the target is below the
   * backends' unloaded latency, or something else is slow), so load says nothing: configured.
   */
  basis: 'latency-knee' | 'sustained' | 'too-few-samples' | 'not-load-driven';
  samples: number;
}

/**
 * Capacity per backend estimated from observed throughput versus latency: the per-backend
 * load at which p99 latency crosses `latencyTargetMs` (the knee of the throughput-latency curve,
 * where queueing starts: Little's law and the M/M/c picture behind it; the same definition
 * as the "max sustainable RPS at the latency SLO" of load-testing practice).
 *
 * Samples are sorted by load and split where "met the target" below and "broke it" above are
 * best separated (fewest samples on the wrong side, ties to the higher split); the estimate is
 * the highest load below the split, so one slow interval at low load (a GC pause, a cold cache)
 * does not move it. With no knee the backends were never pushed to it, so the
 * estimate is only a lower bound: the 90th percentile of the load seen within the target, and
 * never below `configuredRps`. With fewer than `minSamples` samples, or when the least loaded
 * quarter already broke the target (latency is not load-driven): `configuredRps`.
 *
 * @param samples recent intervals (any order; intervals without traffic must be left out);
 *   never mutated
 * @param latencyTargetMs p99 latency that counts as "at capacity", ms > 0
 * @param configuredRps the configured capacity, rps > 0 (the starting guess)
 * @param minSamples samples needed before estimating, integer >= 1
 * O(n log n).
 */
export function estimateCapacity(samples: readonly CapacitySample[], latencyTargetMs: number, configuredRps: number, minSamples: number): CapacityEstimate {
  const usable = samples.filter((s) => Number.isFinite(s.perBackendRps) && s.perBackendRps > 0 && Number.isFinite(s.latencyP99Ms));
  if (usable.length < minSamples) return { rps: configuredRps, basis: 'too-few-samples', samples: usable.length };
  const sorted = [...usable].sort((a, b) => a.perBackendRps - b.perBackendRps);
  const quiet = sorted.slice(0, Math.max(1, Math.floor(sorted.length / 4)));
  if (quiet.filter((s) => s.latencyP99Ms > latencyTargetMs).length * 2 > quiet.length) return { rps: configuredRps, basis: 'not-load-driven', samples: usable.length };
  // the knee: the split of the load-sorted samples that best separates "met the target" below
  // from "broke it" at and above (a decision stump: fewest samples on the wrong side)
  let wrong = sorted.filter((s) => s.latencyP99Ms <= latencyTargetMs).length; // split at 0: every sample "above"
  let best = { split: 0, wrong };
  for (let i = 0; i < sorted.length; i++) {
    wrong += (sorted[i] as CapacitySample).latencyP99Ms > latencyTargetMs ? 1 : -1;
    if (wrong <= best.wrong) best = { split: i + 1, wrong };
  }
  if (best.split > 0 && best.split < sorted.length) {
    // the highest load that still met the target, below the first that broke it
    return { rps: (sorted[best.split - 1] as CapacitySample).perBackendRps, basis: 'latency-knee', samples: usable.length };
  }
  const within = sorted.filter((s) => s.latencyP99Ms <= latencyTargetMs);
  const p90 = within.length > 0 ? (within[Math.min(within.length - 1, Math.floor(0.9 * within.length))] as CapacitySample).perBackendRps : 0;
  return { rps: Math.max(configuredRps, p90), basis: 'sustained', samples: usable.length };
}

/**
 * Moves `current` toward `target` by at most `maxStep` (a fraction, e.g. 0.25) of `current`
 * per call, so one estimate cannot resize the fleet at once. Both rps > 0.
 */
export function stepToward(current: number, target: number, maxStep: number): number {
  const limit = current * maxStep;
  return current + Math.max(-limit, Math.min(limit, target - current));
}

/** Settings of a CapacityTracker (config `scaler.capacityEstimate`). */
export interface CapacityTrackerOptions {
  /** The configured capacity per backend, rps > 0: the start and the floor while unsaturated. */
  configuredRps: number;
  latencyTargetMs: number;
  minSamples: number;
  /** Closed intervals kept as samples (the most recent), integer >= minSamples. */
  windowIntervals: number;
  /** Largest change per closed interval, a fraction of the current value, e.g. 0.25. */
  maxStep: number;
}

/**
 * The control loop's running capacity estimate: each closed interval with traffic and ready
 * backends becomes a sample (requests per second per ready backend, its p99 latency), and the
 * estimate steps toward `estimateCapacity` of the recent window by at most `maxStep` per
 * interval. O(window log window) per `observe`.
 */
export class CapacityTracker {
  private readonly samples: CapacitySample[] = [];
  private current: CapacityEstimate;

  constructor(private readonly options: CapacityTrackerOptions) {
    this.current = { rps: options.configuredRps, basis: 'too-few-samples', samples: 0 };
  }

  /** The estimate in use: rps per backend at 100% and how it was found. */
  get estimate(): CapacityEstimate {
    return this.current;
  }

  /**
   * @param buckets intervals that just closed: requests, seconds and p99 latency in ms
   * @param readyBackends backends that took traffic during them (the ready count now)
   */
  observe(buckets: readonly { requests: number; intervalMs: number; latencyP99Ms: number }[], readyBackends: number): CapacityEstimate {
    if (readyBackends <= 0) return this.current;
    let added = 0;
    for (const b of buckets) {
      // an interval needs enough requests for its p99 to mean something
      if (b.requests < 20) continue;
      this.samples.push({ perBackendRps: b.requests / (b.intervalMs / 1000) / readyBackends, latencyP99Ms: b.latencyP99Ms });
      added++;
    }
    if (this.samples.length > this.options.windowIntervals) this.samples.splice(0, this.samples.length - this.options.windowIntervals);
    if (added === 0) return this.current;
    const o = this.options;
    const target = estimateCapacity(this.samples, o.latencyTargetMs, o.configuredRps, o.minSamples);
    this.current = { ...target, rps: stepToward(this.current.rps, target.rps, o.maxStep) };
    return this.current;
  }
}
