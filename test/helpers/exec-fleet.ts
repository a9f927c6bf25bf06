/**
 * A fleet shared by several prescale replicas through the exec provider: a user command (node
 * script) keeps the instances in a JSON state file (written atomically) and appends every
 * set-desired call, with the replica that made it ($REPLICA), to a calls log. Instance n serves at
 * urls[n] (real test servers), 'running' at once.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FLEET_SCRIPT = `
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
const [stateFile, callsFile] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const state = JSON.parse(readFileSync(stateFile, 'utf8'));
if (req.action === 'describe') {
  process.stdout.write(JSON.stringify({ instances: state.instances.map((i) => ({ id: i.id, url: state.urls[i.n], state: 'running', requestedAtMs: i.requestedAtMs })) }));
} else {
  const before = state.instances.length;
  state.instances = state.instances.filter((i) => !req.remove.includes(i.id));
  while (state.instances.length > req.desired) state.instances.pop();
  while (state.instances.length < req.desired) {
    const used = new Set(state.instances.map((i) => i.n));
    const n = state.urls.findIndex((_, k) => !used.has(k));
    state.seq += 1;
    state.instances.push({ id: 'vm-' + state.seq, n, requestedAtMs: Date.now() });
  }
  appendFileSync(callsFile, JSON.stringify({ who: process.env.REPLICA, desired: req.desired, remove: req.remove, before, atMs: Date.now() }) + '\\n');
  writeFileSync(stateFile + '.tmp', JSON.stringify(state));
  renameSync(stateFile + '.tmp', stateFile);
  process.stdout.write('{"ok":true}');
}
`;

/** One set-desired call as the fleet command logged it. */
export interface FleetCall {
  /** $REPLICA of the caller. */
  who: string;
  desired: number;
  remove: string[];
  /** Instances before the call. */
  before: number;
  /** Epoch ms when the command ran. */
  atMs: number;
}

export interface ExecFleet {
  readonly dir: string;
  /** provider config for replica `name` (exec, no retries so every call is counted once). */
  provider(name: string): object;
  calls(): Promise<FleetCall[]>;
  /** Instance ids now. */
  ids(): Promise<string[]>;
}

/** A fleet of `initial` instances (ids vm-1…) over `urls`. */
export async function createExecFleet(urls: readonly string[], initial: number): Promise<ExecFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'prescale-fleet-'));
  const [script, state, calls] = [join(dir, 'fleet.mjs'), join(dir, 'state.json'), join(dir, 'calls.ndjson')];
  await writeFile(script, FLEET_SCRIPT);
  await writeFile(calls, '');
  const instances = Array.from({ length: initial }, (_, n) => ({ id: `vm-${n + 1}`, n, requestedAtMs: 1 }));
  await writeFile(state, JSON.stringify({ seq: initial, urls, instances }));
  return {
    dir,
    provider: (name) => ({ kind: 'exec', command: process.execPath, args: [script, state, calls], env: { REPLICA: name }, timeoutMs: '10s', retry: { attempts: 1 } }),
    calls: async () => (await readFile(calls, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FleetCall),
    ids: async () => (JSON.parse(await readFile(state, 'utf8')) as { instances: Array<{ id: string }> }).instances.map((i) => i.id),
  };
}
