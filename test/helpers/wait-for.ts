/**
 * Polls `check` every `everyMs` until it returns a value other than undefined/false, or
 * `timeoutMs` passes; returns the last value either way, so the test's own assertion reports
 * what was seen. For conditions that depend on timers (ticks, health checks) on a busy machine,
 * instead of a fixed sleep.
 */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await check();
  while ((value === undefined || value === false) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    value = await check();
  }
  return value;
}
