import { EventEmitter } from 'node:events';
import { decide, type Decision, type Recommendation, type ScalingPolicy } from './decide.js';
import { scheduledFloor, type ScheduleWindow } from './schedule.js';
import { CapacityTracker, type CapacityEstimate, type CapacityTrackerOptions } from './capacity-estimate.js';
import { pickVictims } from './victims.js';
import { maxOfFirst } from '../forecast/max-of-first.js';
import type { Bucket } from '../series/traffic-series.js';
import type { CapacityProvider, Fleet } from './provider.js';

/** What the loop needs from the traffic series (src/series/traffic-series.ts implements it). */
export interface SeriesSource {
  readonly intervalMs: number;
  closeUntil(nowMs: number): Bucket[];
  values(): number[];
  /**
   * Optional: bring `values()` up to date for the tick at `nowMs`; awaited after closeUntil and
   * before values(). A remote source (src/series/prometheus-source.ts) queries here; it must not
   * reject (it falls back to its local series).
   */
  refresh?(nowMs: number): Promise<void>;
}

export interface ForecastOutput {
  model: string;
  point: number[];
  upper: number[];
  fallback?: string;
}

/** What the loop needs from a forecaster: counts per interval for the next `horizon` intervals (in-process or in a worker). */
export interface ForecastSource {
  /** `origin`: absolute index of the first forecast interval (floor(history end / interval)). */
  forecast(history: readonly number[], origin?: number): ForecastOutput | Promise<ForecastOutput>;
}

/** What the loop needs from the balancer: admit discovered backends, drain and remove victims. */
export interface BalancerControl {
  /** Start health-checking a new backend; it takes traffic once healthy. Idempotent. */
  admit(id: string, url: string): void;
  /** Ids of the backends the balancer knows, newest last. */
  ids(): string[];
  /** Backends that can take traffic now. */
  readyCount(): number;
  /** Stop new requests to `id`, wait for in-flight ones (or the timeout), then forget it. */
  drainAndRemove(id: string, drainTimeoutMs: number): Promise<{ drained: boolean }>;
  /** Requests in flight to `id` now (0 when unknown); scale-in removes the least loaded first. */
  inFlight?(id: string): number;
}

/** What the loop needs from leader election (src/scaler/leader/): with several replicas only the leader changes the fleet. */
export interface Leadership {
  /** True while this replica holds an unexpired lease; checked right before every provider call that changes the fleet. */
  isLeader(): boolean;
  /** Follower: instance ids the leader is draining before their removal (its latest published decision). */
  leaderVictims(): readonly string[];
  /** Leader: how long a follower may take to see a published victim, ms; a removal waits at least this long. */
  readonly followerLagMs: number;
}

export interface ControlLoopOptions {
  policy: ScalingPolicy;
  /** Provisioning lead time, ms; with `learnLeadTime` the starting value until enough scale-outs were measured. */
  leadTimeMs: number;
  /**
   * Learn the lead time: the p90 of the last 20 measured times from asking the provider for an
   * instance to its first passed health check (needs 3 measurements), capped at `leadTimeMs`'s
   * forecast horizon `maxLeadTimeMs`.
   */
  learnLeadTime?: { maxLeadTimeMs: number };
  drainTimeoutMs: number;
  /** Known events: minimum capacity while a window is active. */
  schedule?: readonly ScheduleWindow[];
  series: SeriesSource;
  forecaster: ForecastSource;
  balancer: BalancerControl;
  /** null: decisions are computed and published, nothing is changed (static backends). */
  provider: CapacityProvider | null;
  /** Several replicas: act only while leader, otherwise follow (see follow()). Omitted: always act. */
  leadership?: Leadership;
  /** Called with buckets as they close (the durable traffic log). */
  onBuckets?: (buckets: Bucket[]) => void;
  /** Estimate capacity per backend from throughput vs latency (capacity-estimate.ts); omitted: policy.capacityPerBackendRps. */
  capacityEstimate?: Omit<CapacityTrackerOptions, 'configuredRps'>;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

/** Emitted as 'forecast' each time the forecaster answered (the forecast-error metrics score it later). */
export interface ForecastEvent {
  nowMs: number;
  intervalMs: number;
  /** Intervals the decision looked at (lead time + one interval). */
  steps: number;
  /** Requests per interval ahead, index 0 = the interval starting at the boundary at or before nowMs. */
  point: readonly number[];
  upper: readonly number[];
}

/** One tick's published result (log line, metrics, dashboard, demo output). */
export interface TickReport {
  nowMs: number;
  observedRps: number;
  /** Rates in rps: point and upper are the most over [now, now + lead + interval]; arrivalUpper is the upper bound at now + lead. */
  forecast: { model: string; pointRps: number; upperRps: number; arrivalUpperRps: number; fallback?: string } | null;
  decision: Decision;
  ready: number;
  /** Instances the provider has (provisioning + running), the ones that cost money. */
  instances: number;
  /** Capacity per backend the decision used, rps at 100%, and where it came from. */
  capacity: { rps: number; basis: CapacityEstimate['basis'] | 'configured' };
}

/**
 * The control loop: the only part of the scaler that touches clocks and I/O. Every interval it
 * closes the traffic bucket, forecasts, calls the pure `decide()`, and reconciles the fleet:
 * scale-out asks the provider for the new size (idempotent set-desired), discovered instances
 * are admitted through health checks; scale-in drains victims through the balancer first and
 * only then asks the provider to remove them, so no in-flight request is dropped.
 * Emits 'tick' with a TickReport, and 'forecast' with a ForecastEvent when the forecaster answered.
 */
export class ControlLoop extends EventEmitter {
  private desired = 0;
  private readonly recent: Recommendation[] = [];
  /** When the desired count last changed (ms), for the scale-in cooldown; null: not yet. */
  private lastChangeAtMs: number | null = null;
  private readonly draining = new Set<string>();
  private actuation: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private lastFleet: Fleet = { instances: [] };
  private readonly leadSamplesMs: number[] = [];
  private readonly measured = new Set<string>();
  /** Follower: ids drained because the leader is removing them. */
  private readonly followed = new Set<string>();

