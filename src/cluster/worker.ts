import { PrescaleError } from '../errors.js';
import type { ProxyObserver } from '../proxy/forward.js';
import type { Pool } from '../proxy/pool.js';
import { Metrics } from '../metrics/metrics.js';
import { createLogger } from '../runtime/logger.js';
import { buildDataPlane, listenDataPlane, type DataPlane } from './data-plane.js';
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

/** Say hello and wait for the first `prescale:start` message from the primary. */
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

/** The proxy observer of a worker: traffic into the tally, durations into the histogram. */
function tallyObserver(tally: TrafficTally, metrics: Metrics): ProxyObserver {
  const duration = metrics.requestDuration;
  return {
    requestStarted(inFlight, nowMs) {
      tally.observeConcurrency(inFlight, nowMs);
    },
    requestFinished(startMs, latencyMs, status, bytes, backend) {
      tally.add(startMs + latencyMs, latencyMs, status, bytes, backend);
      duration.observe(latencyMs / 1000);
    },
  };
}

/**
 * Report the tally's parts and the requests in flight per backend id every `flushMs` and 1 ms
 * after each interval boundary (so the primary's control loop, which ticks 5 ms after it, has
 * the interval complete). Quiet while there is nothing to say. Returns `flush` (report now) and `stop`.
 */
function startReporting(tally: TrafficTally, pools: readonly Pool[], flushMs: number): { flush(): void; stop(): void } {
  let hadInFlight = false;
  const flush = (): void => {
    const parts = tally.take();
    const inFlight: Record<string, number> = {};
    for (const p of pools) for (const b of p.upstream.backends) if (b.inFlight > 0) inFlight[b.id] = (inFlight[b.id] ?? 0) + b.inFlight;
    const hasInFlight = Object.keys(inFlight).length > 0;
    if (parts.length > 0 || hasInFlight || hadInFlight) send({ type: 'prescale:traffic', parts, inFlight });
    hadInFlight = hasInFlight;
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    const now = Date.now();
    const next = Math.min(Math.ceil((now + 1) / flushMs) * flushMs, Math.ceil((now + 1) / tally.intervalMs) * tally.intervalMs);
    timer = setTimeout(() => {
      flush();
      schedule();
    }, next + 1 - now);
    timer.unref();
  };
  schedule();
  return { flush, stop: () => clearTimeout(timer) };
}

/** Answer the primary's requests after start: membership, drains, metrics, shutdown. */
function onPrimaryMessage(dataPlane: DataPlane, metrics: Metrics, drainTimeoutMs: number, stop: (reason: string) => void): (raw: unknown) => void {
  return (raw) => {
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
      stop('shutdown');
    }
  };
}

/** The `prescale:failed` report of a startup error: its PrescaleError code, or a system error's fields. */
function failure(err: unknown): WorkerMessage {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (err instanceof PrescaleError) return { type: 'prescale:failed', message: err.message, code: err.code };
  // in a cluster the primary binds the shared socket and reports "bind"; to the user it is a listen error as without workers
  const syscall = e.syscall === 'bind' ? 'listen' : e.syscall;
  return { type: 'prescale:failed', message: e.message, system: { code: e.code, syscall, address: e.address, port: e.port } };
}

/**
 * The body of a cluster worker process (forked by WorkerCluster, src/cluster/primary.ts): waits
 * for the config, builds the data plane (pools with their own health checks, router, listener
 * on the port shared through the primary), and then
 * - counts traffic in a TrafficTally and reports it (startReporting), with the requests in
 *   flight per backend;
 * - copies the default pool's membership from the primary; drains a backend on request and
 *   answers once its in-flight requests here have finished;
 * - answers metrics requests with its registry as JSON;
 * - on `prescale:shutdown`, SIGTERM, SIGINT or loss of the primary: stops accepting, lets
 *   in-flight requests finish, sends its last traffic and exits 0.
 * Before listening it waits (at most rise × interval + timeout + 1 s) until its health checks
 * pass for every backend the control plane sees healthy, so a replacement for a crashed worker
 * does not answer 503 meanwhile. A startup failure is reported (`prescale:failed`), then exit 1.
 */
export async function runWorker(): Promise<void> {
  const start = await startMessage();
  const { config, index, flushMs } = start;
  const logger = createLogger(config.log.level, undefined, { worker: index });
  const tally = new TrafficTally(config.series.intervalMs);
  const pools: Pool[] = [];
  const metrics = new Metrics(() => (pools.length === 1 ? (pools[0] as Pool).upstream.backends : pools.flatMap((p) => p.upstream.backends)));
  const dataPlane = buildDataPlane(config, tallyObserver(tally, metrics), logger, metrics);
  pools.push(...dataPlane.pools);
  const drainTimeoutMs = config.scaler.drainTimeoutMs;
  void applyMembers(dataPlane.pool, start.members, drainTimeoutMs);
  const check = config.upstream.healthCheck;
  const settled = waitForHealthyMembers(dataPlane.pool, start.members, check.rise * check.intervalMs + check.timeoutMs + 1_000);
  const listening = settled.then(() => listenDataPlane(config, dataPlane, tally, metrics.requestDuration, logger));
  const reporting = startReporting(tally, pools, flushMs);

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): void => {
    stopping ??= (async () => {
      logger.info({ reason }, 'worker stopping: finishing in-flight requests');
      await listening.then((l) => l.close(), () => undefined);
      reporting.stop();
      reporting.flush();
      await Promise.all(pools.map((p) => p.close()));
      send({ type: 'prescale:stopped' }, () => process.exit(0));
    })();
  };
  process.on('message', onPrimaryMessage(dataPlane, metrics, drainTimeoutMs, stop));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('disconnect', () => stop('primary gone'));
  try {
    send({ type: 'prescale:ready', port: (await listening).port });
  } catch (err) {
    send(failure(err), () => process.exit(1));
  }
}
