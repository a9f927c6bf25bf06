#!/usr/bin/env node
// `npm run build` (also run by `npm ci` as `prepare`): transpiles src/**/*.ts to dist/ with
// esbuild, one ES module per file (no bundling, so module paths and import.meta.url keep their
// layout), source maps next to them; other files under src/ (the dashboard's public/ assets) are
// copied as they are. Types are checked by `npm run typecheck`, not here.
// bin/prescale.js runs dist/ while it is at least as new as every file under src/ (and falls back
// to src/ with tsx otherwise), so the stamp is written last. `--out DIR` (relative to the
// repository root, one level below it so relative paths such as ../../data keep working) builds
// elsewhere; the tests use it to check a compiled tree without touching dist/.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' } } });
const dist = join(root, values.out);

const entryPoints = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => join(entry.parentPath, entry.name));

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: dist,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
cpSync(src, dist, { recursive: true, filter: (path) => !path.endsWith('.ts') && !path.endsWith('-boot.mjs') });
writeFileSync(join(dist, '.build-stamp'), `${new Date().toISOString()}\n`);
console.error(`build: ${entryPoints.length} modules from ${relative(root, src)}/ to ${relative(root, dist)}/ in ${Date.now() - started} ms`);
