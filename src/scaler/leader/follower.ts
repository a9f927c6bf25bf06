/**
 * Wires a replica's control loop to leader election (called from the composition root):
 *
 * - the leader publishes each tick's decision (desired count, reason, detail) and the instances
 *   it is draining to the lease store;
 * - a follower drains the leader's victims as soon as it sees them (at every lease attempt, not
 *   only at its next tick) and reports the leader's desired count in the desired-backends gauge.
 */
import type { Gauge } from 'prom-client';
import type { TickReport } from '../control-loop.js';
import type { LeaderElector, LeaderState } from './leader-elector.js';

/** What this needs from the control loop. */
export interface FollowingLoop {
  on(event: 'tick', listener: (report: TickReport) => void): unknown;
  follow(): Promise<void>;
  /** Instances the loop is draining for removal now. */
  readonly drainingIds: readonly string[];
}

export function followLeader(elector: LeaderElector, loop: FollowingLoop, desiredBackends: Pick<Gauge, 'set'>): void {
  loop.on('tick', (report) => {
    if (elector.isLeader()) {
      const { desired, reason, detail } = report.decision;
      void elector.publish({ desired, reason, detail, atMs: report.nowMs, victims: [...loop.drainingIds] });
      return;
    }
    const published = elector.state().decision;
    if (published !== null) desiredBackends.set(published.desired);
  });
  let lastVictims = '';
  elector.on('observed', (state: LeaderState) => {
    if (state.isLeader) return;
    const victims = JSON.stringify(state.decision?.victims ?? []);
    if (victims !== lastVictims) void loop.follow();
    lastVictims = victims;
  });
}

/** /v1/status `leader`: without leader election ("none") this replica always scales. */
export function leaderStatus(kind: 'none' | 'redis' | 'kubernetes', elector: LeaderElector | null): LeaderState & { kind: string } {
  if (elector === null) return { kind, isLeader: true, identity: '', holder: null, decision: null };
  return { kind, ...elector.state() };
}
