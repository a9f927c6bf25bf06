/**
 * Scenario rows for docs/RELIABILITY.md, written by the tests themselves.
 *
 * A reliability test calls `recordScenario()` with what it measured (requests sent, failed and
 * lost). When `PRESCALE_RELIABILITY_DIR` is set (by `npm run reliability`, scripts/reliability-report.ts)
 * each row is written there as `<id>.json`; otherwise the call does nothing, so the tests run the
 * same in CI. The script then renders every row into the markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScenarioRow {
  /** Stable id, kebab-case, unique across the suite: the file name of the row. */
  id: string;
  /** Section of the table: "faults", "hostile input", "state and shutdown", "security". */
  group: string;
  /** What was done, one sentence. */
  scenario: string;
  /** The load offered, e.g. "16 clients, GET /work, 4 s". */
  load: string;
  /** The faults injected, e.g. "SIGKILL one of 3 backends, restart after 1 s". */
  faults: string;
  /** Requests (or connections, probes, inputs) sent. */
  sent: number;
  /** Of those, how many got an error the client saw (5xx, reset), where the test expects none or states which. */
  failed: number;
  /** Of those, how many were lost: no response at all, or a non-idempotent request applied twice. */
  lost: number;
  /** What the test asserts, e.g. "0 failed while a healthy backend remained". */
  expectation: string;
}

/** Writes `row` when PRESCALE_RELIABILITY_DIR is set; a no-op otherwise. */
export function recordScenario(row: ScenarioRow): void {
  const dir = process.env['PRESCALE_RELIABILITY_DIR'];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${row.id}.json`), `${JSON.stringify(row, null, 2)}\n`);
}
