/**
 * Gap handling for request-count series. A gap is any non-finite entry (NaN, ±Infinity), e.g.
 * an interval the recorder missed. Models either skip gaps (residuals, regression points) or
 * fill them with these helpers; none of them copies more than the tail it is asked for.
 */

/** A tail of a series with its gaps filled, and how many entries were real observations. */
export interface FilledTail {
  /** Length = end - start; finite. */
  values: number[];
  /** Entries of history[start, end) that were finite (0 means the whole tail was a gap). */
  finiteCount: number;
}

/**
 * Copies history[start, end) and fills each gap with the last observation before it (LOCF).
 * Gaps at the front take the last finite value before `start`, else the first finite value in
 * the tail (next observation carried backward); a tail with no finite value becomes zeros.
 *
 * @param history series, oldest first; never mutated
 * @param start first index, clamped to [0, history.length]
 * @param end one past the last index, clamped to [start, history.length]
 * Cost O(end - start), plus a backward scan that stops at the first finite value before `start`
 * (O(start) only when everything before the tail is a gap).
 */
export function filledTail(history: readonly number[], start: number, end: number): FilledTail {
  const from = Math.max(0, Math.min(start, history.length));
  const to = Math.max(from, Math.min(end, history.length));
  const values = new Array<number>(to - from);
  let carry = lastFiniteBefore(history, from);
  let finiteCount = 0;
  let leadingGaps = 0;
  for (let i = from; i < to; i++) {
    const value = history[i] as number;
    if (Number.isFinite(value)) {
      if (carry === undefined) {
        values.fill(value, 0, leadingGaps);
      }
      carry = value;
      finiteCount++;
      values[i - from] = value;
    } else if (carry === undefined) {
      leadingGaps++;
      values[i - from] = 0;
    } else {
      values[i - from] = carry;
    }
  }
  return { values, finiteCount };
}

/**
 * The last finite value strictly before index `before`, or undefined when there is none.
 * Cost O(distance to that value).
 */
export function lastFiniteBefore(history: readonly number[], before: number): number | undefined {
  for (let i = Math.min(before, history.length) - 1; i >= 0; i--) {
    const value = history[i] as number;
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}
