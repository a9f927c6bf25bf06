import type { ErrorRequestHandler, Response } from 'express';
import type { z } from 'zod';
import { PrescaleError } from '../errors.js';

/**
 * Error codes of the admin API's JSON errors, `{"error":{"code","message"}}` (docs/admin-api.md).
 * They name what the client did wrong; they are not PrescaleError codes.
 */
export type ApiErrorCode =
  | 'invalid_body'
  | 'invalid_query'
  | 'invalid_json'
  | 'invalid_id'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'admin_token_not_set'
  | 'not_found'
  | 'backend_not_found'
  | 'backend_exists'
  | 'backend_removing'
  | 'internal';

export function sendApiError(res: Response, status: number, code: ApiErrorCode, message: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error: { code, message } });
}

/** Zod issues as one line: `weight: Too big: expected number to be <=1000; url: Invalid URL`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}

/** A body-parser error with a 4xx status (unsupported charset or encoding, aborted upload, …). */
function isClientError(err: unknown): err is { status: number; message: string } {
  const status = (err as { status?: unknown } | null)?.status;
  return err instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}

/**
 * Last middleware of the /v1 router: body-parser failures become 400 `invalid_json` / 413
 * `payload_too_large` (other 4xx body errors keep their status as `invalid_body`); anything else (a throwing admit callback, …) 500 `internal` with the
 * error's message (and its PrescaleError code, if any, in the message).
 */
export const apiErrorHandler: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') {
    sendApiError(res, 400, 'invalid_json', 'the request body is not valid JSON');
  } else if (type === 'entity.too.large') {
    sendApiError(res, 413, 'payload_too_large', 'the request body is larger than 16 KiB');
  } else if (isClientError(err)) {
    sendApiError(res, err.status, 'invalid_body', err.message);
  } else {
    const detail = err instanceof PrescaleError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    sendApiError(res, 500, 'internal', detail);
  }
};
