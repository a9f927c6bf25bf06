import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { PrescaleError } from '../../src/errors.js';

describe('config validation', () => {
  it('accepts the commented example and fills defaults', async () => {
    const config = await loadConfig(new URL('../../examples/prescale.yaml', import.meta.url).pathname);
    expect(config.scaler.leadTimeMs).toBeGreaterThan(0);
    expect(config.admin.host).toBe('127.0.0.1');
    expect(Object.isFrozen(config.scaler)).toBe(true);
  });

  it('lists every problem with its path and a hint', () => {
    const r = validateConfig({
      scaler: { leadTimeMs: 'fast', policy: 'magic' },
      upstream: { algoritm: 'x' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p]));
    expect(byPath['scaler.leadTimeMs']?.message).toContain('expected a duration like "5m"');
    expect(byPath['scaler.policy']?.hint).toContain('"predictive"');
    expect(byPath['scaler.capacityPerBackendRps']?.hint).toContain('required');
    expect(byPath['upstream']?.hint).toContain('"algoritm"');
    for (const p of r.problems) expect(p.hint.length).toBeGreaterThan(0);
  });

  it.each([
    ['5m', 300_000],
    ['10s', 10_000],
    [1500, 1500],
    ['1h', 3_600_000],
  ])('reads duration %j as %d ms', (value, ms) => {
    const r = validateConfig({ scaler: { capacityPerBackendRps: 10, leadTimeMs: value }, provider: { kind: 'local-process' } });
    expect(r.ok && r.config.scaler.leadTimeMs).toBe(ms);
  });

  it('rejects minBackends above maxBackends', () => {
    const r = validateConfig({ scaler: { capacityPerBackendRps: 10, minBackends: 5, maxBackends: 2 }, provider: { kind: 'local-process' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toContain('scaler.minBackends');
  });

  it('names the YAML line of a syntax error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prescale-config-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'scaler:\n  capacityPerBackendRps: 10\n   policy: [\n');
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrescaleError);
    expect((err as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
    expect((err as PrescaleError).message).toMatch(/yaml line \d/);
  });
});
