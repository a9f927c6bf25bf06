/**
 * The `exec` capacity provider: every call runs a user command (no shell) that talks to whatever
 * really owns the instances (a cloud CLI, Terraform, a script), in the spirit of kubectl's exec
 * credential plugins and Terraform's `external` data source.
 *
 * Protocol (shared with the webhook provider, which POSTs the same bodies):
 *   request, one JSON object on stdin followed by "\n":
 *     {"action":"describe"}
 *     {"action":"set-desired","desired":3,"remove":["i-0abc"]}
 *   response, one JSON object on stdout (nothing else; log to stderr):
 *     describe    → {"instances":[{"id":"i-1","url":"http://10.0.0.5:8080","state":"running","requestedAtMs":1700000000000}]}
 *                   url is an http(s):// or tcp:// URL, or null while provisioning; a 'running'
 *                   instance must have one. requestedAtMs is optional; without it prescale uses the
 *                   time it first saw the id (a lower bound of the lead time).
 *     set-desired → {"ok":true}, or {"ok":false,"error":"quota exceeded"} to fail with a message.
 *   set-desired is idempotent: `desired` is the wanted size in all; `remove` names victims the
 *   balancer has already drained, which the command removes.
 *
 * Failures are PrescaleError PRESCALE_ERR_PROVIDER naming the command, the exit code or signal and
 * the tail of stderr: a non-zero exit, a run longer than `timeoutMs` (the process group is
 * SIGKILLed), invalid JSON, or a response of the wrong shape (the bad field is named).
 * `details.retryable` is false when retrying cannot help (the command cannot be started, a bad
 * `desired`, the provider is closed); see withRetries in retrying.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { PrescaleError } from '../../errors.js';
import type { CapacityProvider, Fleet, Instance } from '../provider.js';

export interface ExecProviderOptions {
  /** Executable to run (looked up on PATH); no shell, so no quoting or globbing. */
  readonly command: string;
  readonly args?: readonly string[];
  /** Longest a single call may take before its process group is killed (ms > 0). */
  readonly timeoutMs: number;
  /** Added to (and overriding) prescale's own environment for the command. */
  readonly env?: Readonly<Record<string, string>>;
}

export type ProtocolRequest =
  | { readonly action: 'describe' }
  | { readonly action: 'set-desired'; readonly desired: number; readonly remove: readonly string[] };

const instanceSchema = z
  .object({
    id: z.string().min(1, 'expected a non-empty string'),
    url: z.url({ protocol: /^(https?|tcp)$/, error: 'expected an http://, https:// or tcp:// URL, or null' }).nullable(),
    state: z.enum(['provisioning', 'running']),
    requestedAtMs: z.number().int().nonnegative().optional(),
  })
  .refine((i) => i.state !== 'running' || i.url !== null, { path: ['url'], message: 'a running instance needs a url' });

const describeSchema = z.object({ instances: z.array(instanceSchema) }).superRefine((fleet, ctx) => {
  const seen = new Set<string>();
  fleet.instances.forEach((instance, index) => {
    if (seen.has(instance.id)) ctx.addIssue({ code: 'custom', path: ['instances', index, 'id'], message: `duplicate id "${instance.id}"` });
    seen.add(instance.id);
  });
});

const setDesiredSchema = z.object({ ok: z.boolean(), error: z.string().optional() });

export type DescribeAnswer = z.output<typeof describeSchema>;

/** Validate a describe answer; `source` names the provider (and command or URL) in messages. @throws PrescaleError PRESCALE_ERR_PROVIDER */
export function parseDescribeResponse(body: unknown, source: string): DescribeAnswer {
  return check(describeSchema, body, source, 'describe');
}

