import { pino } from 'pino';
import { PrescaleError } from '../errors.js';
import type { ProxyObserver } from '../proxy/forward.js';
import type { Pool } from '../proxy/pool.js';
import { Metrics } from '../metrics/metrics.js';
import { buildDataPlane, listenDataPlane } from './data-plane.js';
import { isPrescaleMessage, type PrimaryMessage, type WorkerMessage } from './ipc-messages.js';
import { applyMembers, waitForHealthyMembers } from './membership.js';
import { TrafficTally } from './traffic-tally.js';

type StartMessage = Extract<PrimaryMessage, { type: 'prescale:start' }>;

function send(message: WorkerMessage, done?: () => void): void {
  if (process.send === undefined || !process.connected) {
    done?.();
    return;
  }
  process.send(message, undefined, {}, () => done?.());
}

/** The first `prescale:start` message from the primary. */
function startMessage(): Promise<StartMessage> {
  return new Promise((resolve) => {
    const onMessage = (raw: unknown): void => {
      if (!isPrescaleMessage<PrimaryMessage>(raw) || raw.type !== 'prescale:start') return;
      process.off('message', onMessage);
      resolve(raw);
    };
    process.on('message', onMessage);
    send({ type: 'prescale:hello' });
  });
}

/** Requests in flight per backend id across the pools (only ids with some). */
function inFlightById(pools: readonly Pool[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pools) for (const b of p.upstream.backends) if (b.inFlight > 0) out[b.id] = (out[b.id] ?? 0) + b.inFlight;
  return out;
}

/**
 * The body of a cluster worker process (forked by WorkerCluster, src/cluster/primary.ts): waits
 * for the config, builds the data plane (pools with their own health checks, router, listener
 * on the port shared through the primary), and then
 * - counts traffic in a TrafficTally and reports it every `flushMs` and right after each
 *   interval boundary, with the requests in flight per backend;
 * - copies the default pool's membership from the primary; drains a backend on request and
 *   answers once its in-flight requests here have finished;
 * - answers metrics requests with its registry as JSON;
 * - on `prescale:shutdown`, SIGTERM, SIGINT or loss of the primary: stops accepting, lets
 *   in-flight requests finish, sends its last traffic and exits 0.
 * A startup failure is reported (`prescale:failed`) and the process exits 1.
 */
export async function runWorker(): Promise<void> {
  const start = await startMessage();
  const { config, index, flushMs } = start;
  const logger = pino({ level: config.log.level }).child({ worker: index });
  const intervalMs = config.series.intervalMs;
  const tally = new TrafficTally(intervalMs);
  const pools: Pool[] = [];
  const metrics = new Metrics(() => (pools.length === 1 ? (pools[0] as Pool).upstream.backends : pools.flatMap((p) => p.upstream.backends)));
  const duration = metrics.requestDuration;
  const observer: ProxyObserver = {
    requestStarted(inFlight, nowMs) {
      tally.observeConcurrency(inFlight, nowMs);
    },
    requestFinished(startMs, latencyMs, status, bytes, backend) {
      tally.add(startMs + latencyMs, latencyMs, status, bytes, backend);
      duration.observe(latencyMs / 1000);
    },
  };
  const dataPlane = buildDataPlane(config, observer, logger, metrics);
  pools.push(...dataPlane.pools);
  const drainTimeoutMs = config.scaler.drainTimeoutMs;
  void applyMembers(dataPlane.pool, start.members, drainTimeoutMs);
  // a worker replacing a crashed one listens once its health checks agree with the control plane's
  // (at most rise probes), instead of answering 503 meanwhile
  const check = config.upstream.healthCheck;
  const settled = waitForHealthyMembers(dataPlane.pool, start.members, check.rise * check.intervalMs + check.timeoutMs + 1_000);
  const listening = settled.then(() => listenDataPlane(config, dataPlane, tally, duration, logger));

  let hadInFlight = false;
  const flush = (): void => {
    const parts = tally.take();
    const inFlight = inFlightById(pools);
    const hasInFlight = Object.keys(inFlight).length > 0;
    if (parts.length > 0 || hasInFlight || hadInFlight) send({ type: 'prescale:traffic', parts, inFlight });
    hadInFlight = hasInFlight;
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    const now = Date.now();
    const next = Math.min(Math.ceil((now + 1) / flushMs) * flushMs, Math.ceil((now + 1) / intervalMs) * intervalMs);
    timer = setTimeout(() => {
      flush();
      schedule();
    }, next + 1 - now);
    timer.unref();
  };

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'worker stopping: finishing in-flight requests');
      clearTimeout(timer);
      await listening.then((l) => l.close(), () => undefined);
      flush();
      await Promise.all(pools.map((p) => p.close()));
      send({ type: 'prescale:stopped' }, () => process.exit(0));
    })();
    return stopping;
  };
  process.on('message', (raw: unknown) => {
    if (!isPrescaleMessage<PrimaryMessage>(raw)) return;
    if (raw.type === 'prescale:members') {
      void applyMembers(dataPlane.pool, raw.members, drainTimeoutMs);
    } else if (raw.type === 'prescale:drain') {
      const { requestId } = raw;
      void dataPlane.pool.remove(raw.id, raw.timeoutMs).then(({ drained }) => send({ type: 'prescale:drained', requestId, drained }));
    } else if (raw.type === 'prescale:metrics-request') {
      const { requestId } = raw;
      void metrics.registry.getMetricsAsJSON().then((snapshot) => send({ type: 'prescale:metrics', requestId, metrics: snapshot }));
    } else if (raw.type === 'prescale:shutdown') {
      void stop('shutdown');
    }
  });
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('disconnect', () => void stop('primary gone'));

  let listener: { port: number };
  try {
    listener = await listening;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    // in a cluster the primary binds the shared socket and reports "bind"; to the user it is a listen error as without workers
    const syscall = e.syscall === 'bind' ? 'listen' : e.syscall;
    const detail = err instanceof PrescaleError ? { code: err.code } : { system: { code: e.code, syscall, address: e.address, port: e.port } };
    send({ type: 'prescale:failed', message: e.message, ...detail }, () => process.exit(1));
    return;
  }
  schedule();
  send({ type: 'prescale:ready', port: listener.port });
}
