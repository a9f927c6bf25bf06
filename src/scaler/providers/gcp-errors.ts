/**
 * Turn a failed Compute Engine API call into PrescaleError PRESCALE_ERR_PROVIDER.
 *
 * What arrives here, with @google-cloud/compute 6 on its REST transport:
 * - a GaxiosError for an HTTP error status: `status` is the HTTP status, `response.headers` has
 *   Retry-After, and `message` is the raw JSON body (google-auth-library's fetch throws before
 *   google-gax can decode it), e.g.
 *   {"error":{"code":429,"message":"Rate Limit Exceeded","errors":[{"reason":"rateLimitExceeded"}],
 *   "status":"RESOURCE_EXHAUSTED","details":[...]}}  (Compute API error format, AIP-193);
 * - a GaxiosError without a status for a network failure (`code` ECONNREFUSED, ENOTFOUND, ...)
 *   or a timeout (gaxios aborted the request: `error` is an AbortError);
 * - a google-gax GoogleError (`code` is a gRPC status, `reason` from google.rpc.ErrorInfo) when
 *   gax decoded the error itself, or for its own timeout (DEADLINE_EXCEEDED).
 *
 * The message names the call, the HTTP status and the error reason (the first `errors[].reason`,
 * else the ErrorInfo reason, else the status name). `details`: action, call, status, reason;
 * `retryAfterMs` when rate limited (429, or a rate-limit reason on another status such as 403):
 * the Retry-After header, else a google.rpc.RetryInfo delay, else RATE_LIMIT_WINDOW_MS;
 * `retryable: false` for client errors that asking again will not fix (see withRetries).
 */
import { PrescaleError } from '../../errors.js';
import { parseRetryAfterMs } from './webhook.js';

export interface GcpCallContext {
  /** The provider action: 'describe' or 'set-desired'. */
  readonly action: string;
  /** The API call and its resource, e.g. "instanceGroupManagers.resize of projects/p/zones/z/instanceGroupManagers/web". */
  readonly call: string;
  /** The per-call timeout, named when the call timed out. */
  readonly timeoutMs: number;
  /** Sentence appended to a 404 message, e.g. how to fix the configuration. */
  readonly notFoundHint?: string;
}

/** Compute Engine rate quotas are counted per minute: after one window the quota has refilled. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
/** 4xx reasons that clear up by themselves (another operation on the group is still running). */
const TRANSIENT_REASONS = new Set(['resourceNotReady', ...RATE_LIMIT_REASONS]);
/** gRPC status code → HTTP status, as in google/rpc/code.proto. */
const HTTP_OF_GRPC: Readonly<Record<number, number>> = { 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401 };
const GRPC_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
const MESSAGE_CHARS = 300;

type Json = Record<string, unknown>;

