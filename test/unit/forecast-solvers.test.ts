import { describe, expect, it } from 'vitest';
import { NormalEquations } from '../../src/forecast/least-squares.js';
import { nelderMead } from '../../src/forecast/nelder-mead.js';

describe('ridge least squares (normal equations + Cholesky)', () => {
  it('recovers the coefficients of an exact linear relation', () => {
    const beta = [3, -2, 0.5, 10];
    const equations = new NormalEquations(4);
    for (let i = 0; i < 200; i++) {
      const row = [1, Math.sin(i), Math.cos(i / 3), (i % 17) / 17];
      equations.add(row, row.reduce((sum, x, j) => sum + x * (beta[j] as number), 0));
    }
    const solved = equations.solve(1e-12, [0]);
    expect(solved).toBeDefined();
    [...(solved as Float64Array)].forEach((value, j) => expect(value).toBeCloseTo(beta[j] as number, 6));
  });

  it('stays finite when two columns are identical or a column is all zeros (the ridge makes it solvable)', () => {
    const equations = new NormalEquations(4);
    for (let i = 0; i < 50; i++) equations.add([1, i / 50, i / 50, 0], 2 + 4 * (i / 50));
    const solved = equations.solve(1e-3, [0]) as Float64Array;
    expect([...solved].every(Number.isFinite)).toBe(true);
    // the slope is shared between the duplicate columns; the prediction is still right
    expect((solved[0] as number) + 0.5 * ((solved[1] as number) + (solved[2] as number))).toBeCloseTo(4, 1);
    expect(solved[3]).toBe(0);
  });

  it('shrinks penalised coefficients towards 0 as the ridge grows, but not the intercept', () => {
    const fit = (ridge: number) => {
      const equations = new NormalEquations(2);
      for (let i = 0; i < 100; i++) equations.add([1, (i % 10) - 4.5], 7 + 2 * ((i % 10) - 4.5));
      return equations.solve(ridge, [0]) as Float64Array;
    };
    expect(Math.abs(fit(10)[1] as number)).toBeLessThan(Math.abs(fit(1e-6)[1] as number));
    expect(fit(10)[0]).toBeCloseTo(7, 6);
  });

  it('returns undefined with no rows, or when the sums are not finite', () => {
    expect(new NormalEquations(3).solve(1e-3)).toBeUndefined();
    const overflow = new NormalEquations(2);
    overflow.add([1, 1e200], 1);
    overflow.add([1, 1e200], 2);
    expect(overflow.solve(1e-3)).toBeUndefined();
  });
});

describe('Nelder-Mead', () => {
  it('finds the minimum of a shifted quadratic bowl', () => {
    const result = nelderMead(([x, y]) => (x! - 3) ** 2 + 10 * (y! + 1) ** 2, [0, 0], { maxEvaluations: 400, tolerance: 1e-12 });
    expect(result.x[0]).toBeCloseTo(3, 3);
    expect(result.x[1]).toBeCloseTo(-1, 3);
    expect(result.evaluations).toBeLessThanOrEqual(400 + 2);
  });

  it('gets close to the Rosenbrock valley minimum (1, 1)', () => {
    const rosenbrock = ([x, y]: number[]) => 100 * (y! - x! ** 2) ** 2 + (1 - x!) ** 2;
    const result = nelderMead(rosenbrock, [-1.2, 1], { maxEvaluations: 2000, tolerance: 1e-14 });
    expect(result.value).toBeLessThan(1e-6);
  });

  it('treats NaN as +Infinity and walks away from the rejected region', () => {
    const result = nelderMead(([x]) => (x! < 0 ? Number.NaN : (x! - 2) ** 2), [1], { maxEvaluations: 200, tolerance: 1e-12 });
    expect(result.x[0]).toBeCloseTo(2, 3);
    expect(Number.isFinite(result.value)).toBe(true);
  });

  it('stops at the evaluation budget and never mutates the start', () => {
    const start = Object.freeze([5, 5, 5]);
    const result = nelderMead((x) => x.reduce((sum, v) => sum + v * v, 0), start, { maxEvaluations: 20, tolerance: 0 });
    expect(result.evaluations).toBeLessThanOrEqual(20 + 3);
    expect(start).toEqual([5, 5, 5]);
  });
});

describe('NormalEquations block updates', () => {
  it('a shared block of the first columns plus addColumnsFrom for the rest equals add of whole rows', () => {
    const rows = Array.from({ length: 40 }, (_, r) => [1, Math.sin(r), Math.cos(r / 3), r % 5, (r * 7) % 11 / 10]);
    const ys = rows.map((row, r) => 2 * (row[1] as number) - (row[4] as number) + 0.01 * r);
    const whole = new NormalEquations(5);
    rows.forEach((row, r) => whole.add(row, ys[r] as number));
    const block = new NormalEquations(5);
    rows.forEach((row, r) => block.add([...row.slice(0, 3), 0, 0], ys[r] as number));
    const split = block.clone();
    rows.forEach((row, r) => split.addColumnsFrom(row, ys[r] as number, 3));
    const a = whole.solve(1e-6, [0]) as Float64Array;
    const b = split.solve(1e-6, [0]) as Float64Array;
    a.forEach((value, i) => expect(b[i]).toBeCloseTo(value, 9));
    // plus() of two halves equals the whole
    const first = new NormalEquations(5);
    const second = new NormalEquations(5);
    rows.forEach((row, r) => (r < 20 ? first : second).add(row, ys[r] as number));
    const c = first.plus(second).solve(1e-6, [0]) as Float64Array;
    a.forEach((value, i) => expect(c[i]).toBeCloseTo(value, 9));
    expect(block.rows).toBe(40);
  });
});
