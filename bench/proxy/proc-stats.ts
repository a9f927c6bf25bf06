/**
 * CPU time and memory of a process and its descendants, read from Linux /proc (proc(5)):
 * `/proc/<pid>/stat` fields 14 and 15 (utime, stime, in clock ticks of 1/CLK_TCK s, 100 Hz on
 * Linux) and `/proc/<pid>/status` VmRSS / VmHWM (kB). Descendants (nginx's worker, cluster
 * workers) are found by scanning /proc for parent pids, since /proc/<pid>/task/<tid>/children
 * is not always compiled in.
 */
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100;

/** Parent pid of every process, from /proc/<pid>/stat field 4. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat !== null) out.set(pid, stat.ppid);
  }
  return out;
}

/** The pid and all its descendants (empty when the pid is gone). */
export function processTree(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const [child, parent] of parents()) {
    const list = byParent.get(parent) ?? [];
    list.push(child);
    byParent.set(parent, list);
  }
  if (readStat(pid) === null) return [];
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i] as number) ?? []));
  return out;
}

interface Stat {
  ppid: number;
  cpuTicks: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // the command name (field 2) may hold spaces and parentheses: split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
  return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Watches one process tree: CPU seconds consumed and resident memory. */
export class TreeStats {
  private pids: number[];

  constructor(readonly rootPid: number) {
    this.pids = processTree(rootPid);
  }

  /** Look for new descendants (call after start-up, e.g. once nginx forked its worker). */
  refresh(): void {
    this.pids = processTree(this.rootPid);
  }

  /** utime + stime of the whole tree so far, in seconds. */
  cpuSeconds(): number {
    let ticks = 0;
    for (const pid of this.pids) ticks += readStat(pid)?.cpuTicks ?? 0;
    return ticks / CLK_TCK;
  }

  /** Sum of VmRSS over the tree now, MB (10^6 bytes). */
  rssMb(): number {
    let kb = 0;
    for (const pid of this.pids) kb += statusKb(pid, 'VmRSS');
    return (kb * 1024) / 1e6;
  }

  /** Sum of VmHWM (each process's peak RSS since it started) over the tree, MB. */
  peakRssMb(): number {
    let kb = 0;
    for (const pid of this.pids) kb += statusKb(pid, 'VmHWM');
    return (kb * 1024) / 1e6;
  }
}

/** Sample the tree's RSS every `everyMs` until stopped; `stop()` returns the largest sample in MB. */
export function sampleRss(stats: TreeStats, everyMs = 200): { stop(): number } {
  let max = stats.rssMb();
  const timer = setInterval(() => {
    const v = stats.rssMb();
    if (v > max) max = v;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = stats.rssMb();
      return v > max ? v : max;
    },
  };
}
