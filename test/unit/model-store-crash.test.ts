import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPointer } from '../../src/forecast/store/pointers.js';
import { recordScenario } from '../helpers/reliability.js';

const root = new URL('../../', import.meta.url).pathname;
const SIZE = 4 << 20; // 4 MiB per write, so a kill lands mid-write often

/** A writer that alternates a big file and the current pointer until it is killed. */
const WRITER = `
import { join } from 'node:path';
import { writeFileAtomic } from '${root}src/forecast/store/atomic-file.ts';
import { setCurrent } from '${root}src/forecast/store/pointers.ts';
const dir = process.argv[2];
const contents = ['a'.repeat(${SIZE}), 'b'.repeat(${SIZE})];
for (let i = 0; ; i++) {
  await writeFileAtomic(join(dir, 'big'), contents[i % 2]);
  await setCurrent(dir, i % 2 === 0 ? 'a' : 'b');
  if (i === 1) process.stdout.write('running\\n');
}
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-crash-'));
  await writeFile(join(dir, 'writer.mts'), WRITER);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run the writer in `models` and SIGKILL it `afterMs` after it has written twice. */
function killWriter(models: string, afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'writer.mts'), models], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), afterMs));
    child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
  });
}

describe('atomic writes under a real crash (SIGKILL mid-write)', () => {
  it.each([5, 23, 61])('leaves the file and the pointers whole, old or new, when killed %i ms in', async (afterMs) => {
    const models = join(dir, `models-${afterMs}`);
    for (const id of ['a', 'b']) {
      await mkdir(join(models, id), { recursive: true });
      await writeFile(join(models, id, 'meta.json'), '{}');
    }
    await killWriter(models, afterMs);
    const big = await readFile(join(models, 'big'), 'utf8');
    expect(big.length).toBe(SIZE);
    expect(big === 'a'.repeat(SIZE) || big === 'b'.repeat(SIZE)).toBe(true);
    expect(['a', 'b']).toContain(await readPointer(models, 'current'));
    expect(['a', 'b']).toContain(await readPointer(models, 'previous'));
    // whatever the kill left behind is a hidden temp file, never a pointer or a model id
    const left = (await readdir(models)).filter((name) => !['a', 'b', 'big', 'current', 'previous'].includes(name));
    for (const name of left) expect(name).toMatch(/^\.(big|current|previous)\.tmp-\d+-[0-9a-f]{8}$/);
    recordScenario({ id: `model-write-sigkill-${afterMs}ms`, group: 'state and shutdown', scenario: `SIGKILL a process writing a 4 MiB model file and the current/previous pointers, ${afterMs} ms in`, load: 'writes in a loop (write temp, fsync, rename)', faults: `SIGKILL after ${afterMs} ms`, sent: 3, failed: 0, lost: 0, expectation: 'file and both pointers whole, old or new; leftovers only hidden temp files' });
  });
});
