import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPlotName, listPlots, resolvePlot } from '../../src/web/plots-dir.js';

/**
 * A plots directory next to a secret, with the ways a name could escape it:
 *   <root>/secret.svg, <root>/plots/{a.svg, b.svg, notes.txt, sub.svg/, link-out.svg -> ../secret.svg,
 *   link-in.svg -> a.svg}, <root>/plots-link -> plots
 */
let root: string;
let plots: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'prescale-plots-'));
  plots = join(root, 'plots');
  mkdirSync(plots);
  writeFileSync(join(root, 'secret.svg'), '<svg>secret</svg>');
  writeFileSync(join(plots, 'a.svg'), '<svg>a</svg>');
  writeFileSync(join(plots, 'b.svg'), '<svg>bb</svg>');
  writeFileSync(join(plots, 'notes.txt'), 'not a plot');
  mkdirSync(join(plots, 'sub.svg'));
  symlinkSync(join(root, 'secret.svg'), join(plots, 'link-out.svg'));
  symlinkSync('a.svg', join(plots, 'link-in.svg'));
  symlinkSync(plots, join(root, 'plots-link'));
  utimesSync(join(plots, 'a.svg'), new Date('2024-01-01'), new Date('2024-01-01'));
  utimesSync(join(plots, 'b.svg'), new Date('2024-06-01'), new Date('2024-06-01'));
});

describe('isPlotName', () => {
  it.each([
    ['simulate.svg', true],
    ['backtest-2024_06.v2.svg', true],
    ['../secret.svg', false],
    ['..%2Fsecret.svg', false],
    ['a/../../secret.svg', false],
    ['sub/a.svg', false],
    ['sub\\a.svg', false],
    ['.hidden.svg', false],
    ['a..svg', false],
    ['a.svg\u0000.txt', false],
    ['a.SVG', false],
    ['a.svg.txt', false],
    ['/etc/passwd', false],
    ['', false],
    [`${'x'.repeat(300)}.svg`, false],
  ])('%j → %s', (name, ok) => {
    expect(isPlotName(name)).toBe(ok);
  });
});

describe('resolvePlot', () => {
  it('gives the real path of a plot in the directory', async () => {
    expect(await resolvePlot(plots, 'a.svg')).toBe(await realpath(join(plots, 'a.svg')));
  });

  it('follows a link that stays inside the directory, and a directory path through a link', async () => {
    expect(await resolvePlot(plots, 'link-in.svg')).toBe(await realpath(join(plots, 'a.svg')));
    expect(await resolvePlot(join(root, 'plots-link'), 'b.svg')).toBe(await realpath(join(plots, 'b.svg')));
  });

  it.each([
    ['../secret.svg', 'traversal'],
    ['link-out.svg', 'a symbolic link to a file outside the directory'],
    ['sub.svg', 'a directory'],
    ['notes.txt', 'not an SVG'],
    ['missing.svg', 'a missing file'],
  ])('refuses %s (%s)', async (name) => {
    expect(await resolvePlot(plots, name)).toBeNull();
  });

  it('refuses everything when the directory does not exist', async () => {
    expect(await resolvePlot(join(root, 'nope'), 'a.svg')).toBeNull();
  });
});

describe('listPlots', () => {
  it('lists only the servable SVGs, newest first, with size and time', async () => {
    const list = await listPlots(plots);
    const names = list.map((p) => p.name);
    // link-in.svg has the mtime of its target a.svg; b.svg is newest
    expect(names).toEqual(['b.svg', 'a.svg', 'link-in.svg']);
    expect(list[0]).toEqual({ name: 'b.svg', bytes: 13, modifiedMs: Date.parse('2024-06-01') });
  });

  it('is empty for a missing directory', async () => {
    expect(await listPlots(join(root, 'nope'))).toEqual([]);
  });
});
