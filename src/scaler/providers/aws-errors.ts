/**
 * Turns whatever an AWS SDK v3 call threw into the one error of prescale:
 * PrescaleError('PRESCALE_ERR_PROVIDER') whose message names the call, the group, the region and
 * the AWS error code, with structured `details` for logs and a retry wrapper:
 *
 * - `awsCode`: the service's error code (`Throttling`, `ValidationError`, ...), or the Node /
 *   SDK error name for failures before a response (`ECONNREFUSED`, `TimeoutError`,
 *   `CredentialsProviderError`).
 * - `httpStatusCode`, `requestId`: from the SDK's `$metadata` when a response arrived.
 * - `retryAfterMs`: only for throttling codes (Auto Scaling `Throttling`, EC2
 *   `RequestLimitExceeded`, ...), so a caller can back off instead of retrying at once.
 *
 * Source: the throttling codes are those the SDK's own retry strategy treats as throttling
 * (@smithy/service-error-classification THROTTLING_ERROR_CODES) plus EC2's RequestLimitExceeded.
 */
import { PrescaleError } from '../../errors.js';

const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);

export interface AwsCallContext {
  /** The API action, e.g. 'SetDesiredCapacity'. */
  readonly action: string;
  readonly groupName: string;
  readonly region: string;
  /** Back-off hint put in details.retryAfterMs for throttling errors (ms). */
  readonly throttleRetryAfterMs: number;
}

/** True when `code` is an AWS throttling error code. */
export function isThrottlingCode(code: string): boolean {
  return THROTTLING_CODES.has(code);
}

/** The AWS error code of an SDK error, or the best name available for a transport failure. */
export function awsErrorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'Unknown';
  const { Code, code, name } = error as { Code?: unknown; code?: unknown; name?: unknown };
  if (typeof Code === 'string' && Code !== '') return Code;
  if (typeof code === 'string' && code !== '') return code;
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  return 'Unknown';
}

/** PrescaleError PRESCALE_ERR_PROVIDER for an error thrown by an SDK call (see module comment). */
export function toProviderError(error: unknown, context: AwsCallContext): PrescaleError {
  if (error instanceof PrescaleError) return error;
  const awsCode = awsErrorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } } | null)?.$metadata;
  const throttled = isThrottlingCode(awsCode);
  const details: Record<string, unknown> = {
    awsCode,
    action: context.action,
    groupName: context.groupName,
    region: context.region,
    ...(metadata?.httpStatusCode === undefined ? {} : { httpStatusCode: metadata.httpStatusCode }),
    ...(metadata?.requestId === undefined ? {} : { requestId: metadata.requestId }),
    ...(throttled ? { retryAfterMs: context.throttleRetryAfterMs } : {}),
  };
  const hint = throttled ? ' (throttled; back off and retry)' : '';
  return new PrescaleError(
    'PRESCALE_ERR_PROVIDER',
    `aws: ${context.action} for Auto Scaling group '${context.groupName}' in ${context.region} failed: ${awsCode}: ${text}${hint}`,
    { cause: error, details },
  );
}
