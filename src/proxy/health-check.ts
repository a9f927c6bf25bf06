/**
 * Active HTTP health checks with rise/fall hysteresis, after HAProxy's `server ... check inter
 * <ms> rise <n> fall <n>` (HAProxy configuration manual §5.2, "inter", "rise", "fall":
 * https://docs.haproxy.org/3.0/configuration.html#5.2-rise): a backend is considered up after
 * `rise` consecutive successful checks and down after `fall` consecutive failed ones. One
 * deviation: HAProxy starts servers up by default; here a backend starts down, so a freshly
 * booted instance gets traffic only once it has passed `rise` checks (HAProxy's newer
 * `init-state fully-down`).
 *
 * Each backend has one probe loop: probe, wait `intervalMs`, probe again, so probes for a
 * backend never overlap and a slow backend is probed less often, never more. Like HAProxy,
 * every probe opens a fresh connection, so it also tests that the backend still accepts them.
 */
import { request } from 'undici';
import { PrescaleError } from '../errors.js';

export interface HealthCheckOptions {
  /** Request path of the probe, e.g. '/healthz'. */
  path: string;
  /** Pause between the end of one probe and the start of the next (ms), HAProxy `inter`. */
  intervalMs: number;
  /** Whole-probe deadline: connect, headers and body (ms). */
  timeoutMs: number;
  /** Consecutive successes that bring a down backend up (≥ 1), HAProxy `rise`. */
  rise: number;
  /** Consecutive failures that bring an up backend down (≥ 1), HAProxy `fall`. */
  fall: number;
  /** Status codes counted as success, inclusive range; default [200, 399]. */
  expectStatus?: [number, number];
  /** Replaces the HTTP probe (then `path` and `expectStatus` are unused), e.g. a TCP connect check. */
  probe?: (url: string, signal: AbortSignal) => Promise<boolean>;
  /** Called with every probe's result (the `prescale_health_checks_total` counter). */
  onResult?: (id: string, ok: boolean) => void;
}

interface Target {
  readonly id: string;
  readonly url: string;
  up: boolean;
  successes: number;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  readonly abort: AbortController;
  removed: boolean;
}

const DEFAULT_EXPECT_STATUS: [number, number] = [200, 399];

/**
 * One health probe: `GET <url><path>` on a new connection, success when the status is within
 * `expectStatus` (inclusive) and the response completes within `timeoutMs`.
 * Never throws: refused connections, timeouts and broken responses all resolve false.
 * @param signal optional extra cancellation (resolves false when aborted)
 */
export async function probeOnce(
  url: string,
  path: string,
  timeoutMs: number,
  expectStatus: [number, number],
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(new URL(path, url), {
      method: 'GET',
      reset: true,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: signal ? AbortSignal.any([deadline, signal]) : deadline,
    });
    await response.body.dump();
    return response.statusCode >= expectStatus[0] && response.statusCode <= expectStatus[1];
  } catch {
    return false;
  }
}

export class HealthChecker {
  readonly #options: Required<HealthCheckOptions>;
  readonly #onChange: (id: string, up: boolean) => void;
  readonly #targets = new Map<string, Target>();
  readonly #waiters = new Map<string, Set<(up: boolean) => void>>();
  #closed = false;

  /**
   * @param onChange called with (id, true) when a backend comes up and (id, false) when it
   *   goes down; not called for add/remove themselves. A throwing callback is reported as a
   *   process warning and does not stop the checks.
   * @throws PrescaleError PRESCALE_ERR_CONFIG for rise/fall < 1 or non-positive timings
   */
  constructor(options: HealthCheckOptions, onChange: (id: string, up: boolean) => void) {
    if (!(options.rise >= 1 && options.fall >= 1)) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `health check rise and fall must be ≥ 1, got rise ${options.rise}, fall ${options.fall}`);
    }
    if (!(options.intervalMs > 0 && options.timeoutMs > 0)) {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `health check intervalMs and timeoutMs must be > 0, got ${options.intervalMs}, ${options.timeoutMs}`);
    }
    const expectStatus = options.expectStatus ?? DEFAULT_EXPECT_STATUS;
    this.#options = { ...options, onResult: options.onResult ?? (() => {}), expectStatus, probe: options.probe ?? ((url, signal) => probeOnce(url, options.path, options.timeoutMs, expectStatus, signal)) };
    this.#onChange = onChange;
  }

  /**
   * Start probing `url` for backend `id` (initially down; reports up after `rise` successes).
   * Idempotent for the same url; a new url for a known id restarts it from down.
   */
  add(id: string, url: string): void {
    if (this.#closed) return;
    const existing = this.#targets.get(id);
    if (existing?.url === url) return;
    if (existing) this.#stop(existing);
    const target: Target = { id, url, up: false, successes: 0, failures: 0, timer: undefined, abort: new AbortController(), removed: false };
    this.#targets.set(id, target);
    void this.#probe(target);
  }

  /** Stop probing `id` (no onChange); pending waitUntilUp calls for it resolve false. */
  remove(id: string): void {
    const target = this.#targets.get(id);
    if (!target) return;
    this.#stop(target);
    this.#targets.delete(id);
    this.#settleWaiters(id, false);
  }

  /** Whether `id` is currently considered up (false for unknown ids). */
  isUp(id: string): boolean {
    return this.#targets.get(id)?.up ?? false;
  }

  /**
   * Wait until `id` is up or `timeoutMs` passes; resolves true/false. An id not yet added is
   * waited for too. This timer is not unref'd: someone is awaiting the answer.
   */
  waitUntilUp(id: string, timeoutMs: number): Promise<boolean> {
    if (this.isUp(id)) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, waiters);
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (up: boolean): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
        resolve(up);
      };
      waiters.add(done);
    });
  }

  /** Stop every probe; pending waitUntilUp calls resolve false. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#targets.keys()]) this.remove(id);
    for (const id of [...this.#waiters.keys()]) this.#settleWaiters(id, false);
  }

  async #probe(target: Target): Promise<void> {
    const { intervalMs } = this.#options;
    const ok = await this.#options.probe(target.url, target.abort.signal);
    if (target.removed) return;
    this.#options.onResult(target.id, ok);
    this.#record(target, ok);
    if (target.removed) return; // onChange may have removed it
    target.timer = setTimeout(() => void this.#probe(target), intervalMs);
    target.timer.unref();
  }

  /** Rise/fall bookkeeping: consecutive counters, each reset by the opposite result. */
  #record(target: Target, ok: boolean): void {
    if (ok) {
      target.failures = 0;
      target.successes += 1;
      if (!target.up && target.successes >= this.#options.rise) this.#flip(target, true);
    } else {
      target.successes = 0;
      target.failures += 1;
      if (target.up && target.failures >= this.#options.fall) this.#flip(target, false);
    }
  }

  #flip(target: Target, up: boolean): void {
    target.up = up;
    try {
      this.#onChange(target.id, up);
    } catch (error) {
      process.emitWarning(`health check onChange(${target.id}, ${up}) threw: ${String(error)}`, 'PrescaleHealthCheckWarning');
    }
    if (up) this.#settleWaiters(target.id, true);
  }

  #settleWaiters(id: string, up: boolean): void {
    const waiters = this.#waiters.get(id);
    if (!waiters) return;
    for (const done of [...waiters]) done(up);
  }

  #stop(target: Target): void {
    target.removed = true;
    clearTimeout(target.timer);
    target.abort.abort();
  }
}
