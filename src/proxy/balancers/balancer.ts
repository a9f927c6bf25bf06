import type { Backend } from '../backend.js';

/**
 * A load-balancing algorithm: picks one eligible backend from the list, or undefined when none
 * is eligible. Must not allocate per pick; must skip backends whose `eligible` is false.
 *
 * `key` is the request's affinity key for the hashing algorithms (ip-hash: the client address;
 * ring-hash and maglev: any string the caller derives, e.g. a header or cookie). Algorithms that
 * do not hash ignore it. The balancer never changes `inFlight`: the caller counts a request on
 * the picked backend (and releases it) exactly as it does today.
 */
export interface Balancer {
  readonly name: string;
  pick(backends: readonly Backend[], key?: string): Backend | undefined;
}

/** A source of uniform random numbers in [0, 1), like `Math.random`; injectable for tests. */
export type RandomSource = () => number;

/** A clock in milliseconds; injectable for tests. Must match the clock given to `observeLatency`. */
export type ClockMs = () => number;
