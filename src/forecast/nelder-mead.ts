/** Options of `nelderMead`. */
export interface NelderMeadOptions {
  /** Stop after this many objective evaluations, e.g. 200. */
  maxEvaluations: number;
  /** Stop when (f_worst - f_best) <= tolerance · (|f_best| + 1e-12), e.g. 1e-6. */
  tolerance: number;
  /** Edge length of the initial simplex along each axis; default 0.5 (unconstrained units). */
  initialStep?: number;
}

interface Vertex {
  x: number[];
  value: number;
}

/** The best point found and what it cost. */
export interface NelderMeadResult {
  x: number[];
  value: number;
  evaluations: number;
}

/**
 * Derivative-free minimisation of f: ℝᵈ → ℝ with the Nelder-Mead downhill simplex
 * (reflection 1, expansion 2, contraction ½, shrink ½). Non-finite objective values count as
 * +Infinity, so a caller can reject a region by returning NaN. Constrain parameters by mapping
 * from unconstrained coordinates inside f (holt-winters.ts uses a logistic map).
 *
 * Source: Nelder & Mead, "A simplex method for function minimization", Computer Journal 7
 * (1965); coefficients and the inside contraction as in Lagarias, Reeds, Wright & Wright,
 * SIAM J. Optim. 9 (1998). Cost: O(maxEvaluations × (cost of f + d)). Never throws; with d = 0
 * it returns f at the start.
 *
 * @param f objective; called with a fresh array each time
 * @param start initial point (not mutated)
 */
export function nelderMead(f: (x: number[]) => number, start: readonly number[], options: NelderMeadOptions): NelderMeadResult {
  const d = start.length;
  const step = options.initialStep ?? 0.5;
  let evaluations = 0;
  const evaluate = (x: number[]): number => {
    evaluations++;
    const value = f(x);
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  };
  const simplex: Vertex[] = [];
  for (let i = 0; i <= d; i++) {
    const x = [...start];
    if (i > 0) x[i - 1] = (x[i - 1] as number) + step;
    simplex.push({ x, value: evaluate(x) });
  }
  while (evaluations < options.maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0] as Vertex;
    const worst = simplex[d] as Vertex;
    const spread = worst.value - best.value;
    if (d === 0 || spread <= options.tolerance * (Math.abs(best.value) + 1e-12)) break;
    const centroid = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) {
      const vertex = simplex[i] as Vertex;
      for (let j = 0; j < d; j++) centroid[j] = (centroid[j] as number) + (vertex.x[j] as number) / d;
    }
    const along = (t: number): number[] => centroid.map((c, j) => c + t * (c - (worst.x[j] as number)));
    const secondWorst = (simplex[d - 1] as Vertex).value;
    const reflected = along(1);
    const reflectedValue = evaluate(reflected);
    if (reflectedValue < best.value) {
      const expanded = along(2);
      const expandedValue = evaluate(expanded);
      simplex[d] = expandedValue < reflectedValue ? { x: expanded, value: expandedValue } : { x: reflected, value: reflectedValue };
    } else if (reflectedValue < secondWorst) {
      simplex[d] = { x: reflected, value: reflectedValue };
    } else {
      const outside = reflectedValue < worst.value;
      const contracted = along(outside ? 0.5 : -0.5);
      const contractedValue = evaluate(contracted);
      if (contractedValue < (outside ? reflectedValue : worst.value)) {
        simplex[d] = { x: contracted, value: contractedValue };
      } else {
        for (let i = 1; i <= d; i++) {
          const x = (simplex[i] as Vertex).x.map((v, j) => (best.x[j] as number) + 0.5 * (v - (best.x[j] as number)));
          simplex[i] = { x, value: evaluate(x) };
        }
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  const best = simplex[0] as Vertex;
  return { x: [...best.x], value: best.value, evaluations };
}
