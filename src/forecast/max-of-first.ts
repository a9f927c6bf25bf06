/**
 * The largest of the first `count` values, never below 0 (the peak of a forecast over the
 * steps a decision looks at). A loop, not `Math.max(...spread)`, which overflows the call stack
 * for very long horizons (hundreds of thousands of steps). O(count).
 */
export function maxOfFirst(values: readonly number[], count: number): number {
  let max = 0;
  const end = Math.min(values.length, count);
  for (let i = 0; i < end; i++) if ((values[i] as number) > max) max = values[i] as number;
  return max;
}
