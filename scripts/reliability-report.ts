/**
 * `npm run reliability`: regenerate docs/RELIABILITY.md from the reliability tests themselves.
 *
 * 1. Finds every test file under test/ that imports test/helpers/reliability.ts (so new ones are
 *    picked up without a list to keep in sync).
 * 2. Runs them with `npx vitest run` and PRESCALE_RELIABILITY_DIR set to a fresh temp directory,
 *    where each `recordScenario()` call writes one `<id>.json` row (test/helpers/reliability.ts).
 * 3. Renders the rows as one markdown table per group (faults, hostile input, state and shutdown,
 *    security, then any other group), with the date, the commit and the test run's outcome.
 * 4. Appends the sections that are not test rows (reliability-sections.ts): "Soak" from the last
 *    `npm run soak` result (bench/results/soak.json) and "Dependency audit" from running
 *    `npm audit --omit=dev` now (skip it with `--no-audit`: the section then says it was skipped).
 *
 * Exits 1 when a test failed (the document is still written, and says which failed), 2 when no
 * row was recorded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioRow } from '../test/helpers/reliability.js';
import { renderAudit, renderSoak } from './reliability-sections.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'docs', 'RELIABILITY.md');
const SOAK_RESULT = join(ROOT, 'bench', 'results', 'soak.json');
const GROUP_ORDER = ['faults', 'hostile input', 'state and shutdown', 'security'];

/** Test files (relative to the repo root, sorted) whose source imports the reliability helper. */
export function reliabilityTestFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.ts') && /from ['"][./]*helpers\/reliability(\.js)?['"]/.test(readFileSync(path, 'utf8'))) found.push(relative(root, path));
    }
  };
  walk(join(root, 'test'));
  return found.sort();
}

interface RunOutcome {
  status: number;
  passed: number;
  failed: string[];
}

/** Run vitest on `files` with rows written to `rowsDir`; the JSON reporter tells which tests failed. */
function runTests(files: readonly string[], rowsDir: string): RunOutcome {
  const json = join(rowsDir, '..', 'vitest.json');
  const result = spawnSync('npx', ['vitest', 'run', ...files, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PRESCALE_RELIABILITY_DIR: rowsDir },
  });
  let passed = 0;
  const failed: string[] = [];
  try {
    const report = JSON.parse(readFileSync(json, 'utf8')) as { testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }> };
    for (const file of report.testResults) {
      for (const test of file.assertionResults) {
        if (test.status === 'passed') passed++;
        else if (test.status === 'failed') failed.push(`${relative(ROOT, file.name)} > ${test.fullName}`);
      }
    }
  } catch {
    failed.push('(vitest wrote no JSON report)');
  }
  return { status: result.status ?? 1, passed, failed };
}

/** Every row in `dir`, checked for the fields the table needs. */
export function readRows(dir: string): ScenarioRow[] {
  const rows: ScenarioRow[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const row = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ScenarioRow;
    for (const key of ['sent', 'failed', 'lost'] as const) {
      if (!Number.isInteger(row[key]) || row[key] < 0) throw new Error(`${name}: ${key} must be a non-negative integer, got ${String(row[key])}`);
    }
    rows.push(row);
  }
  return rows;
}

function cell(text: string | number): string {
  return String(text).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The markdown document: intro, run facts, one table per group, then `sections` (lines each). */
export function renderReport(rows: readonly ScenarioRow[], facts: { date: string; commit: string; files: readonly string[]; outcome: RunOutcome }, sections: readonly (readonly string[])[] = []): string {
  const groups = [...new Set(rows.map((r) => r.group))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const { outcome } = facts;
  const lines = [
    '# Reliability',
    '',
    'What prescale guarantees under faults, hostile input, crashes and attempts to read its secrets,',
    'as measured by the tests themselves: each row is written by a test (`recordScenario()` in',
    '`test/helpers/reliability.ts`) with the requests (or connections, inputs) it sent, how many',
    'failed as the client saw it, and how many were lost (no answer at all, or a non-idempotent',
    'request applied twice). What counts as failed is stated per row: for a probe that must be',
    'refused, the refusal is the expected answer. The tests assert the expectation; the numbers',
    'are from one run on the machine that generated this file.',
    '',
    'Regenerate with `npm run reliability` (scripts/reliability-report.ts): it runs every test file',
    'that imports the helper and rewrites this file, keeping the last soak (`npm run soak` writes',
    'bench/results/soak.json) and running the dependency audit again. Do not edit it by hand.',
    '',
    `- Generated: ${facts.date}`,
    `- Commit: ${facts.commit}`,
    `- Test files: ${facts.files.length} (${facts.files.map((f) => `\`${f}\``).join(', ')})`,
    `- Tests: ${outcome.passed} passed, ${outcome.failed.length} failed${outcome.failed.length > 0 ? `: ${outcome.failed.map(cell).join('; ')}` : ''}`,
    '',
  ];
  for (const group of groups) {
    const inGroup = rows.filter((r) => r.group === group).sort((a, b) => a.id.localeCompare(b.id));
    // no totals: rows count different things (requests, probes, files), and "failed" is sometimes the expected answer
    lines.push(`## ${capitalize(group)} (${inGroup.length} scenario${inGroup.length === 1 ? '' : 's'})`, '');
    lines.push('| scenario | load | faults | sent | failed | lost | expectation |', '|---|---|---|--:|--:|--:|---|');
    for (const r of inGroup) lines.push(`| ${cell(capitalize(r.scenario))} | ${cell(r.load)} | ${cell(r.faults)} | ${r.sent} | ${r.failed} | ${r.lost} | ${cell(r.expectation)} |`);
    lines.push('');
  }
  for (const section of sections) lines.push(...section);
  return lines.join('\n');
}

function capitalize(text: string): string {
  return /^[a-z]/.test(text) ? `${text[0]?.toUpperCase()}${text.slice(1)}` : text;
}

function rank(group: string): number {
  const i = GROUP_ORDER.indexOf(group);
  return i < 0 ? GROUP_ORDER.length : i;
}

/** Short commit id, marked when the working tree has changes (read-only git commands). */
function commitId(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !== '';
  return dirty ? `${head} with uncommitted changes` : head;
}

async function main(): Promise<void> {
  const files = reliabilityTestFiles(ROOT);
  const temp = mkdtempSync(join(tmpdir(), 'prescale-reliability-'));
  const rowsDir = join(temp, 'rows');
  try {
    process.stdout.write(`running ${files.length} reliability test files:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
    const outcome = runTests(files, rowsDir);
    let rows: ScenarioRow[] = [];
    try {
      rows = readRows(rowsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (rows.length === 0) {
      process.stderr.write('no scenario rows were recorded; docs/RELIABILITY.md left as it was\n');
      process.exitCode = 2;
      return;
    }
    const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const audit = process.argv.includes('--no-audit') ? ['## Dependency audit', '', 'Skipped (`npm run reliability -- --no-audit`).', ''] : renderAudit(ROOT);
    const soak = renderSoak(SOAK_RESULT, relative(ROOT, SOAK_RESULT));
    writeFileSync(OUT, renderReport(rows, { date, commit: commitId(), files, outcome }, [soak, audit]));
    process.stdout.write(`${relative(ROOT, OUT)}: ${rows.length} scenarios in ${new Set(rows.map((r) => r.group)).size} groups; tests ${outcome.passed} passed, ${outcome.failed.length} failed\n`);
    if (outcome.failed.length > 0 || outcome.status !== 0) process.exitCode = 1;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
