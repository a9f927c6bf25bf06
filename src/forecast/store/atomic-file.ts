import { syncDir } from '../../runtime/sync-dir.js';
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Marker in every temp name; names holding it are never a model id, a pointer or meta.json. */
export const TEMP_MARKER = '.tmp-';

/** A fresh temp name in `dir` for `name`: `.NAME.tmp-PID-RANDOM` (hidden, never a valid id). */
export function tempPath(dir: string, name: string): string {
  return join(dir, `.${name}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Replace `path` with `data` atomically: write a temp file in the same directory, fsync it,
 * rename it over `path` (atomic on POSIX file systems), then fsync the directory so the rename
 * survives a crash. A reader sees the old content or the new, never a mix; a crash before the
 * rename leaves at most a hidden temp file (TEMP_MARKER) that nothing reads. On an error the
 * temp file is removed and the error is rethrown (the node:fs error, unchanged).
 * Source: the write-fsync-rename-fsync(dir) sequence of LWN "Ensuring data reaches disk" (2011).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = tempPath(dir, basename(path));
  try {
    await writeFileSynced(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** Create `path` (it must not exist) with `data` and fsync it before resolving. */
export async function writeFileSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export { syncDir };
