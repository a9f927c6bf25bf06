import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PrescaleError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

/** One problem in a config: dotted path (e.g. "scaler.leadTimeMs"), what is wrong, how to fix it. */
export interface ConfigProblem {
  path: string;
  message: string;
  hint: string;
}

/**
 * Validate an already parsed config object. Returns the frozen config or every problem found.
 * Never throws.
 */
export function validateConfig(input: unknown): { ok: true; config: Readonly<Config> } | { ok: false; problems: ConfigProblem[] } {
  // reportInput: the hint can tell a missing field from one of the wrong type
  const result = configSchema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return { ok: true, config: deepFreeze(result.data) };
  return { ok: false, problems: result.error.issues.map(toProblem) };
}

/**
 * Read, parse (YAML) and validate a config file.
 * @throws PrescaleError PRESCALE_ERR_CONFIG with `details.problems: ConfigProblem[]` listing every
 *   problem with its path and a hint (YAML syntax errors carry the line number).
 */
export async function loadConfig(file: string, overrides: { adminToken?: string | undefined; webhookSecret?: string | undefined } = {}): Promise<Readonly<Config>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw configError(file, [{ path: '(file)', message: `cannot read ${file}: ${(cause as Error).message}`, hint: 'check the path given to --config' }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw configError(file, doc.errors.map((e) => ({
      path: `(yaml line ${e.linePos?.[0]?.line ?? '?'})`,
      message: e.message.split('\n')[0] ?? e.message,
      hint: 'fix the YAML syntax (indentation, quotes, colons)',
    })));
  }
  let raw: Record<string, unknown>;
  try {
    raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  } catch (cause) {
    // the yaml library throws here for an unresolved alias or an alias bomb ("billion laughs")
    throw configError(file, [{ path: '(yaml)', message: (cause as Error).message, hint: 'define each &anchor before its *alias, and do not nest aliases to expand the file' }]);
  }
  if (overrides.adminToken !== undefined && typeof raw === 'object') {
    raw['admin'] = { ...((raw['admin'] as object | undefined) ?? {}), token: overrides.adminToken };
  }
  const provider = raw['provider'] as Record<string, unknown> | undefined;
  if (overrides.webhookSecret !== undefined && provider?.['kind'] === 'webhook') provider['secret'] = overrides.webhookSecret;
  const result = validateConfig(raw);
  if (!result.ok) throw configError(file, result.problems);
  return result.config;
}

/** Render problems one per line: `  - path: message (hint: ...)`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.path}: ${p.message}\n      hint: ${p.hint}`).join('\n');
}

function configError(file: string, problems: ConfigProblem[]): PrescaleError {
  return new PrescaleError('PRESCALE_ERR_CONFIG', `${file}: ${problems.length} problem(s)\n${formatProblems(problems)}`, {
    details: { file, problems },
  });
}

function toProblem(issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return { path, message: issue.message, hint: hintFor(issue) };
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `remove or rename ${issue.keys.map((k) => `"${k}"`).join(', ')}; see examples/prescale.yaml for the fields`;
    case 'invalid_type':
      return issue.input === undefined ? 'this field is required; add it' : `use a value of type ${issue.expected}`;
    case 'invalid_value':
      return `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `use a value >= ${String(issue.minimum)}`;
    case 'too_big':
      return `use a value <= ${String(issue.maximum)}`;
    case 'invalid_union':
      return 'see examples/prescale.yaml for the accepted forms';
    case 'invalid_format':
      return `use a valid ${issue.format}`;
    case 'custom':
      return issue.message.includes('duration') ? 'write a duration like "30s", "5m" or "1h", or a number of milliseconds' : 'see examples/prescale.yaml';
    default:
      return 'see examples/prescale.yaml';
  }
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
