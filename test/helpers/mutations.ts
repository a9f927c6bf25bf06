/**
 * fast-check arbitraries and appliers for fuzzing file readers: edits of a parsed value (delete,
 * set, rename, wrap at any path) and byte-level edits of a text (delete, insert, line drops,
 * duplicates, swaps, re-indents, truncation). Edits are plain data, so fast-check can shrink them
 * and a failing case prints as a readable list.
 */
import fc from 'fast-check';

/** Values that break naive readers: non-finite and huge numbers, -0, empty and duration-like strings. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 2 ** 53 + 1, 1e308, -1, 0, '', ' ', '5m', '-5m', '1e3', 'auto', '0.0.0.0', '::', 'http://[::1]:0', null, true, [], {}),
  fc.double(),
  fc.integer(),
);

export interface ValueEdit {
  kind: 'delete' | 'set' | 'rename' | 'wrap';
  /** Which path (modulo the number of paths of the value, the root included). */
  at: number;
  value: unknown;
}

/** 1 to 4 value edits. */
export function valueEdits(): fc.Arbitrary<ValueEdit[]> {
  const edit = fc.record({ kind: fc.constantFrom('delete', 'set', 'rename', 'wrap') as fc.Arbitrary<ValueEdit['kind']>, at: fc.nat(), value: oddValue });
  return fc.array(edit, { minLength: 1, maxLength: 4 });
}

/** Every path of objects and arrays in `value`, the root ([]) first. O(size). */
function pathsOf(value: unknown, prefix: PropertyKey[] = [], out: PropertyKey[][] = []): PropertyKey[][] {
  out.push(prefix);
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) pathsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key], out);
  }
  return out;
}

/** A copy of `root` with `edits` applied in order; the input is never changed. */
export function mutateValue(root: unknown, edits: readonly ValueEdit[]): unknown {
  let result = structuredClone(root);
  for (const edit of edits) {
    const paths = pathsOf(result);
    const path = paths[edit.at % paths.length] as PropertyKey[];
    if (path.length === 0) {
      result = edit.kind === 'wrap' ? [result] : edit.kind === 'set' ? edit.value : edit.kind === 'delete' ? undefined : result;
      continue;
    }
    let parent = result as Record<PropertyKey, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<PropertyKey, unknown>;
    const key = path[path.length - 1] as PropertyKey;
    if (edit.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (edit.kind === 'set') parent[key] = edit.value;
    else if (edit.kind === 'wrap') parent[key] = [parent[key]];
    else if (!Array.isArray(parent)) {
      parent[`${String(key)}x`] = parent[key];
      delete parent[key];
    }
  }
  return result;
}

export interface TextEdit {
  kind: 'delete' | 'insert' | 'dropLine' | 'dupLine' | 'swapLines' | 'indent' | 'truncate';
  at: number;
  len: number;
  text: string;
}

const YAML_INSERTS = [': ', '\n', '  ', '- ', '&a ', '*a', '!!binary ', '{', '[', '"', "'", '#', '\t', '<<: *a', '? ', '~', '.nan', '-.inf', '0x1F', '\u0000'];

/** 1 to 4 text edits; inserted text is random bytes or one of `inserts` (default: YAML syntax). */
export function textEdits(inserts: readonly string[] = YAML_INSERTS): fc.Arbitrary<TextEdit[]> {
  const edit = fc.record({
    kind: fc.constantFrom('delete', 'insert', 'dropLine', 'dupLine', 'swapLines', 'indent', 'truncate') as fc.Arbitrary<TextEdit['kind']>,
    at: fc.nat(),
    len: fc.nat({ max: 40 }),
    text: fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom(...inserts)),
  });
  return fc.array(edit, { minLength: 1, maxLength: 4 });
}

/** `text` with `edits` applied in order (positions modulo the current length). */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of edits) {
    const pos = e.at % (out.length + 1);
    const lines = out.split('\n');
    const line = e.at % lines.length;
    const other = (e.at + e.len + 1) % lines.length;
    switch (e.kind) {
      case 'delete':
        out = out.slice(0, pos) + out.slice(pos + e.len + 1);
        break;
      case 'insert':
        out = out.slice(0, pos) + e.text + out.slice(pos);
        break;
      case 'truncate':
        out = out.slice(0, pos);
        break;
      case 'dropLine':
        lines.splice(line, 1);
        out = lines.join('\n');
        break;
      case 'dupLine':
        lines.splice(line, 0, lines[line] as string);
        out = lines.join('\n');
        break;
      case 'swapLines':
        [lines[line], lines[other]] = [lines[other] as string, lines[line] as string];
        out = lines.join('\n');
        break;
      case 'indent':
        lines[line] = ' '.repeat(e.len % 5) + (lines[line] as string).trimStart();
        out = lines.join('\n');
        break;
    }
  }
  return out;
}
