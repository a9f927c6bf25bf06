/** Start the benchmark backends process (backends-main.ts) and read the ports it listens on. */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startChild, type Child, type Cores } from './children.js';

export interface Backends {
  /** Two Node http keep-alive servers (paths /, /64k, /echo, /slow). */
  node: number[];
  /** Two cheap raw-socket responders (fixed 100-byte response). */
  cheap: number[];
  child: Child;
}

/** Start the backends on `cores`; resolves once they listen. Throws if the process dies first. */
export async function startBackends(root: string, cores: Cores, logFile: string): Promise<Backends> {
  const child = startChild('backends', process.execPath, ['--import', 'tsx', join(root, 'bench/proxy/backends-main.ts')], { cores, pipe: true, nofile: 65_536, cwd: root, logFile });
  const stdout = child.proc.stdout;
  if (stdout === null) throw new Error('backends: no stdout');
  const lines = createInterface({ input: stdout });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    child.exited.then((code) => {
      throw new Error(`backends exited (${code}) before listening; see ${logFile}`);
    }),
  ]);
  // keep draining so the pipe never fills
  lines.on('line', () => {});
  const ports = JSON.parse(first) as { node: number[]; cheap: number[] };
  return { ...ports, child };
}
