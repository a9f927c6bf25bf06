import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrescaleError } from '../../src/errors.js';
import { readTrace, sliceTrace, type Trace } from '../../src/series/trace.js';

const LOCAL_NASA = '/work/main/data/traces/nasa_ksc_jul1995_1min.csv';
const NASA = existsSync(LOCAL_NASA) ? LOCAL_NASA : '/work/shared/data/traces/nasa_ksc_jul1995_1min.csv';
const HEADER = 'timestamp,requests';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-trace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function traceFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('readTrace', () => {
  it('reads the NASA July 1995 trace: 39,692 one-minute rows from 1995-07-01T04:00Z', async () => {
    const started = performance.now();
    const trace = await readTrace(NASA);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(trace.file).toBe(NASA);
    expect(trace.intervalMs).toBe(60_000);
    expect(trace.startMs).toBe(Date.UTC(1995, 6, 1, 4, 0));
    expect(trace.requests).toHaveLength(39_692);
    expect(trace.requests.slice(0, 2)).toEqual([42, 61]);
    expect(trace.requests.at(-1)).toBe(92);
    // README: max 405 at 1995-07-13T13:49Z, 162 zero rows.
    const max = Math.max(...trace.requests);
    expect(max).toBe(405);
    const maxAt = trace.startMs + trace.requests.indexOf(max) * trace.intervalMs;
    expect(new Date(maxAt).toISOString()).toBe('1995-07-13T13:49:00.000Z');
    expect(trace.requests.filter((n) => n === 0)).toHaveLength(162);
  });

  it('accepts CRLF line ends, a BOM, a trailing blank line and a 5-minute step off the hour', async () => {
    const file = await traceFile('crlf.csv', `\uFEFF${HEADER}\r\n2014-04-10T00:04:00Z,94\r\n2014-04-10T00:09:00Z,56\r\n\r\n`);
    const trace = await readTrace(file);
    expect(trace).toEqual({ file, intervalMs: 300_000, startMs: Date.UTC(2014, 3, 10, 0, 4), requests: [94, 56] });
  });

  it('says "trace file not found" naming a missing file', async () => {
    const file = join(dir, 'absent.csv');
    const error = await readTrace(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrescaleError);
    expect((error as PrescaleError).code).toBe('PRESCALE_ERR_TRACE');
    expect((error as PrescaleError).message).toBe(`trace file not found: ${file}`);
  });

  const ok = (minute: number, count: number | string): string =>
    `1995-07-01T04:${String(minute).padStart(2, '0')}:00Z,${count}`;

  it.each([
    ['empty file', '', 1, /empty/],
    ['wrong header', 'time,count\n' + ok(0, 1), 1, /wrong header "time,count"/],
    ['no data rows', `${HEADER}\n`, 2, /at least two data rows/],
    ['one data row', `${HEADER}\n1995-07-01T04:00:00Z,1\n`, 3, /at least two data rows.*found 1/],
    ['bad timestamp', [HEADER, ok(0, 1), '1995-07-01 04:01:00,2'].join('\n'), 3, /bad timestamp "1995-07-01 04:01:00"/],
    ['impossible date', [HEADER, ok(0, 1), '1995-02-30T04:01:00Z,2'].join('\n'), 3, /bad timestamp/],
    ['negative count', [HEADER, ok(0, 1), ok(1, 2), ok(2, -3)].join('\n'), 4, /negative count -3/],
    ['non-integer count', [HEADER, ok(0, 1.5)].join('\n'), 2, /non-integer count 1\.5/],
    ['missing count', [HEADER, ok(0, 1), ok(1, '')].join('\n'), 3, /missing count/],
    ['no comma at all', [HEADER, ok(0, 1), '1995-07-01T04:01:00Z'].join('\n'), 3, /missing count/],
    ['text count', [HEADER, ok(0, 1), ok(1, 'many')].join('\n'), 3, /"many" is not a number/],
    ['three columns', [HEADER, ok(0, 1), ok(1, '2,3')].join('\n'), 3, /expected 2 columns, found 3/],
    ['blank line inside', [HEADER, ok(0, 1), '', ok(1, 2)].join('\n'), 3, /empty line/],
    ['unsorted', [HEADER, ok(0, 1), ok(1, 1), ok(2, 1), ok(1, 1)].join('\n'), 5,
      /unsorted.*expected step 60000 ms, found -60000 ms/],
    ['duplicate first step', [HEADER, ok(0, 1), ok(0, 1)].join('\n'), 3, /unsorted.*found step 0 ms/],
    ['uneven step', [HEADER, ok(0, 1), ok(1, 1), '1995-07-01T04:02:30Z,1'].join('\n'), 4,
      /uneven step.*expected step 60000 ms, found 90000 ms/],
    ['gap', [HEADER, ok(0, 1), ok(1, 1), ok(2, 1), ok(5, 1)].join('\n'), 5,
      /gap: expected 1995-07-01T04:03:00Z, found 1995-07-01T04:05:00Z \(2 intervals missing/],
  ])('rejects a trace with %s, naming the file and line', async (name, text, line, reason) => {
    const file = await traceFile(`${name.replace(/ /g, '-')}.csv`, text);
    const error = await readTrace(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrescaleError);
    const { code, message, details } = error as PrescaleError;
    expect(code).toBe('PRESCALE_ERR_TRACE');
    expect(message.startsWith(`${file}:${line}: `), message).toBe(true);
    expect(message).toMatch(reason);
    expect(details).toEqual({ file, line });
  });
});

describe('sliceTrace', () => {
  const trace: Trace = { file: 't.csv', intervalMs: 60_000, startMs: 600_000, requests: [10, 11, 12, 13, 14] };

  it.each([
    ['the whole trace', -Infinity, Infinity, [10, 11, 12, 13, 14]],
    ['exact interval starts', 660_000, 780_000, [11, 12]],
    ['starts inside an interval, which is then excluded', 660_001, 780_001, [12, 13]],
    ['a range before the trace', 0, 600_000, []],
    ['a range after the trace', 900_000, 2_000_000, []],
    ['a range overlapping the start', 0, 660_000, [10]],
    ['an inverted range', 780_000, 660_000, []],
    ['a NaN bound', Number.NaN, 780_000, []],
  ])('returns the counts for %s', (_name, fromMs, toMs, expected) => {
    expect(sliceTrace(trace, fromMs, toMs)).toEqual(expected);
  });

  it('returns a copy', () => {
    const part = sliceTrace(trace, -Infinity, Infinity);
    part[0] = 99;
    expect(trace.requests[0]).toBe(10);
  });
});
