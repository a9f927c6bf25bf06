/**
 * The model-selection policy a service can run online ("auto"): at each forecast origin, use
 * the model with the lowest mean absolute error over the last `window` earlier origins whose
 * targets had already been observed at that origin. Never hindsight: the error of origin o'
 * at a horizon of s steps is known only once y[o' + s - 1] is, i.e. when o' + s - 1 < o.
 *
 * This is the rolling-origin selection of FPP3 §5.10 made causal (Tashman, IJF 16 (2000),
 * "updating" the choice as origins roll), the same rule select.ts applies per reselection.
 *
 * @param errors errors[m][k] = |y - ŷ| of model m at origin k (NaN when the target is not in
 *   the data; skipped); never mutated
 * @param origins origin k as a history length, strictly increasing
 * @param steps intervals ahead that are scored (>= 1)
 * @param window how many of the latest observed origins are averaged (>= 1)
 * @returns the chosen model index per origin; ties go to the lower index, and an origin with
 *   no observed past (or only NaN errors) gets model 0. O(origins × models × window).
 */
export function autoPicks(errors: readonly (readonly number[])[], origins: readonly number[], steps: number, window: number): number[] {
  const picks: number[] = [];
  let observed = 0; // origins[0, observed) have targets before the current origin
  for (let k = 0; k < origins.length; k++) {
    const origin = origins[k] as number;
    while (observed < k && (origins[observed] as number) + steps - 1 < origin) observed++;
    picks.push(lowestMeanError(errors, Math.max(0, observed - window), observed));
  }
  return picks;
}

/** Index of the model with the lowest mean error over origins [from, to) (NaN skipped); 0 if none. */
function lowestMeanError(errors: readonly (readonly number[])[], from: number, to: number): number {
  let best = 0;
  let bestError = Number.POSITIVE_INFINITY;
  errors.forEach((series, m) => {
    let sum = 0;
    let count = 0;
    for (let k = from; k < to; k++) {
      const error = series[k] as number;
      if (Number.isNaN(error)) continue;
      sum += error;
      count++;
    }
    const mean = count === 0 ? Number.POSITIVE_INFINITY : sum / count;
    if (mean < bestError) {
      best = m;
      bestError = mean;
    }
  });
  return best;
}
