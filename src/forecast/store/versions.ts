import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Versions a stored model records (meta.json `libraries`): Node, prescale, simple-statistics. */
export function libraryVersions(): { node: string; prescale: string; 'simple-statistics': string } {
  return {
    node: process.version,
    prescale: versionOf('../../../package.json'),
    'simple-statistics': versionOf('simple-statistics/package.json'),
  };
}

function versionOf(specifier: string): string {
  try {
    const version = (require(specifier) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
