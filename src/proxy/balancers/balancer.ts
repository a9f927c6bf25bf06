import type { Backend } from '../backend.js';

/**
 * A load-balancing algorithm: picks one eligible backend from the list, or undefined when none
 * is eligible. Must not allocate per pick; must skip backends whose `eligible` is false.
 */
export interface Balancer {
  readonly name: string;
  pick(backends: readonly Backend[]): Backend | undefined;
}