  private readonly capacity: CapacityTracker | undefined;

  constructor(private readonly options: ControlLoopOptions) {
    super();
    if (options.capacityEstimate) this.capacity = new CapacityTracker({ ...options.capacityEstimate, configuredRps: options.policy.capacityPerBackendRps });
  }

  /**
   * Read the actual fleet (never assume after a restart), ask for `initialDesired` if given, admit
   * what runs, then tick every interval unless `autoTick` is false (then call startTicking()).
   */
  async start(initialDesired?: number, autoTick = true): Promise<void> {
    const { provider, policy } = this.options;
    if (provider) {
      this.lastFleet = await provider.describe();
      this.desired = this.lastFleet.instances.length;
      const want = Math.max(policy.minBackends, Math.min(policy.maxBackends, initialDesired ?? this.desired));
      if (want !== this.desired && this.acting()) {
        this.desired = want;
        await provider.setDesired(want);
      }
      await this.discover();
    } else {
      this.desired = this.options.balancer.ids().length;
    }
    if (autoTick) this.schedule();
  }

  /** Begin the per-interval ticks (after start(…, false)). Idempotent. */
  startTicking(): void {
    if (this.timer === null) this.schedule();
  }

  /**
   * Poll the provider until at least `n` backends are ready (admitted and healthy) or
   * `timeoutMs` passes. Resolves the ready count reached.
   */
  async waitForReady(n: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.options.balancer.readyCount() < n && Date.now() < deadline) {
      await this.discover();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.options.balancer.readyCount();
  }

  stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.actuation;
  }

  get desiredBackends(): number {
    return this.desired;
  }

  /** Instances being drained for removal now (the leader publishes them to the followers). */
  get drainingIds(): readonly string[] {
    return [...this.draining];
  }

