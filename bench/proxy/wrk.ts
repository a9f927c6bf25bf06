/**
 * Drive a target with wrk (https://github.com/wg/wrk) and parse its report: requests per second,
 * the `--latency` percentiles, socket errors and non-2xx/3xx responses.
 */
import { runCommand, type Cores } from './children.js';

export interface WrkResult {
  requests: number;
  rps: number;
  /** Latency percentiles from `--latency`, ms. */
  p50Ms: number;
  p99Ms: number;
  /** Socket errors (connect + read + write + timeout) plus non-2xx/3xx responses. */
  errors: number;
  socketErrors: number;
  non2xx: number;
}

export interface WrkOptions {
  url: string;
  durationS: number;
  connections: number;
  threads?: number;
  /** Lua script (e.g. the POST body), a file path. */
  script?: string;
  cores?: Cores;
}

/** The wrk command line for these options (also printed in the report). */
export function wrkArgs(o: WrkOptions): string[] {
  return [`-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', ...(o.script ? ['-s', o.script] : []), o.url];
}

/** Run wrk to completion. Throws when wrk fails or prints no summary. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const { code, stdout, stderr } = await runCommand('wrk', wrkArgs(o), { cores: o.cores });
  if (code !== 0) throw new Error(`wrk exited ${code}: ${stderr.trim() || stdout.trim()}`);
  return parseWrk(stdout);
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Parse wrk 4's text report. Throws when the summary lines are missing. */
export function parseWrk(out: string): WrkResult {
  const requests = /(\d+) requests in/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!requests || !rps) throw new Error(`unexpected wrk output:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? durationMs(m[1] as string) : Number.NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  const non = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const non2xx = non ? Number(non[1]) : 0;
  return {
    requests: Number(requests[1]),
    rps: Number(rps[1]),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    errors: socketErrors + non2xx,
    socketErrors,
    non2xx,
  };
}
