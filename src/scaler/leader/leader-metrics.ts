/**
 * The leader election metrics, registered on the service's injected registry (src/metrics
 * defines the others). Values are read from the elector at scrape time.
 *
 * - `prescale_leader` (gauge): 1 while this replica holds the lease and scales, else 0.
 * - `prescale_leader_lease_failures` (gauge): consecutive failed acquire/renew attempts now
 *   (0 when the lease store answers).
 */
import { Gauge, type Registry } from 'prom-client';

export interface LeaderMetricsSource {
  isLeader(): boolean;
  readonly failures: number;
}

export function registerLeaderMetrics(registry: Registry, elector: LeaderMetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: 'prescale_leader',
    help: '1 while this replica holds the leader lease and scales the fleet, else 0.',
    registers,
    collect() {
      this.set(elector.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'prescale_leader_lease_failures',
    help: 'Consecutive failed attempts to acquire or renew the leader lease (0 while the lease store answers).',
    registers,
    collect() {
      this.set(elector.failures);
    },
  });
}
