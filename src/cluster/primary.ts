import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { PrescaleError, type ErrorCode } from '../errors.js';
import type { Pool } from '../proxy/pool.js';
import type { BackendStatus } from '../proxy/upstream.js';
import { processEntry } from '../runtime/module-entry.js';
import type { TrafficSeries } from '../series/traffic-series.js';
import { isPrescaleMessage, type MetricsSnapshot, type PrimaryMessage, type WorkerMessage } from './ipc-messages.js';
import { membersOf, observeUpstream } from './membership.js';
import { ClusterRegistry, aggregateMetrics, retireSnapshot } from './metrics-aggregation.js';
import { TrafficMerger } from './traffic-merger.js';
import { WorkerSlot, type WorkerView } from './worker-slot.js';

export type { WorkerView } from './worker-slot.js';

export interface WorkerClusterOptions {
  config: Readonly<Config>;
  /** Worker processes to run (≥ 2; see resolveWorkerCount). */
  workers: number;
  logger: Logger;
  /** The control plane's traffic series: every worker's traffic is merged into it. */
  series: TrafficSeries;
  /** The control plane's default pool: its membership is copied to the workers (it serves no traffic here). */
  pool: Pool;
  /** The control plane's metrics registry; the cluster's own metrics are added to it. */
  registry: Registry;
  /** How often workers report traffic (ms), besides right after each interval boundary; default 100. */
  flushMs?: number;
  /** How long every worker gets to open its listener (ms); default 30 000. */
  startTimeoutMs?: number;
}

const ENTRY = processEntry('./worker-main', import.meta.url);
/** How long a worker gets to answer a metrics request before its last answer is used (ms). */
const METRICS_TIMEOUT_MS = 2_000;
/** Extra time a drain may take past its drain timeout before the worker's answer is given up on (ms). */
const DRAIN_GRACE_MS = 5_000;

/**
 * The primary of `workers: N` (node:cluster): forks N worker processes that run the data plane
 * (src/cluster/worker.ts) on the shared proxy port (the primary accepts and hands connections to
 * workers round-robin, node's default on Linux) while this process keeps the control plane.
 * - Traffic: workers report TallyParts, merged into `series` (TrafficMerger), so the control
 *   loop, forecaster and traffic log see the total.
 * - Membership: every change of `pool.upstream` (admit, weight, state, removal) is sent to all
 *   workers; `drainAndRemove` completes only when every worker has drained the backend.
 * - Metrics: `registry` (a ClusterRegistry) renders the control plane's and every worker's
 *   metrics combined per AGGREGATION_RULES (src/cluster/metrics-aggregation.ts).
 * - A worker that exits unexpectedly is forked again after a backoff (100 ms doubling to 10 s,
 *   back to 100 ms once a worker has served 30 s); the others keep serving.
 * - `close()`: workers stop accepting, finish in-flight requests, report and exit 0.
 * Workers run worker-main in the primary's own mode (compiled, or from source with tsx's loader;
 * src/runtime/module-entry.ts).
 */
export class WorkerCluster {
  readonly registry: ClusterRegistry;
  private readonly slots: WorkerSlot[] = [];
  private readonly merger: TrafficMerger;
  private readonly restarts: Counter;
  private readonly unobserve: () => void;
  private readonly stopSighup: () => void;
  private retired: MetricsSnapshot | null = null;
  private retiring: Promise<void> = Promise.resolve();
  private requestIds = 0;
  private closing = false;
  /** Set once every first worker listened: from then on an exited worker is forked again. */
  private started = false;
  private port_ = 0;

