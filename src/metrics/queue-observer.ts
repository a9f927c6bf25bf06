import type { Backend } from '../proxy/backend.js';
import type { ProxyObserver } from '../proxy/forward.js';

/** A proxy observer that also counts the requests of one pool admitted and not yet finished. */
export interface CountingObserver extends ProxyObserver {
  /** Requests admitted by the pool's handler and not finished: on a backend or waiting in its queue. */
  admittedInFlight(): number;
}

/**
 * Wrap `inner` so the pool's requests in flight can be read at scrape time: two integer
 * increments per request, no allocation. Used only for pools with `maxConnsPerBackend` > 0,
 * the only ones whose requests can wait in the queue.
 */
export function countingObserver(inner: ProxyObserver): CountingObserver {
  let started = 0;
  let finished = 0;
  return {
    requestStarted(inFlight, nowMs) {
      started++;
      inner.requestStarted(inFlight, nowMs);
    },
    requestFinished(startMs, latencyMs, status, bytes, backendId) {
      finished++;
      inner.requestFinished(startMs, latencyMs, status, bytes, backendId);
    },
    admittedInFlight: () => started - finished,
  };
}

/**
 * Requests waiting for a backend slot (HAProxy's backend queue): admitted requests in flight
 * minus those on a backend, never below 0. O(backends).
 * Approximate at two edges: WebSocket tunnels count on their backend but were never admitted
 * here (the value reads low while tunnels are open), and a request still running on a backend
 * removed after a drain timeout counts as waiting until it ends (reads high).
 */
export function queuedRequests(admittedInFlight: number, backends: readonly Backend[]): number {
  let onBackends = 0;
  for (const b of backends) onBackends += b.inFlight;
  return Math.max(0, admittedInFlight - onBackends);
}
