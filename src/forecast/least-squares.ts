/**
 * Ridge-regularised least squares through the normal equations, for the small dense problems of
 * the forecasting models (a few dozen coefficients, tens of thousands of rows).
 *
 * Minimises Σ (y_i - x_i·β)² + λ Σ_j w_j β_j², i.e. solves (XᵀX + λW) β = Xᵀy with a Cholesky
 * factorisation. W is 1 on the diagonal except for the columns listed as unpenalised (the
 * intercept). Rows are accumulated one at a time, so X is never materialised: O(p²) memory and
 * O(p²) per row, O(p³) per solve.
 *
 * Stability: the normal equations square the condition number, which is why the features should
 * be scaled to O(1) (the callers do) and why a ridge term is always added. A pivot that is not
 * positive (collinear columns, e.g. a lag column that is constant) retries with 100× the ridge,
 * up to 4 times, then gives up with `undefined`; the caller falls back to a simpler model.
 * Source: Golub & Van Loan, "Matrix Computations", 4th ed., §4.2 (Cholesky) and §6.1
 * (regularised least squares); Hastie, Tibshirani & Friedman, "The Elements of Statistical
 * Learning", 2nd ed., §3.4.1 (ridge regression).
 */
export class NormalEquations {
  /** Upper triangle of XᵀX, row-major p×p (the lower half is not kept up to date). */
  private readonly xtx: Float64Array;
  private readonly xty: Float64Array;
  /** Rows added so far. */
  rows = 0;

  constructor(readonly size: number) {
    this.xtx = new Float64Array(size * size);
    this.xty = new Float64Array(size);
  }

  /** Adds one observation: `row` has `size` finite features, `y` is finite. O(p²). */
  add(row: ArrayLike<number>, y: number): void {
    this.addColumnsFrom(row, y, 0);
    this.rows++;
  }

  /**
   * Adds the part of one observation's update that touches columns >= `from`: XᵀX entries
   * (i, j) with j >= from and Xᵀy entries i >= from. Together with `add` of the same rows on
   * the columns below `from` (a shared block, see `plus`) it equals `add`. Does not count the
   * row. O(p × (p − from)).
   */
  addColumnsFrom(row: ArrayLike<number>, y: number, from: number): void {
    const p = this.size;
    const xtx = this.xtx;
    for (let i = 0; i < p; i++) {
      const xi = row[i] as number;
      if (xi === 0) continue;
      const base = i * p;
      for (let j = Math.max(i, from); j < p; j++) xtx[base + j] = (xtx[base + j] as number) + xi * (row[j] as number);
      if (i >= from) this.xty[i] = (this.xty[i] as number) + xi * y;
    }
  }

  /** Adds another system of the same size in place (its rows counted too). O(p²). */
  plus(other: NormalEquations): this {
    for (let k = 0; k < this.xtx.length; k++) this.xtx[k] = (this.xtx[k] as number) + (other.xtx[k] as number);
    for (let k = 0; k < this.xty.length; k++) this.xty[k] = (this.xty[k] as number) + (other.xty[k] as number);
    this.rows += other.rows;
    return this;
  }

  /** An independent copy. O(p²). */
  clone(): NormalEquations {
    const copy = new NormalEquations(this.size);
    copy.xtx.set(this.xtx);
    copy.xty.set(this.xty);
    copy.rows = this.rows;
    return copy;
  }

  /**
   * Ridge solution β (length p), or undefined when no factorisation succeeded.
   * @param ridge λ as a fraction of the mean diagonal of XᵀX (scale-free), e.g. 1e-3
   * @param unpenalized column indexes left out of the penalty (e.g. [0] for an intercept)
   */
  solve(ridge: number, unpenalized: readonly number[] = []): Float64Array | undefined {
    const p = this.size;
    if (this.rows === 0) return undefined;
    let meanDiagonal = 0;
    for (let i = 0; i < p; i++) meanDiagonal += (this.xtx[i * p + i] as number) / p;
    const base = meanDiagonal > 0 && Number.isFinite(meanDiagonal) ? meanDiagonal : 1;
    let lambda = Math.max(ridge, 1e-12) * base;
    for (let attempt = 0; attempt < 5; attempt++, lambda *= 100) {
      const a = this.regularised(lambda, unpenalized, base * 1e-12);
      if (choleskyInPlace(a, p)) return choleskySolve(a, p, this.xty);
    }
    return undefined;
  }

  private regularised(lambda: number, unpenalized: readonly number[], jitter: number): Float64Array {
    const p = this.size;
    const a = new Float64Array(p * p);
    for (let i = 0; i < p; i++) {
      for (let j = i; j < p; j++) {
        const v = this.xtx[i * p + j] as number;
        a[i * p + j] = v;
        a[j * p + i] = v;
      }
      a[i * p + i] = (a[i * p + i] as number) + (unpenalized.includes(i) ? jitter : lambda);
    }
    return a;
  }
}

/**
 * Overwrites the lower triangle of the symmetric p×p matrix `a` with L, A = LLᵀ.
 * @returns false when a pivot is not positive and finite (A not positive definite)
 */
export function choleskyInPlace(a: Float64Array, p: number): boolean {
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j] as number;
    for (let k = 0; k < j; k++) d -= (a[j * p + k] as number) ** 2;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j] as number;
      for (let k = 0; k < j; k++) s -= (a[i * p + k] as number) * (a[j * p + k] as number);
      a[i * p + j] = s / ljj;
    }
  }
  return true;
}

/** Solves LLᵀx = b for the factor in the lower triangle of `l`. O(p²). */
export function choleskySolve(l: Float64Array, p: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from({ length: p }, (_, i) => b[i] as number);
  for (let i = 0; i < p; i++) {
    let s = x[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * p + k] as number) * (x[k] as number);
    x[i] = s / (l[i * p + i] as number);
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = x[i] as number;
    for (let k = i + 1; k < p; k++) s -= (l[k * p + i] as number) * (x[k] as number);
    x[i] = s / (l[i * p + i] as number);
  }
  return x;
}
