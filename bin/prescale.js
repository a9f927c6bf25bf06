#!/usr/bin/env node
// Entry point. Runs the compiled CLI from dist/ (`npm run build`; `npm ci` builds it as
// `prepare`) while dist/ is at least as new as every file under src/; otherwise, or with
// PRESCALE_FROM_SOURCE=1, registers the TypeScript loader (tsx) and runs src/ directly, so an
// edited source tree is never shadowed by a stale build. Child processes and worker threads
// follow the same mode (src/runtime/module-entry.ts).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** mtime (ms) of dist/.build-stamp, or -1 without a build. */
function builtAtMs() {
  try {
    return statSync(join(root, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return -1;
  }
}

/** Whether any file under src/ changed after `stampMs` (about 200 stats: a few ms). */
function sourceNewerThan(stampMs) {
  try {
    for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > stampMs) return true;
    }
    return false;
  } catch {
    return false; // an installed package ships dist/ without src/
  }
}

const stampMs = process.env.PRESCALE_FROM_SOURCE === '1' ? -1 : builtAtMs();
let cli;
if (stampMs >= 0 && !sourceNewerThan(stampMs)) {
  cli = await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli.ts');
}
await cli.main(process.argv);
