import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { STATUS_BY_CODE } from '../../src/proxy/error-response.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map(
    doc.split('\n').filter((l) => l.startsWith('| `')).map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return [cells[1]!.replaceAll('`', ''), cells[2]!] as const;
    }),
  );

  it('lists exactly the codes in src/errors.ts', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('gives the HTTP status the proxy maps each code to', () => {
    for (const [code, status] of rows) {
      const mapped = STATUS_BY_CODE[code as keyof typeof ERROR_CODES];
      expect(status).toBe(mapped === undefined ? '–' : String(mapped));
    }
  });
});
