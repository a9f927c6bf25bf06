import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestDurationHistogram } from '../../src/metrics/request-duration.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HELP = 'Time from request arrival to the end of the response, in seconds.';

/** The same observations into prescale's histogram and into a plain prom-client Histogram. */
function pair(): { fast: RequestDurationHistogram; fastRegistry: Registry; plain: Histogram; plainRegistry: Registry } {
  const fastRegistry = new Registry();
  const plainRegistry = new Registry();
  const fast = new RequestDurationHistogram({ name: 'prescale_request_duration_seconds', help: HELP, buckets: BUCKETS, registers: [fastRegistry] });
  const plain = new Histogram({ name: 'prescale_request_duration_seconds', help: HELP, buckets: BUCKETS, registers: [plainRegistry] });
  return { fast, fastRegistry, plain, plainRegistry };
}

/**
 * Two expositions agree: every line equal, but the _sum value within floating-point rounding
 * (added up in another order).
 */
function expectSameExposition(actual: string, expected: string): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  expect(a.length).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const line = e[i] as string;
    if (line.startsWith('prescale_request_duration_seconds_sum ')) {
      expect((a[i] as string).split(' ')[0]).toBe('prescale_request_duration_seconds_sum');
      expect(Number((a[i] as string).split(' ')[1])).toBeCloseTo(Number(line.split(' ')[1]), 9);
    } else {
      expect(a[i]).toBe(line);
    }
  }
}

// on bounds, between them, below the first, above the last, zero
const VALUES = [0, 0.0004, 0.001, 0.0011, 0.0025, 0.003, 0.01, 0.07, 0.25, 0.9, 1, 3, 10, 11, 120];

describe('request duration histogram', () => {
  it('exposes exactly what prom-client would for the same observations, across scrapes', async () => {
    const { fast, fastRegistry, plain, plainRegistry } = pair();
    expectSameExposition(await fastRegistry.metrics(), await plainRegistry.metrics());
    for (const v of VALUES) {
      fast.observe(v);
      plain.observe(v);
    }
    expectSameExposition(await fastRegistry.metrics(), await plainRegistry.metrics());
    // observations between two scrapes add to the first ones
    for (const v of VALUES.slice(3, 9)) {
      fast.observe(v);
      plain.observe(v);
    }
    const text = await fastRegistry.metrics();
    expectSameExposition(text, await plainRegistry.metrics());
    expect(text).toContain(`prescale_request_duration_seconds_count ${VALUES.length + 6}`);
    expect(text).toContain('prescale_request_duration_seconds_bucket{le="0.001"} 3');
  });

  it('ignores NaN and infinite durations', async () => {
    const { fast, fastRegistry } = pair();
    fast.observe(Number.NaN);
    fast.observe(Infinity);
    fast.observe(0.002);
    const text = await fastRegistry.metrics();
    expect(text).toContain('prescale_request_duration_seconds_count 1');
    expect(text).toContain('prescale_request_duration_seconds_sum 0.002');
  });

  it('starts from zero after a registry reset, as prom-client does', async () => {
    const { fast, fastRegistry, plain, plainRegistry } = pair();
    for (const v of VALUES) {
      fast.observe(v);
      plain.observe(v);
    }
    await fastRegistry.metrics();
    fastRegistry.resetMetrics();
    plainRegistry.resetMetrics();
    fast.observe(0.02);
    plain.observe(0.02);
    expectSameExposition(await fastRegistry.metrics(), await plainRegistry.metrics());
  });

  it('sums across cluster workers as a prom-client histogram', async () => {
    const a = pair();
    const b = pair();
    for (const v of VALUES) a.fast.observe(v);
    for (const v of VALUES.slice(0, 5)) b.fast.observe(v);
    const merged = AggregatorRegistry.aggregate([await a.fastRegistry.getMetricsAsJSON(), await b.fastRegistry.getMetricsAsJSON()]);
    const plain = new Registry();
    const all = new Histogram({ name: 'prescale_request_duration_seconds', help: HELP, buckets: BUCKETS, registers: [plain] });
    for (const v of [...VALUES, ...VALUES.slice(0, 5)]) all.observe(v);
    expectSameExposition(await merged.metrics(), await plain.metrics());
  });
});