  /** The lead time in force: configured, or learned from measured scale-outs (p90). */
  get leadTimeMs(): number {
    const learn = this.options.learnLeadTime;
    if (learn === undefined || this.leadSamplesMs.length < 3) return this.options.leadTimeMs;
    const sorted = [...this.leadSamplesMs].sort((a, b) => a - b);
    const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)] as number;
    return Math.min(learn.maxLeadTimeMs, p90);
  }

  /**
   * A backend passed its first health check at `nowMs`: if the provider asked for it, its
   * provisioning time becomes a lead-time measurement.
   */
  observeReady(id: string, nowMs: number): void {
    const inst = this.lastFleet.instances.find((i) => i.id === id);
    if (inst === undefined || this.measured.has(id) || inst.requestedAtMs <= 0) return;
    this.measured.add(id);
    this.leadSamplesMs.push(Math.max(0, nowMs - inst.requestedAtMs));
    if (this.leadSamplesMs.length > 20) this.leadSamplesMs.shift();
  }

  private schedule(): void {
    const interval = this.options.series.intervalMs;
    const now = Date.now();
    const next = Math.ceil((now + 1) / interval) * interval + 5;
    this.timer = setTimeout(() => {
      if (!this.running) {
        this.running = true;
        this.tick(Date.now())
          .catch((err: unknown) => this.options.logger?.warn({ err }, 'control loop tick failed'))
          .finally(() => {
            this.running = false;
          });
      }
      this.schedule();
    }, next - now);
    this.timer.unref();
  }

  /** One control step at `nowMs`. Public so tests and the demo can drive it. */
  async tick(nowMs: number): Promise<TickReport> {
    const { series, forecaster, policy } = this.options;
    const leadTimeMs = this.leadTimeMs;
    const steps = Math.ceil((leadTimeMs + series.intervalMs) / series.intervalMs);
    const closed = series.closeUntil(nowMs);
    if (closed.length > 0) this.options.onBuckets?.(closed);
    const capacity = this.capacity ? this.capacity.observe(closed, this.options.balancer.readyCount()) : { rps: policy.capacityPerBackendRps, basis: 'configured' as const };
    if (series.refresh) await series.refresh(nowMs);
    const intervalSeconds = series.intervalMs / 1000;
    const history = series.values();
    const last = history.length > 0 ? (history[history.length - 1] as number) : 0;
    const observedRps = last / intervalSeconds;

    let forecast: TickReport['forecast'] = null;
    if (policy.mode === 'predictive' && history.length > 0) {
      try {
        // history ends where closeUntil(nowMs) closed it: the first forecast interval starts there
        const f = await forecaster.forecast(history, Math.floor(nowMs / series.intervalMs));
        this.emit('forecast', { nowMs, intervalMs: series.intervalMs, steps, point: f.point, upper: f.upper } satisfies ForecastEvent);
        forecast = {
          model: f.model,
          pointRps: maxOfFirst(f.point, steps) / intervalSeconds,
          upperRps: maxOfFirst(f.upper, steps) / intervalSeconds,
          arrivalUpperRps: (f.upper[Math.min(steps, f.upper.length) - 1] ?? 0) / intervalSeconds,
          ...(f.fallback === undefined ? {} : { fallback: f.fallback }),
        };
      } catch (err) {
        // a broken forecaster must not stop scaling: decide on the observed load alone
        this.options.logger?.warn({ err }, 'forecast failed; deciding on the observed load');
      }
    }
    const decision = decide({
      nowMs,
      policy: capacity.rps === policy.capacityPerBackendRps ? policy : { ...policy, capacityPerBackendRps: capacity.rps },
      observedRps,
      forecastUpperRps: forecast?.upperRps ?? null,
      forecastArrivalUpperRps: forecast?.arrivalUpperRps ?? null,
      leadTimeMs,
      current: this.desired,
      recent: this.recent,
      lastChangeAtMs: this.lastChangeAtMs,
      scheduled: this.options.schedule ? scheduledFloor(this.options.schedule, nowMs) : null,
    });
    this.remember(decision, nowMs);
    const before = this.desired;
    if (this.options.provider) await (this.acting() ? this.reconcile(decision.desired) : this.follow());
    if (this.desired !== before) this.lastChangeAtMs = nowMs; // starts the scale-in cooldown

    const report: TickReport = {
      nowMs,
      observedRps,
      forecast,
      decision,
      ready: this.options.balancer.readyCount(),
      instances: this.lastFleet.instances.length,
      capacity: { rps: capacity.rps, basis: capacity.basis },
    };
    this.emit('tick', report);
    return report;
  }

  private remember(decision: Decision, nowMs: number): void {
    this.recent.push({ atMs: nowMs, desired: decision.recommendation });
    const horizon = nowMs - this.options.policy.scaleInStabilizationMs;
    while (this.recent.length > 0 && (this.recent[0] as Recommendation).atMs <= horizon) this.recent.shift();
  }

  /** Bring the fleet toward `desired`: serialised so provider calls never interleave. */
  private reconcile(desired: number): Promise<void> {
    return this.serial(() => this.reconcileNow(desired), 'reconcile failed; will retry next interval');
  }

  /** Run `step` after every earlier provider step; a failure is logged and does not block later steps. */
  private serial(step: () => Promise<void>, failure: string): Promise<void> {
    this.actuation = this.actuation.then(step).catch((err: unknown) => {
      this.options.logger?.warn({ err }, failure);
    });
    return this.actuation;
  }

  private async reconcileNow(desired: number): Promise<void> {
    const provider = this.options.provider as CapacityProvider;
    this.followed.clear(); // leading now: what the old leader was draining is ours to decide
    await this.discover(); // the actual fleet, read before acting (after a takeover too)
    if (!this.acting()) return;
    const active = this.lastFleet.instances.filter((i) => !this.draining.has(i.id));
    if (desired > active.length) {
      this.desired = desired;
      await provider.setDesired(desired + this.draining.size);
      this.options.logger?.info({ desired }, 'scale-out requested');
    } else if (desired < active.length) {
      this.desired = desired;
      // victims: the provider's own choice, else booting ones, then the least loaded (victims.ts)
      const count = active.length - desired;
      const load = (id: string) => this.options.balancer.inFlight?.(id) ?? 0;
      const victims = provider.pickVictims?.(active, count) ?? pickVictims(active, count, load);
      for (const v of victims) this.removeAfterDrain(v.id, v.state === 'running');
    } else {
      this.desired = desired;
    }
  }

  private removeAfterDrain(id: string, hasTraffic: boolean): void {
    const { balancer, provider, drainTimeoutMs, logger } = this.options;
    this.draining.add(id);
    const draining = hasTraffic ? balancer.drainAndRemove(id, drainTimeoutMs) : Promise.resolve({ drained: true });
    // followers learn the victim from the published decision and drain it too before it goes
    const lagMs = this.options.leadership?.followerLagMs ?? 0;
    const drained = lagMs > 0 ? Promise.all([draining, new Promise((r) => setTimeout(r, lagMs))]).then(([d]) => d) : draining;
    void drained.then((result) => {
      if (!result.drained) logger?.warn({ backend: id }, 'drain timed out with requests in flight');
      return this.serial(async () => {
        try {
          if (!this.acting()) return logger?.warn({ backend: id }, 'scale-in: not the leader any more; the removal is left to the new leader');
          await provider?.setDesired(this.desired + this.draining.size - 1, { remove: [id] });
          this.lastFleet = (await provider?.describe()) ?? this.lastFleet;
          logger?.info({ backend: id, drained: result.drained }, 'scale-in: backend drained and removed');
        } finally {
          this.draining.delete(id);
        }
      }, 'scale-in removal failed');
    });
  }

  private acting(): boolean {
    return this.options.leadership?.isLeader() ?? true;
  }

  /**
   * Follower step (another replica leads): read the fleet (describe only), admit new running
   * instances after health checks, drain the ones the leader is removing (its published victims)
   * and the ones gone. Never changes the fleet. Runs each tick while not leading; call it also
   * when the leader publishes new victims.
   */
  follow(): Promise<void> {
    return this.serial(async () => {
      const { balancer, drainTimeoutMs, leadership } = this.options;
      if (!this.options.provider || this.acting()) return;
      const victims = new Set(leadership?.leaderVictims() ?? []);
      const known = new Set(balancer.ids());
      for (const id of victims) {
        if (!known.has(id) || this.followed.has(id)) continue;
        this.followed.add(id);
        void balancer.drainAndRemove(id, drainTimeoutMs);
      }
      await this.discover();
      // forget drains that finished and are no longer victims: re-admitted if still in the fleet (a reprieve)
      const present = new Set(this.lastFleet.instances.map((i) => i.id));
      const stillKnown = new Set(balancer.ids());
      for (const id of this.followed) if (!stillKnown.has(id) && !(victims.has(id) && present.has(id))) this.followed.delete(id);
      this.desired = this.lastFleet.instances.length;
    }, 'following the leader failed; will retry next interval');
  }

  /** Admit every running instance the balancer does not know yet. */
  private async discover(): Promise<void> {
    const provider = this.options.provider;
    if (!provider) return;
    this.lastFleet = await provider.describe();
    const known = new Set(this.options.balancer.ids());
    for (const inst of this.lastFleet.instances) {
      if (inst.state === 'running' && inst.url !== null && !known.has(inst.id) && !this.draining.has(inst.id) && !this.followed.has(inst.id)) {
        this.options.balancer.admit(inst.id, inst.url);
      }
    }
    const present = new Set(this.lastFleet.instances.map((i) => i.id));
    for (const id of known) {
      if (!present.has(id) && !this.draining.has(id) && !this.followed.has(id)) void this.options.balancer.drainAndRemove(id, 0);
    }
  }
}
