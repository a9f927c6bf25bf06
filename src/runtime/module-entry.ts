import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * How to start another of our modules in a child process or a worker thread, the same way this
 * process runs:
 *
 * - compiled: from the dist/ tree that `npm run build` (scripts/build.mjs) writes, with plain
 *   node. This is what `prescale` runs once built (bin/prescale.js), and it saves tsx's loader
 *   (about 35 MB of RSS per process and per worker thread).
 * - from source: src/*.ts through tsx's loader (development, and vitest's own imports).
 *
 * The mode is read from this module's own URL, so a whole tree is always one or the other.
 */
export const RUNS_COMPILED = import.meta.url.endsWith('.js');

/** The extension our modules have in the running tree: '.js' compiled, '.ts' from source. */
const OWN_EXTENSION = RUNS_COMPILED ? '.js' : '.ts';

/**
 * Absolute URL of tsx's loader, for `--import` in child processes and worker threads that run
 * our TypeScript sources, whatever their working directory. Falls back to the bare specifier.
 */
export function tsxLoaderUrl(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}

/** A module to run as a child process: its file path and the node flags it needs. */
export interface ProcessEntry {
  /** Absolute file path (for `child_process.fork` or `cluster.setupPrimary({ exec })`). */
  path: string;
  /** `[]` when compiled; `['--import', <tsx loader>]` from source. */
  execArgv: string[];
}

/**
 * The child-process entry for one of our modules.
 * @param specifier path relative to `base` WITHOUT extension, e.g. '../backend/sample-backend-main'
 * @param base the caller's `import.meta.url`
 */
export function processEntry(specifier: string, base: string): ProcessEntry {
  return {
    path: fileURLToPath(new URL(specifier + OWN_EXTENSION, base)),
    execArgv: RUNS_COMPILED ? [] : ['--import', tsxLoaderUrl()],
  };
}

/** A module to run as a worker thread: `new Worker(entry.url, { argv: entry.argv, ... })`. */
export interface WorkerEntry {
  url: URL;
  /** `[]` when compiled; from source, the module's URL for the bootstrap to import. */
  argv: string[];
}

/**
 * The worker-thread entry for one of our modules: the compiled module itself, or, from source,
 * tsx-worker-boot.mjs, which registers tsx in the thread first (loader hooks are per thread, and
 * worker threads do not accept `--import`) and then imports the module named in `argv`.
 * @param specifier path relative to `base` WITHOUT extension, e.g. './forecast-worker'
 * @param base the caller's `import.meta.url`
 */
export function workerEntry(specifier: string, base: string): WorkerEntry {
  const target = new URL(specifier + OWN_EXTENSION, base);
  return RUNS_COMPILED ? { url: target, argv: [] } : { url: new URL('./tsx-worker-boot.mjs', import.meta.url), argv: [target.href] };
}
