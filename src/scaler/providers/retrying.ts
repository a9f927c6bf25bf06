/**
 * Wrappers around any CapacityProvider: `withRetries` (retry transient provider failures with
 * capped exponential backoff and full jitter) and `withBounds` (never ask for a fleet outside
 * [min, max]). Both return a CapacityProvider, so they compose: withBounds(withRetries(p, ...), 1, 10).
 * `withCallTiming` reports each call's duration and failure (the provider metrics).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { PrescaleError } from '../../errors.js';
import type { CapacityProvider, Fleet } from '../provider.js';
import type { ProviderLogger } from './local-process.js';

export interface RetryOptions {
  /** Most calls in all, the first one included (integer ≥ 1); 1 means no retry. */
  readonly attempts: number;
  /** Backoff cap of the first retry (ms ≥ 0); it doubles for each further retry. */
  readonly baseDelayMs: number;
  /** Upper bound of any backoff (ms ≥ baseDelayMs); also the longest Retry-After honoured. */
  readonly maxDelayMs: number;
  /** Uniform in [0, 1); default Math.random. */
  readonly random?: () => number;
  /** Wait `ms`; default a timer that close() cuts short. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each wait: the error, the number of the call that failed (1-based) and the wait. */
  readonly onRetry?: (err: PrescaleError, attempt: number, delayMs: number) => void;
}

/**
 * Backoff before retry number `retry` (1-based) with full jitter, from "Exponential Backoff and
 * Jitter" (AWS Architecture Blog, 2015): random() × min(maxDelayMs, baseDelayMs × 2^(retry−1)).
 * A server's Retry-After (`retryAfterMs`) wins when it is longer. O(1); NaN-free for valid options.
 */
export function backoffDelayMs(retry: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: number, retryAfterMs?: number): number {
  const capMs = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  const jitteredMs = Math.floor(random * capMs);
  return retryAfterMs !== undefined && retryAfterMs > jitteredMs ? retryAfterMs : jitteredMs;
}

/**
 * Retry `describe` and `setDesired` when they fail with PRESCALE_ERR_PROVIDER (safe: set-desired
 * states a size, so repeating it is idempotent). Not retried: any other error, a PrescaleError
 * whose `details.retryable` is false, and a Retry-After longer than `maxDelayMs` (the control
 * loop's next interval asks again instead of blocking). After the last attempt the error is
 * rethrown with "after N attempts" added and `details.attempts` set; the original is its cause.
 * `close` is passed through once, and stops further retries.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for invalid options
 */
export function withRetries(provider: CapacityProvider, options: RetryOptions): CapacityProvider {
  const { attempts, baseDelayMs, maxDelayMs } = options;
  if (!Number.isInteger(attempts) || attempts < 1) throw new PrescaleError('PRESCALE_ERR_CONFIG', `provider retry attempts: expected an integer ≥ 1, got ${attempts}`);
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= baseDelayMs)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `provider retry delays: expected 0 ≤ baseDelayMs ≤ maxDelayMs, got ${baseDelayMs} and ${maxDelayMs}`);
  }
  const random = options.random ?? Math.random;
  const closing = new AbortController();
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, { signal: closing.signal }).catch(() => {}));

  async function run<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (err) {
        if (!(err instanceof PrescaleError) || err.code !== 'PRESCALE_ERR_PROVIDER' || err.details?.retryable === false) throw err;
        const retryAfterMs = typeof err.details?.retryAfterMs === 'number' ? err.details.retryAfterMs : undefined;
        if (attempt >= attempts || closing.signal.aborted || (retryAfterMs ?? 0) > maxDelayMs) throw gaveUp(err, attempt);
        const delayMs = backoffDelayMs(attempt, options, random(), retryAfterMs);
        options.onRetry?.(err, attempt, delayMs);
        await sleep(delayMs);
        if (closing.signal.aborted) throw gaveUp(err, attempt);
      }
    }
  }

  return {
    name: provider.name,
    ...victimsOf(provider),
    describe: (): Promise<Fleet> => run(() => provider.describe()),
    setDesired: (desired, setOptions) => run(() => provider.setDesired(desired, setOptions)),
    close: (): Promise<void> => {
      closing.abort();
      return provider.close();
    },
  };
}

function gaveUp(err: PrescaleError, attempts: number): PrescaleError {
  if (attempts === 1) return err;
  return new PrescaleError(err.code, `${err.message} (gave up after ${attempts} attempts)`, { cause: err, details: { ...err.details, attempts } });
}

const silent: ProviderLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Never ask `provider` for fewer than `min` or more than `max` instances: a request outside is
 * clamped and logged as a warning. When a scale-in is clamped up, `remove` is cut to the victims
 * still needed (the fleet size from describe() minus the clamped size, in the order given); the
 * others stay in the fleet and the warning names them.
 * @throws PrescaleError PRESCALE_ERR_CONFIG unless 0 ≤ min ≤ max are integers
 */
export function withBounds(provider: CapacityProvider, min: number, max: number, logger: ProviderLogger = silent): CapacityProvider {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || min > max) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `provider bounds: expected integers 0 ≤ min ≤ max, got min ${min} and max ${max}`);
  }
  return {
    name: provider.name,
    ...victimsOf(provider),
    describe: () => provider.describe(),
    close: () => provider.close(),
    async setDesired(desired, options = {}) {
      const clamped = Math.min(max, Math.max(min, desired));
      // a non-integer is the provider's to reject (PRESCALE_ERR_PROVIDER), not ours to round
      if (clamped === desired || !Number.isInteger(desired)) return provider.setDesired(desired, options);
      let remove = options.remove ?? [];
      if (remove.length > 0 && clamped > desired) {
        const fleetSize = (await provider.describe()).instances.length;
        remove = remove.slice(0, Math.max(0, fleetSize - clamped));
      }
      const kept = (options.remove ?? []).filter((id) => !remove.includes(id));
      logger.warn(
        { provider: provider.name, requested: desired, desired: clamped, min, max, ...(kept.length > 0 ? { kept } : {}) },
        `desired ${desired} is outside [${min}, ${max}]; asking for ${clamped}`,
      );
      return provider.setDesired(clamped, { remove });
    },
  };
}

/** Keep the wrapped provider's own victim choice (e.g. StatefulSet ordinals) through a wrapper. */
function victimsOf(provider: CapacityProvider): Pick<CapacityProvider, 'pickVictims'> {
  return provider.pickVictims ? { pickVictims: provider.pickVictims.bind(provider) } : {};
}

/** A provider call as `withCallTiming` reports it. */
export type ProviderCallObserver = (operation: 'describe' | 'set_desired', seconds: number, failed: boolean) => void;

/**
 * Time every `describe` and `setDesired` call of `provider` (the retries and waits of any inner
 * wrapper included) and report it to `observe` with whether it threw; the call's result or error
 * passes through unchanged. A throwing observer is ignored. `close` and `pickVictims` pass through.
 */
export function withCallTiming(provider: CapacityProvider, observe: ProviderCallObserver): CapacityProvider {
  async function timed<T>(operation: 'describe' | 'set_desired', call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let failed = true;
    try {
      const result = await call();
      failed = false;
      return result;
    } finally {
      try {
        observe(operation, (performance.now() - start) / 1000, failed);
      } catch {
        // metrics must never change what the provider call returns
      }
    }
  }
  return {
    name: provider.name,
    ...victimsOf(provider),
    describe: () => timed('describe', () => provider.describe()),
    setDesired: (desired, options) => timed('set_desired', () => provider.setDesired(desired, options)),
    close: () => provider.close(),
  };
}
