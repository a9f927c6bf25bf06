/**
 * Seeded random draws for tests, so every noisy case and every randomised balancer run
 * reproduces exactly. Pure functions of the seed; no global state.
 */

export { seededRandom as mulberry32 } from '../../src/runtime/seeded-random.js';
import { seededRandom as mulberry32 } from '../../src/runtime/seeded-random.js';

/** One standard normal draw (Box-Muller) from two uniform draws of `uniform`. */
export function standardNormal(uniform: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Standard normal draws (Box-Muller) from a seeded PRNG. */
export function normalDraws(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => standardNormal(uniform);
}

/**
 * Poisson draws with a given mean from a seeded PRNG: Knuth's multiplication method for means
 * up to 500, a rounded normal approximation (clamped at 0) above, where e^-mean would underflow.
 */
export function poissonDraws(seed: number): (mean: number) => number {
  const uniform = mulberry32(seed);
  return (mean) => {
    if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * standardNormal(uniform)));
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = uniform(); p > limit; p *= uniform()) k++;
    return k;
  };
}
