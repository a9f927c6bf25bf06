/**
 * Does this prescale accept `workers: 2`? Asks `prescale validate` (exit 0) with the setting at
 * the places it may live; returns the key that validated, or null with the validator's answer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './children.js';
import { prescaleYaml } from './configs.js';

export async function prescaleWorkersKey(root: string, dir: string): Promise<{ key: string | null; detail: string }> {
  let detail = '';
  for (const key of ['workers', 'listen.workers']) {
    const file = join(dir, `workers-check-${key.replace('.', '-')}.yaml`);
    writeFileSync(file, prescaleYaml({ port: 8080, backends: [3001, 3002], dir }, 9090, 2, key));
    const r = await runCommand(process.execPath, [join(root, 'bin/prescale.js'), 'validate', file], { cwd: root });
    if (r.code === 0) return { key, detail: `prescale validate accepts ${key}: 2` };
    detail = (r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' ');
  }
  return { key: null, detail: `prescale validate rejects workers: 2 (${detail})` };
}