  private constructor(private readonly options: WorkerClusterOptions) {
    this.merger = new TrafficMerger(options.series);
    const registers = [options.registry];
    const slots = this.slots;
    new Gauge({
      name: 'prescale_cluster_workers',
      help: 'Worker processes serving traffic now (config workers: N).',
      registers,
      collect() {
        this.set(slots.filter((s) => s.state === 'ready').length);
      },
    });
    this.restarts = new Counter({ name: 'prescale_cluster_worker_restarts_total', help: 'Worker processes forked again after one exited unexpectedly.', registers });
    this.registry = new ClusterRegistry(() => this.metricsText());
    this.unobserve = observeUpstream(options.pool.upstream, () => this.broadcast({ type: 'prescale:members', members: membersOf(options.pool.upstream) }));
    const onSighup = (): void => {
      for (const s of this.slots) s.worker?.process.kill('SIGHUP');
    };
    if (options.config.listen.tls) process.on('SIGHUP', onSighup);
    this.stopSighup = () => process.off('SIGHUP', onSighup);
  }

  /**
   * Fork the workers and resolve once every one listens.
   * @throws the first worker's startup error (a PrescaleError with its code, e.g.
   *   PRESCALE_ERR_CONFIG for bad TLS files, or an Error with the listen error's message);
   *   the other workers are stopped first.
   */
  static async start(options: WorkerClusterOptions): Promise<WorkerCluster> {
    cluster.setupPrimary({ exec: ENTRY.path, execArgv: ENTRY.execArgv, args: [] });
    const c = new WorkerCluster(options);
    for (let i = 1; i <= options.workers; i++) c.slots.push(new WorkerSlot(i));
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cluster workers did not listen within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const ports = await Promise.race([Promise.all(c.slots.map((s) => c.fork(s))), timeout]);
      c.port_ = ports[0] as number;
      c.started = true;
      return c;
    } catch (err) {
      await c.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The proxy port every worker shares. */
  get port(): number {
    return this.port_;
  }

  /** One entry per worker slot: pid, state, requests served by its current process, restarts. */
  status(): WorkerView[] {
    return this.slots.map((s) => s.view((id) => this.merger.requestsOf(id)));
  }

  /** Requests in flight on backend `id` over all workers, as of their latest reports (at most `flushMs` old). */
  inFlightOf(id: string): number {
    let n = 0;
    for (const slot of this.slots) n += slot.inFlight[id] ?? 0;
    return n;
  }

  /** `statuses` (the control plane's view) with `inFlight` replaced by the workers' sum (`inFlightOf`). */
  backendStatus(statuses: BackendStatus[]): BackendStatus[] {
    return statuses.map((s) => ({ ...s, inFlight: this.inFlightOf(s.id) }));
  }

  /**
   * Drain `id` everywhere: the control plane's copy stops counting it ready at once, every
   * serving worker stops sending it new requests and answers when its in-flight requests there
   * finished (or `drainTimeoutMs` passed); then the control plane forgets it (and tells the
   * workers). A worker that exits meanwhile has nothing left in flight.
   * Resolves `{ drained }`: false when some worker's drain timed out.
   */
  async drainAndRemove(id: string, drainTimeoutMs: number): Promise<{ drained: boolean }> {
    this.options.pool.upstream.setState(id, 'drain');
    const serving = this.slots.filter((s) => s.state === 'ready');
    const answers = await Promise.all(serving.map((s) => this.ask(s, (requestId) => ({ type: 'prescale:drain', requestId, id, timeoutMs: drainTimeoutMs }), drainTimeoutMs + DRAIN_GRACE_MS)));
    await this.options.pool.remove(id, 0);
    return { drained: answers.every((a) => a === 'exited' || (a !== 'timeout' && a.type === 'prescale:drained' && a.drained)) };
  }

  /** Stop every worker gracefully (SIGKILL after the drain timeout + 5 s) and wait for them to exit. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    this.unobserve();
    this.stopSighup();
    const deadlineMs = this.options.config.scaler.drainTimeoutMs + DRAIN_GRACE_MS;
    await Promise.all(this.slots.map((s) => s.stop(deadlineMs)));
  }

  private fork(slot: WorkerSlot): Promise<number> {
    const worker = slot.fork(cluster.fork({ PRESCALE_WORKER_INDEX: String(slot.index) }));
    worker.on('message', (raw: unknown) => {
      if (isPrescaleMessage<WorkerMessage>(raw)) this.onMessage(slot, worker, raw);
    });
    worker.on('error', (err) => this.options.logger.warn({ err, worker: slot.index }, 'cluster worker IPC error'));
    worker.once('exit', (code, signal) => this.onExit(slot, worker, code, signal));
    return slot.ready;
  }

  private onMessage(slot: WorkerSlot, worker: Worker, m: WorkerMessage): void {
    switch (m.type) {
      case 'prescale:hello': {
        // the same listen settings as the first workers: node:cluster keys the shared socket by
        // them, so a restarted worker joins it (with listen.port 0 too, the port picked once)
        const start: PrimaryMessage = { type: 'prescale:start', index: slot.index, config: this.options.config as Config, members: membersOf(this.options.pool.upstream), flushMs: this.options.flushMs ?? 100 };
        worker.send(start);
        break;
      }
      case 'prescale:ready':
        if (slot.restarts > 0) this.options.logger.info({ worker: slot.index, pid: worker.process.pid }, 'cluster worker replaced and serving');
        slot.markReady(m.port);
        break;
      case 'prescale:failed':
        // the worker's error as it was: a PrescaleError keeps its code, a listen error its errno fields
        slot.fail(m.code === undefined ? Object.assign(new Error(`worker ${slot.index}: ${m.message}`), m.system) : new PrescaleError(m.code as ErrorCode, `worker ${slot.index}: ${m.message}`));
        break;
      case 'prescale:traffic':
        for (const part of m.parts) this.merger.merge(worker.id, part);
        slot.inFlight = m.inFlight;
        break;
      case 'prescale:drained':
      case 'prescale:metrics':
        slot.answer(m.requestId, m);
        break;
      case 'prescale:stopped':
        break;
    }
  }

  private onExit(slot: WorkerSlot, worker: Worker, code: number | null, signal: string | null): void {
    this.merger.forget(worker.id);
    const last = slot.exited(worker, code, signal);
    if (last !== null) this.retiring = this.retiring.then(async () => {
      this.retired = await retireSnapshot(this.retired, last);
    });
    // before start() resolved, a worker that never listened fails the start instead of restarting
    if (this.closing || !(this.started || slot.everReady)) return;
    this.restarts.inc();
    const delayMs = slot.nextBackoffMs(Date.now());
    this.options.logger.warn({ worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'cluster worker exited; forking a new one');
    slot.scheduleRestart(delayMs, () => {
      if (!this.closing) this.fork(slot).catch(() => undefined);
    });
  }

  /** Send a request to a serving worker and wait for its answer: 'exited' if it exits first, 'timeout' after `timeoutMs`. */
  private ask(slot: WorkerSlot, build: (requestId: number) => PrimaryMessage, timeoutMs: number): Promise<WorkerMessage | 'exited' | 'timeout'> {
    const requestId = ++this.requestIds;
    return slot.request(requestId, build(requestId), timeoutMs);
  }

  private broadcast(message: PrimaryMessage): void {
    // a starting worker gets the list in its start message; later changes follow it on the same channel
    for (const s of this.slots) if (s.state === 'ready' || s.state === 'starting') s.send(message);
  }

  private async metricsText(): Promise<string> {
    const control = await this.options.registry.getMetricsAsJSON();
    const serving = this.slots.filter((s) => s.state === 'ready');
    const snapshots = await Promise.all(serving.map(async (s) => {
      const answer = await this.ask(s, (requestId) => ({ type: 'prescale:metrics-request', requestId }), METRICS_TIMEOUT_MS);
      if (answer !== 'exited' && answer !== 'timeout' && answer.type === 'prescale:metrics') s.lastMetrics = answer.metrics;
      return s.lastMetrics;
    }));
    await this.retiring;
    return aggregateMetrics(control, snapshots.filter((s): s is MetricsSnapshot => s !== null), this.retired).metrics();
  }
}
