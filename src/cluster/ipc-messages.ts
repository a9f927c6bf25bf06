import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { BackendState } from '../proxy/backend.js';
import type { TallyPart } from './traffic-tally.js';

/**
 * The messages between the cluster primary (control plane) and its workers (data plane), sent
 * over node:cluster's IPC channel (JSON serialisation). Every type starts with `prescale:` so
 * other users of the channel are ignored.
 */

/** One backend of the default pool as the control plane holds it (the workers copy it). */
export interface MemberEntry {
  id: string;
  url: string;
  /** Weight now (the admin API may have changed it). */
  weight: number;
  /** Weight it was added with: what `{"percent": n}` weights are relative to. */
  initialWeight: number;
  state: BackendState;
  /** Whether the control plane's own health checks pass for it now (a starting worker waits to agree). */
  healthy: boolean;
}

/** prom-client's `registry.getMetricsAsJSON()` answer. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Primary → worker. */
export type PrimaryMessage =
  /** First message: everything the worker needs to build and open its data plane. */
  | { type: 'prescale:start'; index: number; config: Config; members: MemberEntry[]; flushMs: number }
  /** The default pool changed (admit, weight, state, removal): the whole list, newest last. */
  | { type: 'prescale:members'; members: MemberEntry[] }
  /** Drain `id` (no new requests), wait for its in-flight ones or `timeoutMs`, remove it, answer `drained`. */
  | { type: 'prescale:drain'; requestId: number; id: string; timeoutMs: number }
  /** Answer with this worker's metrics registry as JSON. */
  | { type: 'prescale:metrics-request'; requestId: number }
  /** Stop accepting, finish in-flight requests, send the last traffic, then exit 0. */
  | { type: 'prescale:shutdown' };

/** Worker → primary. */
export type WorkerMessage =
  /** The worker listens for messages now: the primary answers with `prescale:start`. */
  | { type: 'prescale:hello' }
  | { type: 'prescale:ready'; port: number }
  /**
   * Startup failed: `code` is the PrescaleError code when it was one; `system` carries a system
   * error's fields (a listen error: code EADDRINUSE, syscall "listen", address, port).
   */
  | { type: 'prescale:failed'; message: string; code?: string; system?: { code?: string | undefined; syscall?: string | undefined; address?: string | undefined; port?: number | undefined } }
  /** Traffic counted since the last report (per interval), and requests in flight per backend id now. */
  | { type: 'prescale:traffic'; parts: TallyPart[]; inFlight: Record<string, number> }
  | { type: 'prescale:drained'; requestId: number; drained: boolean }
  | { type: 'prescale:metrics'; requestId: number; metrics: MetricsSnapshot }
  /** Sent after the last traffic report of a graceful stop, right before exit. */
  | { type: 'prescale:stopped' };

/** True for an object whose `type` starts with `prescale:` (the caller trusts the sender, its own process tree). */
export function isPrescaleMessage<T extends { type: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string' && (message as { type: string }).type.startsWith('prescale:');
}
