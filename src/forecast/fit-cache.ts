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
}

/** A cache hit: the entry and how many intervals the new history extends it by. */
export interface CacheHit<T> {
  entry: CachedFit<T>;
  /** Newer intervals at the end of the history that the entry has not seen, >= 0. */
  shift: number;
}

/** Default length of the content signature; 64 intervals repeat exactly only in degenerate data. */
export const SIGNATURE_LENGTH = 64;

export class FitCache<T> {
  private entries: CachedFit<T>[] = [];

  /**
   * @param maxAgeIntervals a fit is reused while fewer than this many intervals have passed
   *   since it was made (integer >= 1), e.g. one day of intervals
   * @param capacity entries kept, newest first (2 lets a caller step back to an older origin
   *   once without refitting)
   */
  constructor(
    private readonly maxAgeIntervals: number,
    private readonly capacity = 2,
    private readonly signatureLength = SIGNATURE_LENGTH,
  ) {}

  /** The usable entry with the smallest shift, or undefined (refit). */
  lookup(history: readonly number[]): CacheHit<T> | undefined {
    let best: CacheHit<T> | undefined;
    for (const entry of this.entries) {
      const maxShift = this.maxAgeIntervals - 1 - entry.ageIntervals;
      const shift = uniqueShift(history, entry.signature, maxShift);
      if (shift !== undefined && (best === undefined || shift < best.shift)) best = { entry, shift };
    }
    return best;
  }

  /** Stores `value` for `history` (newest first), evicting the oldest entry beyond capacity. */
  store(history: readonly number[], value: T, ageIntervals = 0): void {
    const signature = history.slice(Math.max(0, history.length - this.signatureLength));
    this.entries = [{ value, signature, ageIntervals }, ...this.entries].slice(0, this.capacity);
  }

  /** Replaces a hit's entry by one advanced to `history` (the model moved its state forward). */
  advance(hit: CacheHit<T>, history: readonly number[], value: T): void {
    this.entries = this.entries.filter((entry) => entry !== hit.entry);
    this.store(history, value, hit.entry.ageIntervals + hit.shift);
  }

  clear(): void {
    this.entries = [];
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
