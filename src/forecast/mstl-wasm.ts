import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initSync } from '@bsull/augurs/mstl';

/**
 * Synchronous start-up of the WebAssembly module behind `@bsull/augurs/mstl`.
 *
 * The package's default export fetches `mstl_bg.wasm` by URL, which Node's fetch cannot do for
 * a file: URL, and it is async, while ForecastModel.forecast is synchronous. So the bytes are
 * read from node_modules (next to the package's mstl.js, found with require.resolve) and
 * compiled with `initSync`, once per thread (each worker thread has its own instance). About
 * 10 ms and 330 kB. Source: wasm-bindgen's generated `initSync` (augurs 0.10.2, mstl.js).
 *
 * @returns undefined once the module is ready, or why it could not start (the reason is kept:
 *   a module that failed once is not retried). Never throws.
 */
export function ensureMstlWasm(): string | undefined {
  if (state === undefined) state = start();
  return state.ok ? undefined : state.reason;
}

let state: { ok: true } | { ok: false; reason: string } | undefined;

function start(): { ok: true } | { ok: false; reason: string } {
  try {
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('@bsull/augurs/mstl')), 'mstl_bg.wasm');
    initSync({ module: readFileSync(file) });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `augurs MSTL WebAssembly did not start: ${describeError(err)}` };
  }
}

/** augurs throws strings (wasm-bindgen JsError text) as well as Errors; one line either way. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
