/**
 * The one error class of prescale. Every error that crosses a module boundary is a
 * PrescaleError with a stable `code`; the proxy edge maps codes to HTTP status in one place
 * (src/proxy/error-response.ts) and docs/errors.md lists each code with its meaning and fix.
 */
export const ERROR_CODES = {
  PRESCALE_ERR_CONFIG: 'configuration file is invalid',
  PRESCALE_ERR_TRACE: 'trace CSV is missing or malformed',
  PRESCALE_ERR_NO_HEALTHY_BACKEND: 'no backend is ready to take the request',
  PRESCALE_ERR_QUEUE_TIMEOUT: 'every backend was at maxConns and the request waited in the queue too long, or the queue was full',
  PRESCALE_ERR_UPSTREAM_CONNECT: 'connecting to the backend failed or the connection broke',
  PRESCALE_ERR_UPSTREAM_TIMEOUT: 'the backend did not answer in time',
  PRESCALE_ERR_PROVIDER: 'the capacity provider failed to act',
  PRESCALE_ERR_TRAFFIC_LOG: 'the traffic log could not be written or read',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PrescaleError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  /**
   * @param code stable code from ERROR_CODES
   * @param message human sentence naming the thing that failed and, where possible, the fix
   * @param options.cause underlying error; options.details structured extras (e.g. file, line)
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PrescaleError';
    this.code = code;
    this.details = options.details;
  }
}