/** See the module comment. `nowMs` resolves a Retry-After HTTP-date. Never throws. */
export function toProviderError(error: unknown, context: GcpCallContext, nowMs: number): PrescaleError {
  if (error instanceof PrescaleError) return error;
  const e = asRecord(error) ?? {};
  const response = asRecord(e.response);
  const body = asRecord(errorBody(e, response)?.error);
  const grpcCode = response === undefined && typeof e.code === 'number' ? e.code : undefined;
  const status = numberOf(e.status) ?? numberOf(response?.status) ?? (grpcCode === undefined ? undefined : HTTP_OF_GRPC[grpcCode]);
  const base = { action: context.action, call: context.call };
  if (grpcCode === 4 || isTimeout(e)) {
    return new PrescaleError('PRESCALE_ERR_PROVIDER', `gcp provider: ${context.call} did not answer within ${context.timeoutMs} ms`, {
      cause: error,
      details: { ...base, timeoutMs: context.timeoutMs },
    });
  }
  if (status === undefined) {
    const why = typeof e.code === 'string' ? e.code : error instanceof Error ? error.message : String(error);
    return new PrescaleError('PRESCALE_ERR_PROVIDER', `gcp provider: ${context.call} could not reach the Compute API: ${why}`, { cause: error, details: base });
  }
  const details = detailsOf(body, e);
  const reason = firstReason(body) ?? errorInfoReason(details) ?? stringOf(e.reason) ?? stringOf(body?.status) ?? (grpcCode === undefined ? undefined : GRPC_NAMES[grpcCode]);
  const apiMessage = clip(stringOf(body?.message) ?? (error instanceof Error ? error.message : String(error)));
  const rateLimited = status === 429 || (reason !== undefined && RATE_LIMIT_REASONS.has(reason));
  const retryAfterMs = rateLimited ? (retryAfterHeaderMs(response, nowMs) ?? retryInfoMs(details) ?? RATE_LIMIT_WINDOW_MS) : status === 503 ? retryAfterHeaderMs(response, nowMs) : undefined;
  const retryable = status >= 500 || status === 408 || status === 409 || rateLimited || (reason !== undefined && TRANSIENT_REASONS.has(reason));
  const hint = status === 404 && context.notFoundHint ? `; ${context.notFoundHint}` : '';
  const wait = retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`;
  return new PrescaleError('PRESCALE_ERR_PROVIDER', `gcp provider: ${context.call} failed with HTTP ${status}${reason ? ` ${reason}` : ''}: ${apiMessage}${hint}${wait}`, {
    cause: error,
    details: {
      ...base,
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(retryable ? {} : { retryable: false }),
    },
  });
}

/**
 * gaxios aborts a request after its `timeout` with AbortSignal.timeout: the GaxiosError then wraps
 * node-fetch's AbortError and its config.signal's reason is a TimeoutError. Nothing else aborts
 * our requests, so an AbortError is a timeout too.
 */
function isTimeout(e: Json): boolean {
  const reason = asRecord(asRecord(e.config)?.signal)?.reason;
  return e.code === 'TimeoutError' || e.code === 'ETIMEDOUT' || asRecord(reason)?.name === 'TimeoutError' || asRecord(e.error)?.name === 'AbortError';
}

/** The decoded JSON error body: response.data when gaxios parsed it, else the message when it is the raw body. */
function errorBody(e: Json, response: Json | undefined): Json | undefined {
  const data = response?.data;
  if (asRecord(data)?.error !== undefined) return data as Json;
  for (const text of [data, e.message]) {
    if (typeof text !== 'string' || !text.trimStart().startsWith('{')) continue;
    try {
      const parsed = asRecord(JSON.parse(text));
      if (parsed?.error !== undefined) return parsed;
    } catch {
      // not JSON after all; fall through
    }
  }
  return undefined;
}

/** google.rpc.Status details: the body's `details`, else what google-gax decoded into `statusDetails`. */
function detailsOf(body: Json | undefined, e: Json): unknown[] {
  if (Array.isArray(body?.details)) return body.details as unknown[];
  return Array.isArray(e.statusDetails) ? (e.statusDetails as unknown[]) : [];
}

/** errors[0].reason of the Compute error body (e.g. "rateLimitExceeded", "notFound"). */
function firstReason(body: Json | undefined): string | undefined {
  const errors = Array.isArray(body?.errors) ? (body.errors as unknown[]) : [];
  return stringOf(asRecord(errors[0])?.reason);
}

function errorInfoReason(details: readonly unknown[]): string | undefined {
  for (const detail of details) {
    const d = asRecord(detail);
    if (d && String(d['@type'] ?? '').endsWith('google.rpc.ErrorInfo')) return stringOf(d.reason);
  }
  return undefined;
}

/** google.rpc.RetryInfo.retryDelay as JSON ("1.5s") or as google-gax decodes it ({ seconds, nanos }). */
function retryInfoMs(details: readonly unknown[]): number | undefined {
  for (const detail of details) {
    const delay = asRecord(detail)?.retryDelay;
    if (typeof delay === 'string' && /^\d+(\.\d+)?s$/.test(delay)) return Math.round(Number(delay.slice(0, -1)) * 1000);
    const d = asRecord(delay);
    if (d) return Math.round(Number(d.seconds ?? 0) * 1000 + Number(d.nanos ?? 0) / 1e6);
  }
  return undefined;
}

/** Retry-After from fetch Headers or a plain header object (parsed by the webhook provider's parseRetryAfterMs). */
function retryAfterHeaderMs(response: Json | undefined, nowMs: number): number | undefined {
  const headers = response?.headers as { get?: unknown } | undefined;
  if (!headers) return undefined;
  const raw = typeof headers.get === 'function' ? (headers as { get(name: string): string | null }).get('retry-after') : (headers as Json)['retry-after'];
  return typeof raw === 'string' || Array.isArray(raw) ? parseRetryAfterMs(raw as string | string[], nowMs) : undefined;
}

function asRecord(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null ? (value as Json) : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599 ? value : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MESSAGE_CHARS ? `${flat.slice(0, MESSAGE_CHARS)}…` : flat;
}
