import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.js';

/**
 * The one place where error codes become HTTP status at the proxy edge (STYLE.md §5):
 * 502 Bad Gateway for connection failures and invalid upstream responses, 503 Service
 * Unavailable when no backend can take the request, 504 Gateway Timeout when the backend did not
 * answer in time (RFC 9110 §15.6.3-§15.6.5). The body is a small JSON object with a stable code.
 */
export const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  PRESCALE_ERR_UPSTREAM_CONNECT: 502,
  PRESCALE_ERR_NO_HEALTHY_BACKEND: 503,
  PRESCALE_ERR_QUEUE_TIMEOUT: 503,
  PRESCALE_ERR_UPSTREAM_TIMEOUT: 504,
};

/** Write the error response `{"error":{"code","message"}}`; returns the status sent. */
export function sendError(res: ServerResponse, code: ErrorCode, message: string): number {
  const status = STATUS_BY_CODE[code] ?? 500;
  const body = JSON.stringify({ error: { code, message } });
  if (!res.headersSent) {
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
  }
  res.end(body);
  return status;
}

/** Classify an undici / socket error: timeouts → PRESCALE_ERR_UPSTREAM_TIMEOUT, the rest → CONNECT. */
export function upstreamErrorCode(err: unknown): ErrorCode {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return 'PRESCALE_ERR_UPSTREAM_TIMEOUT';
  }
  return 'PRESCALE_ERR_UPSTREAM_CONNECT';
}

/**
 * The connection broke before a response: reset, closed by the peer or a broken pipe. This is
 * what a keep-alive connection the backend closed while idle looks like, as opposed to a refused
 * or timed-out connect (the backend is down) or an invalid response (it is broken).
 */
export function isLostConnection(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}
