import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

/**
 * Log fields censored whatever logs them (pino `redact`, fast-redact paths): credentials one or
 * two levels down (a config slice, an options object) and HTTP auth headers. No log line carries
 * them today (test/integration/secrets.test.ts); this keeps a future one from leaking them.
 * Redaction goes by key path, not by value: a secret inside a string (a URL's query) is not caught.
 */
export const REDACTED_LOG_PATHS: readonly string[] = Object.freeze([
  'token',
  'secret',
  '*.token',
  '*.secret',
  '*.*.token',
  '*.*.secret',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.*.secretAccessKey',
  '*.*.sessionToken',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
]);

/** What a censored field's value becomes in a log line. */
export const REDACTED_CENSOR = '[redacted]';

/**
 * The one way prescale builds a logger (the primary, every cluster worker, the demo): pino at
 * `level` with the REDACTED_LOG_PATHS censored, writing NDJSON lines to `destination`: a stream,
 * or file descriptor 1 (stdout, the default) or 2 (stderr, through pino.destination). `bindings`
 * (e.g. `{ worker: 0 }`) go on every line. Never throws for the levels the config schema allows.
 */
export function createLogger(level: LevelWithSilent, destination?: DestinationStream | 1 | 2, bindings?: Record<string, unknown>): Logger {
  const options = { level, redact: { paths: [...REDACTED_LOG_PATHS], censor: REDACTED_CENSOR } };
  const stream = typeof destination === 'number' ? pino.destination(destination) : destination;
  const logger = stream === undefined ? pino(options) : pino(options, stream);
  return bindings === undefined ? logger : logger.child(bindings);
}
