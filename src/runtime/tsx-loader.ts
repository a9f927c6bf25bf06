import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

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
