import { syncDir } from '../runtime/sync-dir.js';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PrescaleError } from '../errors.js';
import type { Bucket } from './traffic-series.js';

export { readTrafficLog } from './traffic-log-reader.js';

/** Default directory of the traffic log, relative to the working directory. */
export const DEFAULT_TRAFFIC_LOG_DIR = 'data/traffic';

/** Largest |epoch ms| a JavaScript Date can hold (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

/**
 * Durable per-day traffic log: NDJSON files `<dir>/YYYY-MM-DD.ndjson`, one per UTC day of a
 * bucket's startMs, one closed Bucket per line as JSON with an extra leading `"t"` field
 * (ISO time of startMs), e.g.
 * `{"t":"2025-01-02T03:04:00.000Z","startMs":1735787040000,"intervalMs":60000,"requests":12,...}`.
 *
 * Durability: each `append` writes its lines and fdatasyncs the file before resolving; a newly
 * created file also has its directory fsynced. If the previous run crashed mid-line, the next
 * append first terminates that torn line, so it costs only itself (readTrafficLog skips it).
 * Appends are serialised in call order through a promise chain; async I/O only.
 */
export class TrafficLog {
  readonly dir: string;
  private chain: Promise<void> = Promise.resolve();
  private current: { day: string; file: string; handle: FileHandle } | undefined;
  private dirReady = false;

  /** @param options.dir log directory, created on first append; default `data/traffic`. */
  constructor(options: { dir?: string } = {}) {
    this.dir = options.dir ?? DEFAULT_TRAFFIC_LOG_DIR;
  }

  /**
   * Append buckets durably, in call order. Buckets may span several UTC days; each goes to its
   * own day's file. An empty array resolves without touching the disk.
   * @throws PrescaleError PRESCALE_ERR_TRAFFIC_LOG (rejection) naming the file, when the
   *   directory or file cannot be created, written or synced, or a bucket has a non-finite startMs.
   */
  append(buckets: readonly Bucket[]): Promise<void> {
    let lines: string[];
    try {
      lines = buckets.map((b) => this.toLine(b)); // validate and snapshot now, in call order
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.chain.then(() => this.writeAll(buckets, lines));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Wait for pending appends, then close the open file. A later append reopens it. */
  close(): Promise<void> {
    const run = this.chain.then(() => this.closeCurrent());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private toLine(b: Bucket): string {
    if (!Number.isFinite(b.startMs) || Math.abs(b.startMs) > MAX_DATE_MS) {
      throw this.error(this.dir, `cannot log a bucket with startMs ${b.startMs}`);
    }
    return JSON.stringify({
      t: new Date(b.startMs).toISOString(),
      startMs: b.startMs,
      intervalMs: b.intervalMs,
      requests: b.requests,
      errors: b.errors,
      bytes: b.bytes,
      latencyP50Ms: b.latencyP50Ms,
      latencyP99Ms: b.latencyP99Ms,
      maxConcurrency: b.maxConcurrency,
      byBackend: b.byBackend,
    });
  }

  private async writeAll(buckets: readonly Bucket[], lines: string[]): Promise<void> {
    // Group consecutive buckets of the same UTC day into one write + one fdatasync.
    let i = 0;
    while (i < buckets.length) {
      const day = utcDay((buckets[i] as Bucket).startMs);
      let text = '';
      while (i < buckets.length && utcDay((buckets[i] as Bucket).startMs) === day) {
        text += `${lines[i] as string}\n`;
        i++;
      }
      await this.writeDay(day, text);
    }
  }

  private async writeDay(day: string, text: string): Promise<void> {
    const file = join(this.dir, `${day}.ndjson`);
    try {
      const handle = await this.handleFor(day, file);
      await handle.appendFile(text, 'utf8');
      await handle.datasync();
    } catch (err) {
      await this.closeCurrent().catch(() => undefined); // reopen cleanly on the next append
      throw this.error(file, `cannot append to traffic log ${file}: ${messageOf(err)}`, err);
    }
  }

  private async handleFor(day: string, file: string): Promise<FileHandle> {
    if (this.current?.day === day) return this.current.handle;
    await this.closeCurrent();
    if (!this.dirReady) {
      await mkdir(this.dir, { recursive: true });
      this.dirReady = true;
    }
    const handle = await open(file, 'a+');
    this.current = { day, file, handle };
    const { size } = await handle.stat();
    if (size === 0) {
      await syncDir(this.dir);
    } else {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await handle.appendFile('\n', 'utf8'); // terminate a torn line
    }
    return handle;
  }

  private async closeCurrent(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.dirReady = false;
    if (current !== undefined) await current.handle.close();
  }

  private error(file: string, message: string, cause?: unknown): PrescaleError {
    return new PrescaleError('PRESCALE_ERR_TRAFFIC_LOG', message, { cause, details: { file } });
  }
}

/** `YYYY-MM-DD` of the UTC day holding epoch ms `timeMs`. */
export function utcDay(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10);
}


function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
