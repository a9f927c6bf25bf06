import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendApiError } from './api-error.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** SHA-256 of `s`: equal-length inputs for timingSafeEqual whatever the token's length. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The credentials of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/**
 * Express middleware guarding every mutation (any method but GET, HEAD, OPTIONS) with a bearer
 * token (RFC 6750), compared in constant time over SHA-256 digests:
 * - no `Authorization: Bearer …` → 401 `unauthorized` with `WWW-Authenticate: Bearer realm="prescale-admin"`
 * - a different token → 403 `forbidden`
 * - `token` undefined or empty → every mutation 403 `admin_token_not_set` (set `admin.token`)
 * Safe methods pass through unauthenticated (the admin port listens on loopback).
 */
export function requireBearerForMutations(token: string | undefined): RequestHandler {
  const expected = token === undefined || token === '' ? undefined : digest(token);
  return (req: Request, res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    if (expected === undefined) {
      sendApiError(res, 403, 'admin_token_not_set', 'changes through the admin API are disabled: set admin.token in the config and send it as "Authorization: Bearer <token>"');
      return;
    }
    const presented = bearerToken(req.get('authorization'));
    if (presented === undefined) {
      res.set('WWW-Authenticate', 'Bearer realm="prescale-admin"');
      sendApiError(res, 401, 'unauthorized', 'this request changes state and needs "Authorization: Bearer <admin.token>"');
      return;
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      sendApiError(res, 403, 'forbidden', 'the bearer token does not match admin.token');
      return;
    }
    next();
  };
}
