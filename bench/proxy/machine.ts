/** Facts about the machine and the tools a benchmark result depends on. */
import { cpus, loadavg, totalmem } from 'node:os';
import { runCommand } from './children.js';
import { findBinary } from './contenders.js';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memGb: number;
  kernel: string;
  node: string;
  nginx: string;
  haproxy: string;
  wrk: string;
  /** 1-minute load average at start and end: other work on the machine makes numbers noisy. */
  loadAvgStart: number;
  loadAvgEnd?: number;
}

async function version(bin: string, args: string[], pattern: RegExp): Promise<string> {
  const path = findBinary(bin);
  if (path === undefined) return 'missing';
  const r = await runCommand(path, args);
  const m = pattern.exec(`${r.stdout}\n${r.stderr}`);
  return m ? (m[1] as string) : 'unknown';
}

/** nproc, CPU model, memory, kernel, tool versions ('missing' when not installed) and the load average now. */
export async function machineFacts(): Promise<MachineFacts> {
  const kernel = await runCommand('uname', ['-r']);
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memGb: Math.round(totalmem() / 1e8) / 10,
    kernel: kernel.stdout.trim(),
    node: process.version,
    nginx: await version('nginx', ['-v'], /nginx\/(\S+)/),
    haproxy: await version('haproxy', ['-v'], /HAProxy version (\S+)/),
    wrk: await version('wrk', ['-v'], /wrk (\S+)/),
    loadAvgStart: loadavg()[0] as number,
  };
}
