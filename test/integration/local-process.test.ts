import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { LocalProcessProvider, type LocalProcessProviderOptions } from '../../src/scaler/providers/local-process.js';

const agent = new Agent();
const backend = { concurrency: 2, serviceTimeMs: 10, queueLimit: 10, queueTimeoutMs: 1_000 };
const providers: LocalProcessProvider[] = [];

function provider(overrides: Partial<LocalProcessProviderOptions> = {}): { p: LocalProcessProvider; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { info: () => {}, error: () => {}, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
  const p = new LocalProcessProvider({ backend, bootDelayMs: 0, logger, ...overrides });
  providers.push(p);
  return { p, warnings };
}

/** Alive = signal 0 succeeds and the process is not a zombie awaiting its reaper. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function allRunning(p: LocalProcessProvider, n: number): Promise<Map<string, string>> {
  return waitFor(async () => {
    const { instances } = await p.describe();
    if (instances.length !== n || instances.some((i) => i.state !== 'running')) return undefined;
    return new Map(instances.map((i) => [i.id, i.url ?? '']));
  });
}

async function ids(p: LocalProcessProvider): Promise<string[]> {
  return (await p.describe()).instances.map((i) => i.id);
}

// Tests run concurrently (each boots real children, ~0.5 s apiece), so cleanup waits for all.
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await agent.close();
});

describe.concurrent('LocalProcessProvider', () => {
  it('boots children through provisioning (for at least bootDelayMs) to running and reachable; repeats are no-ops', async () => {
    const { p } = provider({ bootDelayMs: 300 });
    await p.setDesired(2);
    const booting = (await p.describe()).instances;
    expect(booting.map((i) => [i.id, i.state, i.url])).toEqual([['local-1', 'provisioning', null], ['local-2', 'provisioning', null]]);
    const requestedAtMs = booting[0]?.requestedAtMs ?? 0;
    expect(Math.abs(Date.now() - requestedAtMs)).toBeLessThan(1_000);

    const urls = await allRunning(p, 2);
    expect(Date.now() - requestedAtMs).toBeGreaterThanOrEqual(300);
    for (const [id, url] of urls) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await request(`${url}/ping`, { dispatcher: agent });
      expect(await res.body.json()).toEqual({ backend: id, path: '/ping' });
    }

    const pids = [p.pidOf('local-1'), p.pidOf('local-2')];
    await Promise.all([p.setDesired(2), p.setDesired(2)]);
    expect(await ids(p)).toEqual(['local-1', 'local-2']);
    expect([p.pidOf('local-1'), p.pidOf('local-2')]).toEqual(pids);

    // Scale-in without victims takes the newest instance that is still booting first.
    await p.setDesired(3);
    expect((await p.describe()).instances.map((i) => i.state)).toEqual(['running', 'running', 'provisioning']);
    await p.setDesired(2);
    expect(await ids(p)).toEqual(['local-1', 'local-2']);
  });

  it('scales in by stopping exactly the named victim and never reuses an id', async () => {
    const { p } = provider();
    await p.setDesired(2);
    await allRunning(p, 2);
    const victimPid = p.pidOf('local-1') ?? 0;
    const keptPid = p.pidOf('local-2') ?? 0;
    await p.setDesired(1, { remove: ['local-1'] });
    expect(await ids(p)).toEqual(['local-2']);
    expect(() => process.kill(victimPid, 0)).toThrow();
    expect(() => process.kill(keptPid, 0)).not.toThrow();

    await p.setDesired(2);
    expect(await ids(p)).toEqual(['local-2', 'local-3']);
    // Without victims, the newest running instance goes first once nothing is booting.
    await allRunning(p, 2);
    await p.setDesired(1);
    expect(await ids(p)).toEqual(['local-2']);
  });

  it('lets an in-flight request finish with 200 when its instance is scaled in', async () => {
    const { p } = provider({ backend: { ...backend, serviceTimeMs: 500 } });
    await p.setDesired(1);
    const url = (await allRunning(p, 1)).get('local-1');
    const t0 = Date.now();
    const inFlight = request(`${url}/slow`, { dispatcher: agent }).then(async (res) => ({ status: res.statusCode, body: await res.body.json() }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pid = p.pidOf('local-1') ?? 0;
    await p.setDesired(0, { remove: ['local-1'] });
    expect(await inFlight).toEqual({ status: 200, body: { backend: 'local-1', path: '/slow' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(480);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await ids(p)).toEqual([]);
  });

  it('drops a child that dies unexpectedly with a warning; close() stops the rest, booting ones too', async () => {
    const { p, warnings } = provider();
    await p.setDesired(2);
    await allRunning(p, 2);
    process.kill(p.pidOf('local-2') ?? 0, 'SIGKILL');
    await waitFor(async () => (await ids(p)).length === 1);
    expect(await ids(p)).toEqual(['local-1']);
    expect(warnings.some((w) => w.includes('unexpectedly'))).toBe(true);

    await p.setDesired(2); // local-3 starts booting
    const pids = [p.pidOf('local-1') ?? 0, p.pidOf('local-3') ?? 0];
    await p.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(await ids(p)).toEqual([]);
    await expect(p.setDesired(1)).rejects.toMatchObject({ code: 'PRESCALE_ERR_PROVIDER' });
  });

  it('rejects a desired count that is not a whole number', async () => {
    const { p } = provider();
    await expect(p.setDesired(-1)).rejects.toMatchObject({ code: 'PRESCALE_ERR_PROVIDER' });
    await expect(p.setDesired(1.5)).rejects.toMatchObject({ code: 'PRESCALE_ERR_PROVIDER' });
  });

  it.each([
    ['exits normally', 'process.exit(0)'],
    ['is killed with SIGKILL', 'setInterval(() => {}, 1000)'],
  ])('leaves no orphan when the parent %s', async (_label, ending) => {
    const moduleUrl = new URL('../../src/scaler/providers/local-process.ts', import.meta.url).href;
    const script = `
      const { LocalProcessProvider } = await import(${JSON.stringify(moduleUrl)});
      const p = new LocalProcessProvider({ backend: ${JSON.stringify(backend)}, bootDelayMs: 0 });
      await p.setDesired(1);
      while ((await p.describe()).instances[0]?.state !== 'running') await new Promise((r) => setTimeout(r, 20));
      console.log(p.pidOf('local-1'));
      ${ending};`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    let childPid = 0;
    try {
      childPid = await waitFor(() => (/^\d+\n/.test(out) ? Number(out.trim()) : undefined));
      if (ending.startsWith('setInterval')) {
        expect(isAlive(childPid)).toBe(true);
        parent.kill('SIGKILL');
      }
      await waitFor(() => !isAlive(childPid), 5_000);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      if (childPid > 0 && isAlive(childPid)) process.kill(childPid, 'SIGKILL'); // never leave an orphan behind
    }
  });
});
