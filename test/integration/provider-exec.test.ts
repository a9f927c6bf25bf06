import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { ExecProvider, type ExecProviderOptions } from '../../src/scaler/providers/exec.js';

const dir = mkdtempSync(join(tmpdir(), 'prescale-exec-'));
const providers: ExecProvider[] = [];

/** The user command: a fleet kept in $FLEET_STATE; every request is appended to $FLEET_STATE.log. */
const FLEET = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const file = process.env.FLEET_STATE;
appendFileSync(file + '.log', JSON.stringify(request) + '\\n');
const state = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { seq: 0, instances: [] };
if (request.action === 'describe') {
  const bootMs = Number(process.env.FLEET_BOOT_MS ?? 0);
  const instances = state.instances.map((i) => {
    const running = Date.now() - i.requestedAtMs >= bootMs;
    const out = { id: i.id, url: running ? 'http://127.0.0.1:' + (20000 + i.n) : null, state: running ? 'running' : 'provisioning' };
    return process.env.FLEET_OMIT_REQUESTED ? out : { ...out, requestedAtMs: i.requestedAtMs };
  });
  process.stdout.write(JSON.stringify({ instances }));
} else {
  state.instances = state.instances.filter((i) => !request.remove.includes(i.id));
  while (state.instances.length > request.desired) state.instances.pop();
  while (state.instances.length < request.desired) {
    state.seq += 1;
    state.instances.push({ id: 'vm-' + state.seq, n: state.seq, requestedAtMs: Date.now() });
  }
  writeFileSync(file, JSON.stringify(state));
  console.error('set-desired done');
  process.stdout.write(JSON.stringify({ ok: true }) + '\\n');
}
`;

const scripts = {
  'fleet.mjs': FLEET,
  'fail.mjs': `console.error('starting'); console.error('boom: quota exceeded for project demo'); process.exit(3);`,
  'garbage.mjs': `process.stdin.resume(); process.stdout.write('hello, this is not json');`,
  'bad-shape.mjs': `process.stdout.write(JSON.stringify({ instances: [{ id: 'a', url: null, state: 'provisioning' }, { id: 'b', url: null, state: 'booting' }] }));`,
  'running-no-url.mjs': `process.stdout.write(JSON.stringify({ instances: [{ id: 'a', url: null, state: 'running' }] }));`,
  'refuse.mjs': `process.stdout.write(JSON.stringify({ ok: false, error: 'quota exceeded' }));`,
  // holds stdout open through a grandchild too, so only killing the process group ends the call
  'slow.mjs': `
    import { spawn } from 'node:child_process';
    import { writeFileSync } from 'node:fs';
    const grandchild = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
    writeFileSync(process.env.PID_FILE, String(grandchild.pid));
    console.error('thinking...');
    setTimeout(() => process.stdout.write('{"ok":true}'), 30000);`,
};
for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, name), text);

function exec(script: keyof typeof scripts, overrides: Partial<ExecProviderOptions> = {}): ExecProvider {
  const p = new ExecProvider({ command: process.execPath, args: [join(dir, script)], timeoutMs: 5_000, ...overrides });
  providers.push(p);
  return p;
}

async function failure(call: Promise<unknown>): Promise<PrescaleError> {
  const error = await call.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(PrescaleError);
  expect((error as PrescaleError).code).toBe('PRESCALE_ERR_PROVIDER');
  return error as PrescaleError;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('ExecProvider', () => {
  it('scales a fleet kept by the command: set-desired then describe round-trip over stdin/stdout', async () => {
    const state = join(dir, 'round-trip.json');
    const p = exec('fleet.mjs', { env: { FLEET_STATE: state } });
    expect(await p.describe()).toEqual({ instances: [] });

    const beforeMs = Date.now();
    await p.setDesired(3);
    const { instances } = await p.describe();
    expect(instances.map((i) => [i.id, i.state, i.url])).toEqual([
      ['vm-1', 'running', 'http://127.0.0.1:20001'],
      ['vm-2', 'running', 'http://127.0.0.1:20002'],
      ['vm-3', 'running', 'http://127.0.0.1:20003'],
    ]);
    for (const i of instances) expect(i.requestedAtMs).toBeGreaterThanOrEqual(beforeMs);

    await p.setDesired(2, { remove: ['vm-2'] });
    expect((await p.describe()).instances.map((i) => i.id)).toEqual(['vm-1', 'vm-3']);
    await p.setDesired(2);
    expect((await p.describe()).instances.map((i) => i.id)).toEqual(['vm-1', 'vm-3']);

    const requests = readFileSync(`${state}.log`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(requests).toEqual([
      { action: 'describe' },
      { action: 'set-desired', desired: 3, remove: [] },
      { action: 'describe' },
      { action: 'set-desired', desired: 2, remove: ['vm-2'] },
      { action: 'describe' },
      { action: 'set-desired', desired: 2, remove: [] },
      { action: 'describe' },
    ]);
  });

  it('reports provisioning instances without a url, and stamps a missing requestedAtMs with the time first seen', async () => {
    const p = exec('fleet.mjs', { env: { FLEET_STATE: join(dir, 'booting.json'), FLEET_BOOT_MS: '60000', FLEET_OMIT_REQUESTED: '1' } });
    await p.setDesired(1);
    const first = await p.describe();
    expect(first.instances.map((i) => [i.id, i.state, i.url])).toEqual([['vm-1', 'provisioning', null]]);
    const seenMs = first.instances[0]?.requestedAtMs ?? 0;
    expect(Math.abs(Date.now() - seenMs)).toBeLessThan(5_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await p.describe()).instances[0]?.requestedAtMs).toBe(seenMs);
  });

  it('fails with the command, exit code and stderr tail when the command exits non-zero', async () => {
    const err = await failure(exec('fail.mjs').setDesired(4));
    expect(err.message).toContain(`exec provider \`${process.execPath} ${join(dir, 'fail.mjs')}\``);
    expect(err.message).toContain('exited with code 3 during set-desired');
    expect(err.message).toContain('boom: quota exceeded for project demo');
    expect(err.details).toMatchObject({ action: 'set-desired', exitCode: 3 });
  });

  it('kills the command and its process group when it runs past timeoutMs', async ({ expect }) => {
    const pidFile = join(dir, 'grandchild.pid');
    const p = exec('slow.mjs', { timeoutMs: 700, env: { PID_FILE: pidFile } });
    const startMs = Date.now();
    const err = await failure(p.describe());
    const elapsedMs = Date.now() - startMs;
    expect(elapsedMs).toBeGreaterThanOrEqual(650);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(err.message).toMatch(/did not finish within 700 ms and was killed during describe; stderr: thinking\.\.\./);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await expect.poll(() => isAlive(grandchild), { timeout: 2_000 }).toBe(false);
  });

  it('rejects output that is not JSON, quoting what was printed', async () => {
    const err = await failure(exec('garbage.mjs').describe());
    expect(err.message).toContain('exited with code 0 but printed "hello, this is not json" instead of one JSON object');
  });

  it.each([
    ['bad-shape.mjs', /describe response: instances\[1\]\.state: .*"provisioning".*"running".*, got "booting"/],
    ['running-no-url.mjs', /describe response: instances\[0\]\.url: a running instance needs a url, got null/],
  ] as const)('names the bad field when %s answers with the wrong shape', async (script, message) => {
    const err = await failure(exec(script).describe());
    expect(err.message).toMatch(message);
    expect(err.details?.field).toMatch(/^instances\[\d\]\.(state|url)$/);
  });

  it('fails set-desired with the error the command gives in {"ok":false}', async () => {
    const err = await failure(exec('refuse.mjs').setDesired(2));
    expect(err.message).toMatch(/refused set-desired 2: quota exceeded/);
  });

  it('marks a command that cannot be started, and a bad desired, as not worth retrying', async () => {
    const missing = new ExecProvider({ command: join(dir, 'no-such-command'), timeoutMs: 1_000 });
    const err = await failure(missing.describe());
    expect(err.message).toMatch(/could not be started \(ENOENT\) during describe/);
    expect(err.details?.retryable).toBe(false);
    const bad = await failure(exec('fleet.mjs').setDesired(-1));
    expect(bad.details?.retryable).toBe(false);
  });

  it('refuses calls after close()', async () => {
    const p = exec('fleet.mjs', { env: { FLEET_STATE: join(dir, 'closed.json') } });
    await p.close();
    expect((await failure(p.describe())).message).toMatch(/provider is closed/);
  });
});
