import { open, type FileHandle } from 'node:fs/promises';

/** fsync a directory so created or renamed entries survive a crash (best effort). */
export async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or sync a directory; the file data is still synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
