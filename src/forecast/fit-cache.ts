/**
 * A cache of fitted model state that survives being called every interval with a history that
 * grows (or slides, like a ring buffer) between calls.
 *
 * A model is handed only `history`, never a clock, and the history it sees may be a sliding
 * tail (select.ts slices it per origin; the live series is a ring). So a fit is not keyed by
 * history length but anchored by content: its `signature` is the last `signatureLength` values
 * of the history it was made from. On a later call the cache looks for that signature ending
 * `shift` = 0, 1, …, maxAge - 1 - age intervals before the end of the new history; a unique
 * match says "this history is the fitted one plus `shift` newer intervals", which also tells
 * the model how far to move its time index (the phase of its seasonal terms). No match, more
 * than one match (a locally constant or repeating tail, where the phase would be ambiguous),
 * or a fit older than `maxAgeIntervals` is a miss and the model refits. A history that ends
 * before the fitted one never matches, so a fit never sees data after the caller's origin.
 *
 * Gaps (non-finite values) compare equal to each other. Cost of `lookup`: O(entries × maxAge)
 * comparisons, almost all of which stop at the first value.
 */
export interface CachedFit<T> {
  /** What the model stored (coefficients, state, residuals). */
  readonly value: T;
  /** The last values of the history the value belongs to. */
  readonly signature: readonly number[];
  /** Intervals between the fit and the end of `signature` (0 right after fitting). */
  readonly ageIntervals: number;
  /** Which fit this entry belongs to (a fit and its moved-forward copy share it). */
  readonly fitId: number;
}

/** A cache hit: the entry and how many intervals the new history extends it by. */
export interface CacheHit<T> {
  entry: CachedFit<T>;
  /** Newer intervals at the end of the history that the entry has not seen, >= 0. */
  shift: number;
}

/** Default length of the content signature; 64 intervals repeat exactly only in degenerate data. */
export const SIGNATURE_LENGTH = 64;

/**
 * Keeps the last `fits` fits, each as its original entry (where it was fitted) plus at most one
 * moved-forward copy (`advance`, for models with a state such as Holt-Winters). The original
 * lets a caller step back to an older origin (select.ts evaluates origins oldest first, then
 * the forecaster forecasts at the newest) without a refit; the copy makes the next call cheap.
 */
export class FitCache<T> {
  private entries: CachedFit<T>[] = [];
  private nextFitId = 0;

  /**
   * @param maxAgeIntervals a fit is reused while fewer than this many intervals have passed
   *   since it was made (integer >= 1), e.g. one day of intervals
   * @param fits fits kept, newest first
   */
  constructor(
    private readonly maxAgeIntervals: number,
    private readonly fits = 2,
    private readonly signatureLength = SIGNATURE_LENGTH,
  ) {}

  /** The usable entry with the smallest shift, or undefined (refit). */
  lookup(history: readonly number[]): CacheHit<T> | undefined {
    let best: CacheHit<T> | undefined;
    for (const entry of this.entries) {
      const maxShift = this.maxAgeIntervals - 1 - entry.ageIntervals;
      if (best !== undefined && best.shift === 0) break;
      const shift = uniqueShift(history, entry.signature, maxShift);
      if (shift !== undefined && (best === undefined || shift < best.shift)) best = { entry, shift };
    }
    return best;
  }

  /** Stores a new fit of `history`, forgetting fits beyond the newest `fits`. */
  store(history: readonly number[], value: T): void {
    const fitId = this.nextFitId++;
    this.entries = [{ value, signature: this.signatureOf(history), ageIntervals: 0, fitId }, ...this.entries];
    const kept: number[] = [];
    for (const entry of this.entries) {
      if (!kept.includes(entry.fitId) && kept.length < this.fits) kept.push(entry.fitId);
    }
    this.entries = this.entries.filter((entry) => kept.includes(entry.fitId));
  }

  /** Records the hit's fit moved forward to `history`, replacing its previous moved copy. */
  advance(hit: CacheHit<T>, history: readonly number[], value: T): void {
    if (hit.shift === 0) return;
    const { fitId } = hit.entry;
    const moved: CachedFit<T> = {
      value,
      signature: this.signatureOf(history),
      ageIntervals: hit.entry.ageIntervals + hit.shift,
      fitId,
    };
    const others = this.entries.filter((entry) => entry.fitId !== fitId || entry.ageIntervals === 0);
    this.entries = [moved, ...others];
  }

  private signatureOf(history: readonly number[]): number[] {
    return history.slice(Math.max(0, history.length - this.signatureLength));
  }
}

/**
 * The only shift s in [0, maxShift] with history[n - s - k, n - s) equal to `signature`
 * (k = signature length), or undefined when there is none or more than one. A signature
 * shorter than 8 values is too weak to anchor on and never matches.
 */
export function uniqueShift(history: readonly number[], signature: readonly number[], maxShift: number): number | undefined {
  const k = signature.length;
  if (k < 8) return undefined;
  let found: number | undefined;
  for (let shift = 0; shift <= maxShift; shift++) {
    const end = history.length - shift;
    if (end < k) break;
    if (matchesAt(history, signature, end - k)) {
      if (found !== undefined) return undefined;
      found = shift;
    }
  }
  return found;
}

function matchesAt(history: readonly number[], signature: readonly number[], start: number): boolean {
  for (let i = signature.length - 1; i >= 0; i--) {
    const a = history[start + i] as number;
    const b = signature[i] as number;
    if (a !== b && (Number.isFinite(a) || Number.isFinite(b))) return false;
  }
  return true;
}
