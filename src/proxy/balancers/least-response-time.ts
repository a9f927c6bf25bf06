import { performance } from 'node:perf_hooks';
import type { Backend } from '../backend.js';
import type { Balancer, ClockMs } from './balancer.js';
import { isPickable } from './is-pickable.js';

export interface LeastResponseTimeOptions {
  /** Clock in ms; must be the clock passed to `Backend.observeLatency`. Default: epoch ms. */
  nowMs?: ClockMs;
}

/** Finagle's penalty for a backend with requests in flight but no latency sample yet. */
const PENALTY = 2 ** 47;

const epochMs: ClockMs = () => performance.timeOrigin + performance.now();

/**
 * Least response time by peak EWMA, as Finagle's `PeakEwma` load metric
 * (finagle-core loadbalancer/PeakEwma.scala) and Linkerd's (tower `PeakEwma`): each backend's
 * cost is its peak EWMA latency decayed to now (`Backend.peakEwmaAt`) × (inFlight + 1), divided
 * by effectiveWeight; the lowest cost wins. A backend with requests in flight but no sample yet
 * costs a large penalty + inFlight (Finagle), so a fresh backend gets one probe request, not a
 * flood. Ties (e.g. all unmeasured and idle) are broken round robin via a rotating scan start.
 *
 * Finagle and Linkerd compare two random backends (P2C) to scale to large fleets; this scans all
 * n, which is exact and cheap at prescale's fleet sizes. The clock is read once per pick (no
 * `Date.now` here; inject `nowMs` in tests). Cost O(n) per pick, no allocation. Returns undefined
 * when no backend is eligible.
 */
export function createLeastResponseTime(options: LeastResponseTimeOptions = {}): Balancer {
  const nowMs = options.nowMs ?? epochMs;
  let start = 0;
  return {
    name: 'least-response-time',
    pick(backends) {
      const now = nowMs();
      const n = backends.length;
      let best: Backend | undefined;
      let bestCost = Infinity;
      let bestIndex = 0;
      for (let k = 0; k < n; k++) {
        const index = (start + k) % n;
        const b = backends[index] as Backend;
        if (!isPickable(b)) continue;
        const cost = costOf(b, now);
        if (best === undefined || cost < bestCost) {
          best = b;
          bestCost = cost;
          bestIndex = index;
        }
      }
      if (best !== undefined) start = (bestIndex + 1) % n;
      return best;
    },
  };
}

/** Peak-EWMA cost of sending one more request to `b` at `now`; never NaN. */
function costOf(b: Backend, now: number): number {
  const latencyMs = b.peakEwmaAt(now);
  const weight = b.effectiveWeight;
  if (latencyMs > 0) return (latencyMs * (b.inFlight + 1)) / weight;
  return b.inFlight === 0 ? 0 : PENALTY + b.inFlight / weight;
}
