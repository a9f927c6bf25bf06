import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One SVG the dashboard can open (written by `prescale backtest --plot` or `simulate --plot`). */
export interface PlotEntry {
  /** File name inside the plots directory, e.g. `simulate-predictive.svg`. */
  name: string;
  bytes: number;
  /** Last modification, epoch ms. */
  modifiedMs: number;
}

/** Plain file names only: a letter or digit first, then letters, digits, `.`, `_`, `-`, ending in `.svg`. */
const PLOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.svg$/;

/** Listing cap, so a directory of thousands of files cannot make one request expensive. */
export const MAX_PLOTS_LISTED = 500;

/**
 * True when `name` may name a plot: no separator, no leading dot, no `..`, no NUL, no percent
 * sign or other character that could be decoded into one, `.svg` suffix. Checked before any
 * file system access.
 */
export function isPlotName(name: string): boolean {
  return PLOT_NAME.test(name) && !name.includes('..');
}

/**
 * The real path of plot `name` in `dir`, or null when it must not be served: an unsafe name
 * (isPlotName), a missing directory or file, something that is not a regular file, or a
 * symbolic link that resolves outside `dir` (the file's real parent must be the directory's real
 * path, so links to elsewhere and `dir` paths through links are both handled). Never throws for
 * a missing or unreadable file; other file system errors propagate.
 */
export async function resolvePlot(dir: string, name: string): Promise<string | null> {
  if (!isPlotName(name)) return null;
  const root = await realOrNull(dir);
  if (root === null) return null;
  const real = await realOrNull(join(root, name));
  if (real === null || dirname(real) !== root) return null;
  const info = await stat(real).catch(() => null);
  return info?.isFile() ? real : null;
}

/**
 * The plots in `dir` (not its subdirectories), newest first, at most MAX_PLOTS_LISTED; [] when
 * the directory does not exist. Only names `resolvePlot` would serve are listed. O(files).
 */
export async function listPlots(dir: string): Promise<PlotEntry[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [] as string[];
    throw err;
  });
  const entries: PlotEntry[] = [];
  for (const name of names.filter(isPlotName).slice(0, MAX_PLOTS_LISTED * 2)) {
    const real = await resolvePlot(dir, name);
    if (real === null) continue;
    const info = await stat(real).catch(() => null);
    if (info) entries.push({ name, bytes: info.size, modifiedMs: Math.round(info.mtimeMs) });
  }
  entries.sort((a, b) => b.modifiedMs - a.modifiedMs || a.name.localeCompare(b.name));
  return entries.slice(0, MAX_PLOTS_LISTED);
}

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EACCES') return null;
    throw err;
  }
}
