import { describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import type { CapacityProvider, Fleet, Instance } from '../../src/scaler/provider.js';
import { backoffDelayMs, withBounds, withRetries, type RetryOptions } from '../../src/scaler/providers/retrying.js';

/** An in-memory provider that throws the queued errors first, one per call. */
class FlakyProvider implements CapacityProvider {
  readonly name = 'flaky';
  readonly calls: { method: string; desired?: number; remove?: readonly string[] }[] = [];
  readonly failures: unknown[];
  instances: Instance[] = [];
  closed = 0;

  constructor(failures: unknown[] = []) {
    this.failures = [...failures];
  }

  describe(): Promise<Fleet> {
    this.calls.push({ method: 'describe' });
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
    return Promise.resolve({ instances: [...this.instances] });
  }

  setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    this.calls.push({ method: 'setDesired', desired, remove: options.remove ?? [] });
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
    this.instances = this.instances.filter((i) => !(options.remove ?? []).includes(i.id));
    while (this.instances.length > desired) this.instances.pop();
    while (this.instances.length < desired) {
      const n = this.instances.length + 1;
      this.instances.push({ id: `i-${n}-${this.calls.length}`, url: `http://10.0.0.${n}:80`, state: 'running', requestedAtMs: 0 });
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed += 1;
    return Promise.resolve();
  }
}

const providerError = (details?: Record<string, unknown>): PrescaleError => new PrescaleError('PRESCALE_ERR_PROVIDER', 'cloud API said 503', details ? { details } : {});

function retrying(inner: CapacityProvider, randoms: number[], overrides: Partial<RetryOptions> = {}) {
  const sleeps: number[] = [];
  const retries: { attempt: number; delayMs: number }[] = [];
  const provider = withRetries(inner, {
    attempts: 3,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    random: () => randoms.shift() ?? 0.5,
    sleep: async (ms) => void sleeps.push(ms),
    onRetry: (_err, attempt, delayMs) => void retries.push({ attempt, delayMs }),
    ...overrides,
  });
  return { provider, sleeps, retries };
}

describe('backoffDelayMs (full jitter)', () => {
  it.each([
    // retry, random, retryAfterMs, expected: random × min(1000, 100 × 2^(retry−1))
    [1, 0, undefined, 0],
    [1, 0.999, undefined, 99],
    [2, 0.5, undefined, 100],
    [3, 0.5, undefined, 200],
    [4, 0.999, undefined, 799],
    [5, 0.999, undefined, 999],
    [20, 0.5, undefined, 500],
    [1, 0.5, 700, 700],
    [4, 0.9, 300, 720],
  ] as const)('retry %i with random %f and Retry-After %j waits %i ms', (retry, random, retryAfterMs, expected) => {
    expect(backoffDelayMs(retry, { baseDelayMs: 100, maxDelayMs: 1_000 }, random, retryAfterMs)).toBe(expected);
  });
});

describe('withRetries', () => {
  it('retries a provider that fails twice, then succeeds on the third call, waiting within the jitter bounds', async () => {
    const inner = new FlakyProvider([providerError(), providerError()]);
    const { provider, sleeps, retries } = retrying(inner, [0.9, 0.3]);
    expect(await provider.describe()).toEqual({ instances: [] });
    expect(inner.calls).toHaveLength(3);
    expect(sleeps).toEqual([90, 60]);
    expect(retries).toEqual([{ attempt: 1, delayMs: 90 }, { attempt: 2, delayMs: 60 }]);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(1_000, 100 * 2 ** i));
    });
  });

  it('retries setDesired with the same size and victims (it is idempotent)', async () => {
    const inner = new FlakyProvider([providerError()]);
    const { provider } = retrying(inner, []);
    await provider.setDesired(2, { remove: ['i-9'] });
    expect(inner.calls).toEqual([
      { method: 'setDesired', desired: 2, remove: ['i-9'] },
      { method: 'setDesired', desired: 2, remove: ['i-9'] },
    ]);
    expect(inner.instances).toHaveLength(2);
  });

  it.each([
    ['a TypeError', new TypeError('bug')],
    ['another PrescaleError code', new PrescaleError('PRESCALE_ERR_CONFIG', 'bad config')],
    ['a provider error marked retryable: false', providerError({ retryable: false })],
  ])('does not retry %s', async (_name, error) => {
    const inner = new FlakyProvider([error, error]);
    const { provider, sleeps } = retrying(inner, []);
    await expect(provider.describe()).rejects.toBe(error);
    expect(inner.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('stops after `attempts` calls and says so, keeping code, details and cause', async () => {
    const last = providerError({ status: 503 });
    const inner = new FlakyProvider([providerError(), providerError(), providerError(), last, providerError()]);
    const { provider, sleeps } = retrying(inner, [1, 1, 1], { attempts: 4 });
    const err = (await provider.setDesired(5).catch((e: unknown) => e)) as PrescaleError;
    expect(inner.calls).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 400]);
    expect(err).toBeInstanceOf(PrescaleError);
    expect(err.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(err.message).toBe('cloud API said 503 (gave up after 4 attempts)');
    expect(err.details).toEqual({ status: 503, attempts: 4 });
    expect(err.cause).toBe(last);
  });

  it('with attempts 1 calls once and rethrows the error unchanged', async () => {
    const error = providerError();
    const inner = new FlakyProvider([error]);
    const { provider } = retrying(inner, [], { attempts: 1 });
    await expect(provider.describe()).rejects.toBe(error);
    expect(inner.calls).toHaveLength(1);
  });

  it('waits for Retry-After when it is longer than the jittered backoff', async () => {
    const inner = new FlakyProvider([providerError({ retryAfterMs: 750 }), providerError({ retryAfterMs: 10 })]);
    const { provider, sleeps } = retrying(inner, [0.5, 0.5]);
    await provider.describe();
    expect(sleeps).toEqual([750, 100]);
  });

  it('gives up at once when Retry-After is longer than maxDelayMs (the next control-loop interval asks again)', async () => {
    const inner = new FlakyProvider([providerError({ retryAfterMs: 60_000 })]);
    const { provider, sleeps } = retrying(inner, []);
    await expect(provider.describe()).rejects.toMatchObject({ details: { retryAfterMs: 60_000 } });
    expect(inner.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('close() passes through and cuts a real backoff wait short', async () => {
    const inner = new FlakyProvider([providerError(), providerError()]);
    const provider = withRetries(inner, { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 });
    const startMs = Date.now();
    const pending = provider.describe().catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await provider.close();
    const err = (await pending) as PrescaleError;
    expect(Date.now() - startMs).toBeLessThan(5_000);
    expect(err.message).toBe('cloud API said 503');
    expect(inner.calls).toHaveLength(1);
    expect(inner.closed).toBe(1);
  });

  it.each([
    [{ attempts: 0, baseDelayMs: 100, maxDelayMs: 1_000 }, /attempts/],
    [{ attempts: 2.5, baseDelayMs: 100, maxDelayMs: 1_000 }, /attempts/],
    [{ attempts: 3, baseDelayMs: -1, maxDelayMs: 1_000 }, /delays/],
    [{ attempts: 3, baseDelayMs: 100, maxDelayMs: 50 }, /delays/],
  ])('rejects invalid options %j', (options, message) => {
    expect(() => withRetries(new FlakyProvider(), options)).toThrow(message);
  });
});

describe('withBounds', () => {
  function bounded(fleetSize: number) {
    const inner = new FlakyProvider();
    inner.instances = Array.from({ length: fleetSize }, (_, i) => ({ id: `i-${i + 1}`, url: `http://10.0.0.${i + 1}:80`, state: 'running' as const, requestedAtMs: 0 }));
    const warnings: { obj: object; msg?: string }[] = [];
    const logger = { info: () => {}, error: () => {}, warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }) };
    return { inner, warnings, provider: withBounds(inner, 2, 5, logger) };
  }

  it.each([
    [0, 2],
    [1, 2],
    [2, 2],
    [4, 4],
    [5, 5],
    [6, 5],
    [100, 5],
  ])('asks for %i → sets %i within [2, 5]', async (asked, set) => {
    const { inner, warnings, provider } = bounded(3);
    await provider.setDesired(asked);
    expect(inner.calls.filter((c) => c.method === 'setDesired')).toEqual([{ method: 'setDesired', desired: set, remove: [] }]);
    expect(warnings).toHaveLength(asked === set ? 0 : 1);
    if (asked !== set) expect(warnings[0]?.msg).toBe(`desired ${asked} is outside [2, 5]; asking for ${set}`);
  });

  it('when a scale-in is clamped up, removes only the victims still needed and names the ones kept', async () => {
    const { inner, warnings, provider } = bounded(3);
    await provider.setDesired(1, { remove: ['i-2', 'i-3'] });
    expect(inner.calls.at(-1)).toEqual({ method: 'setDesired', desired: 2, remove: ['i-2'] });
    expect(inner.instances.map((i) => i.id)).toEqual(['i-1', 'i-3']);
    expect(warnings[0]?.obj).toMatchObject({ requested: 1, desired: 2, kept: ['i-3'] });
  });

  it('passes a non-integer through for the provider to reject, and rejects bad bounds', async () => {
    const { inner, provider } = bounded(3);
    await provider.setDesired(Number.NaN);
    expect(inner.calls.at(-1)).toMatchObject({ desired: Number.NaN });
    expect(() => withBounds(inner, 3, 2)).toThrow(/0 ≤ min ≤ max/);
    expect(() => withBounds(inner, -1, 2)).toThrow(/0 ≤ min ≤ max/);
  });
});
