import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The TensorFlow.js module, as `@tensorflow/tfjs` exports it. */
export type TensorFlow = typeof import('@tensorflow/tfjs');

/** Which compute backend trains the network. */
export type MlpBackendOption = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** A ready TensorFlow.js and the backend it runs on. */
export interface TensorFlowRuntime {
  tf: TensorFlow;
  /** 'tensorflow' (tfjs-node, native), 'wasm' or 'cpu'. */
  backend: string;
  /** Set when the backend asked for could not start and a slower one is used; says why. */
  fallback?: string;
}

/**
 * Loads TensorFlow.js on first use (it takes about half a second to import, so modules that
 * only forecast never pay for it) and selects the backend the MLP trains on:
 *
 * | option       | tries, in order                                                        |
 * |--------------|------------------------------------------------------------------------|
 * | 'auto'       | `@tensorflow/tfjs-node` if the user installed it, then 'wasm', then 'cpu' |
 * | 'tensorflow' | tfjs-node, then 'wasm', then 'cpu'                                      |
 * | 'wasm'       | 'wasm' (XNNPACK, SIMD when the runtime has it), then 'cpu'              |
 * | 'cpu'        | the plain-JavaScript backend                                            |
 *
 * tfjs-node is not a dependency: it is imported by a name TypeScript does not resolve, inside a
 * try, and a missing or broken native build just moves on. The WASM binaries are read from the
 * package's own dist/ folder (setWasmPaths with a file-system prefix; Emscripten reads it with
 * fs in Node). The runtime is chosen once per thread (TensorFlow.js keeps one global engine
 * per thread, and a WASM backend that failed to start cannot be retried), so later calls get
 * the same answer whatever they ask for. A fallback is reported in `fallback`.
 * @param wasmDirectory folder holding tfjs-backend-wasm*.wasm; default the installed package's dist/
 * @throws Error only when @tensorflow/tfjs itself cannot be imported or no backend starts
 */
export function loadTensorFlow(option: MlpBackendOption = 'auto', wasmDirectory?: string): Promise<TensorFlowRuntime> {
  runtime ??= start(option, wasmDirectory);
  return runtime;
}

let runtime: Promise<TensorFlowRuntime> | undefined;

async function start(option: MlpBackendOption, wasmDirectory: string | undefined): Promise<TensorFlowRuntime> {
  const tf = await import('@tensorflow/tfjs');
  const problems: string[] = [];
  if (option === 'auto' || option === 'tensorflow') {
    const problem = await tryNative(tf);
    if (problem === undefined) return { tf, backend: 'tensorflow' };
    if (option === 'tensorflow') problems.push(problem);
  }
  if (option !== 'cpu') {
    const problem = await tryWasm(tf, wasmDirectory);
    if (problem === undefined) return withFallback({ tf, backend: 'wasm' }, problems);
    problems.push(problem);
  }
  if (!(await tf.setBackend('cpu'))) throw new Error(`no TensorFlow.js backend started: ${[...problems, 'cpu did not start'].join('; ')}`);
  return withFallback({ tf, backend: 'cpu' }, problems);
}

function withFallback(result: TensorFlowRuntime, problems: readonly string[]): TensorFlowRuntime {
  if (problems.length > 0) result.fallback = `${problems.join('; ')}; training on ${result.backend}`;
  return result;
}

/** Imports tfjs-node when the user has it (it registers the 'tensorflow' backend). */
async function tryNative(tf: TensorFlow): Promise<string | undefined> {
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
    return (await tf.setBackend('tensorflow')) ? undefined : 'tfjs-node did not start';
  } catch (err) {
    return `tfjs-node is not available (${firstLine(err)})`;
  }
}

async function tryWasm(tf: TensorFlow, wasmDirectory: string | undefined): Promise<string | undefined> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const directory = wasmDirectory ?? dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(join(directory, '/'));
    return (await tf.setBackend('wasm')) ? undefined : `the wasm backend did not start (binaries in ${directory})`;
  } catch (err) {
    return `the wasm backend did not start (${firstLine(err)})`;
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