/** Validate a set-desired answer: {"ok":true} passes, {"ok":false,"error"} fails with that message. @throws PrescaleError PRESCALE_ERR_PROVIDER */
export function parseSetDesiredResponse(body: unknown, source: string, desired: number): void {
  const answer = check(setDesiredSchema, body, source, 'set-desired');
  if (!answer.ok) {
    throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${source} refused set-desired ${desired}: ${answer.error ?? 'no error message given'}`, {
      details: { action: 'set-desired', desired },
    });
  }
}

function check<T extends z.ZodType>(schema: T, body: unknown, source: string, action: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const [first, ...rest] = parsed.error.issues;
  const field = formatPath(first?.path ?? []);
  const got = valueAt(body, first?.path ?? []);
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  const gotText = got === undefined ? 'nothing' : JSON.stringify(got).slice(0, 80);
  throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${source} ${action} response: ${field}: ${first?.message ?? 'invalid'}, got ${gotText}${more}`, {
    details: { action, field, issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) },
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the whole response)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Turn a validated describe answer into a Fleet, filling a missing requestedAtMs with the time the
 * id was first seen (`firstSeenMs`, updated in place and pruned to the ids present).
 */
export function toFleet(answer: DescribeAnswer, firstSeenMs: Map<string, number>, nowMs: number): Fleet {
  const present = new Set(answer.instances.map((i) => i.id));
  for (const id of firstSeenMs.keys()) if (!present.has(id)) firstSeenMs.delete(id);
  const instances: Instance[] = answer.instances.map((i) => {
    if (!firstSeenMs.has(i.id)) firstSeenMs.set(i.id, i.requestedAtMs ?? nowMs);
    return { id: i.id, url: i.url, state: i.state, requestedAtMs: i.requestedAtMs ?? (firstSeenMs.get(i.id) as number) };
  });
  return { instances };
}

/** Check `desired` before it reaches the user's command. */
export function checkDesired(provider: string, desired: number): void {
  if (!Number.isInteger(desired) || desired < 0) {
    throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${provider}: desired must be an integer ≥ 0, got ${desired}`, { details: { retryable: false } });
  }
}

const STDERR_TAIL_CHARS = 2_000;
const MAX_STDOUT_BYTES = 1024 * 1024;

export class ExecProvider implements CapacityProvider {
  readonly name = 'exec';
  readonly #options: ExecProviderOptions;
  readonly #running = new Set<ChildProcess>();
  readonly #firstSeenMs = new Map<string, number>();
  #closed = false;

  constructor(options: ExecProviderOptions) {
    if (options.command.length === 0) throw new PrescaleError('PRESCALE_ERR_CONFIG', 'exec provider command: expected a non-empty string');
    if (!(options.timeoutMs > 0)) throw new PrescaleError('PRESCALE_ERR_CONFIG', `exec provider timeoutMs: expected ms > 0, got ${options.timeoutMs}`);
    this.#options = options;
  }

  /** Run the command with {"action":"describe"}. @throws PrescaleError PRESCALE_ERR_PROVIDER */
  async describe(): Promise<Fleet> {
    const request: ProtocolRequest = { action: 'describe' };
    const answer = parseDescribeResponse(await this.#call(request), this.#source());
    return toFleet(answer, this.#firstSeenMs, Date.now());
  }

  /** Run the command with {"action":"set-desired",...}; resolves on {"ok":true}. @throws PrescaleError PRESCALE_ERR_PROVIDER */
  async setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    checkDesired(this.name, desired);
    const request: ProtocolRequest = { action: 'set-desired', desired, remove: [...(options.remove ?? [])] };
    parseSetDesiredResponse(await this.#call(request), this.#source(), desired);
  }

  /** Kill commands still running. The fleet itself is left as it is: shutting prescale down must not scale it in. */
  close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#running) killGroup(child);
    return Promise.resolve();
  }

  #source(): string {
    const line = [this.#options.command, ...(this.#options.args ?? [])].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
    return `exec provider \`${line}\``;
  }

  /** Run the command once; resolves with the parsed JSON it printed. */
  #call(request: ProtocolRequest): Promise<unknown> {
    const source = this.#source();
    const { action } = request;
    if (this.#closed) return Promise.reject(new PrescaleError('PRESCALE_ERR_PROVIDER', `${source}: provider is closed`, { details: { action, retryable: false } }));
    const { command, args = [], env, timeoutMs } = this.#options;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: env ? { ...process.env, ...env } : undefined,
        detached: process.platform !== 'win32', // own process group, so a timeout kills grandchildren too
      });
      this.#running.add(child);
      track(child);
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderrTail = '';
      let settled = false;
      const fail = (what: string, extra: Record<string, unknown>, cause?: unknown): void => {
        const tail = stderrTail.trim();
        const message = `${source} ${what} during ${action}${tail ? `; stderr: ${tail.slice(-500)}` : ''}`;
        finish(() => reject(new PrescaleError('PRESCALE_ERR_PROVIDER', message, { cause, details: { action, command, ...extra, stderrTail: tail } })));
      };
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#running.delete(child);
        settle();
      };
      const timer = setTimeout(() => {
        killGroup(child);
        fail(`did not finish within ${timeoutMs} ms and was killed`, { timeoutMs });
        child.stdout.destroy();
        child.stderr.destroy();
      }, timeoutMs);

      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes <= MAX_STDOUT_BYTES) stdout.push(chunk);
        else if (!settled) {
          killGroup(child);
          fail(`printed more than ${MAX_STDOUT_BYTES} bytes on stdout and was killed`, {});
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
      });
      child.stdin.on('error', () => {}); // EPIPE when the command exits without reading; its exit status tells why
      child.stdin.end(`${JSON.stringify(request)}\n`);

      child.once('error', (error: NodeJS.ErrnoException) => {
        const retryable = error.code !== 'ENOENT' && error.code !== 'EACCES';
        fail(`could not be started (${error.code ?? error.message})`, { retryable }, error);
      });
      child.once('close', (exitCode, signal) => {
        if (exitCode !== 0) {
          fail(signal ? `was killed by ${signal}` : `exited with code ${exitCode}`, { exitCode, signal });
          return;
        }
        const text = Buffer.concat(stdout).toString('utf8').trim();
        try {
          const body: unknown = JSON.parse(text);
          finish(() => resolve(body));
        } catch (error) {
          const excerpt = text.length === 0 ? 'nothing' : JSON.stringify(text.slice(0, 120));
          fail(`exited with code 0 but printed ${excerpt} instead of one JSON object (${(error as Error).message})`, { exitCode }, error);
        }
      });
    });
  }
}

/** Every command still running, in any ExecProvider: killed if prescale exits, since detached ones would outlive it. */
const inFlight = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  if (inFlight.size === 0) process.on('exit', killAllInFlight);
  inFlight.add(child);
  child.once('exit', () => untrack(child));
  child.once('error', () => untrack(child));
}

function untrack(child: ChildProcess): void {
  if (inFlight.delete(child) && inFlight.size === 0) process.off('exit', killAllInFlight);
}

function killAllInFlight(): void {
  for (const child of inFlight) killGroup(child);
}

/** SIGKILL the child's whole process group (it was spawned detached), or the child alone on Windows. */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone already
  }
}
