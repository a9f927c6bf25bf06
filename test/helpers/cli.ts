import { execFile } from 'node:child_process';

const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;

/** What one CLI run gave: its exit status (null when killed) and output. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `prescale <args>` as a real child process; resolves with the exit status and output
 * whatever the status, never rejects. `env` defaults to this process's; `timeoutMs` caps the run.
 */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}
