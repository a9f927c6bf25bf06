import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildProvider } from '../../src/scaler/providers/build.js';

const dir = new URL('../../examples/', import.meta.url).pathname;
const files = [
  ...readdirSync(dir).filter((f) => f.endsWith('.yaml')),
  ...readdirSync(join(dir, 'providers')).map((f) => join('providers', f)),
];

describe('example configs', () => {
  it.each(files)('%s is valid and its provider builds', async (file) => {
    const config = await loadConfig(join(dir, file));
    const provider = await buildProvider(config, pino({ level: 'silent' }));
    if (config.provider.kind === 'static') expect(provider).toBeNull();
    else expect(provider?.name).toBe(config.provider.kind);
    await provider?.close();
  });
});
