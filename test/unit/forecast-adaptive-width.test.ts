import { describe, expect, it } from 'vitest';
import { AdaptiveWidth } from '../../src/forecast/adaptive-width.js';
import { seededRandom } from '../../src/runtime/seeded-random.js';

/** Empirical coverage of the calibrated bound over a residual stream, after a warm-up. */
function coverage(quantile: number, rawWidth: number, residual: (i: number) => number, n: number): number {
  const width = new AdaptiveWidth(quantile);
  let covered = 0;
  let counted = 0;
  for (let i = 0; i < n; i++) {
    const bound = width.bound(100, 100 + rawWidth);
    const hit = 100 + residual(i) <= bound;
    width.observe(hit);
    if (i >= n / 4) {
      counted++;
      if (hit) covered++;
    }
  }
  return covered / counted;
}

describe('AdaptiveWidth (adaptive conformal inference on the bound width)', () => {
  const random = seededRandom(7);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  it.each([
    // raw bound too narrow (covers ~69%), right (~90%) and too wide (~99.9%): all end near q
    ['too narrow', 0.5, 0.9],
    ['about right', 1.28, 0.9],
    ['too wide', 3.1, 0.9],
  ])('a %s raw bound is driven to about %s coverage', (_name, rawWidth, q) => {
    const c = coverage(q, (rawWidth as number) * 10, () => 10 * gaussian(), 4000);
    expect(c).toBeGreaterThan(0.87);
    expect(c).toBeLessThan(0.93);
  });

  it('re-widens after a level shift doubles the residuals', () => {
    const c = coverage(0.9, 12.8, (i) => (i < 1000 ? 10 : 25) * gaussian(), 4000);
    expect(c).toBeGreaterThan(0.86);
  });

  it('never goes below the point nor beyond 4x the raw width', () => {
    const width = new AdaptiveWidth(0.9);
    for (let i = 0; i < 1000; i++) width.observe(false);
    expect(width.scale).toBeCloseTo(4);
    expect(width.bound(10, 20)).toBeCloseTo(50);
    for (let i = 0; i < 100_000; i++) width.observe(true);
    expect(width.scale).toBeCloseTo(0.25);
    expect(width.bound(10, 5)).toBe(10);
  });
});
