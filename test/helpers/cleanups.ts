import { afterEach } from 'vitest';

/**
 * Per-test cleanup for things with `close()`: call in a test file's top level, then wrap each
 * start in `track(...)`; everything tracked is closed after each test, newest first.
 */
export function trackedCleanups(): <T extends { close(): Promise<void> }>(x: Promise<T>) => Promise<T> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return async (x) => {
    const v = await x;
    cleanups.push(() => v.close());
    return v;
  };
}
