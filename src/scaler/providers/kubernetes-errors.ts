/**
 * Turns what @kubernetes/client-node 1.x throws into PRESCALE_ERR_PROVIDER errors that name the
 * call, the HTTP status, the Status object's reason and message, and a hint for the usual fix.
 *
 * client-node throws ApiException { code, body, headers } for a non-2xx answer; `body` is the
 * response text (a Status object as JSON) except for 401, where it is undefined. Transport
 * failures (connection refused, DNS, TLS) are node-fetch FetchErrors.
 */
import { ApiException } from '@kubernetes/client-node';
import { PrescaleError } from '../../errors.js';

const HINTS: Record<number, string> = {
  401: 'check the credentials in the kubeconfig or the service account token',
  403: 'grant the service account get/patch on {deployments,statefulsets}/scale and list/patch on pods in this namespace (RBAC)',
  404: 'check provider namespace, kind and name',
  429: 'the API server is rate limiting; retry after retryAfterMs',
};

/**
 * @param what the call in words, e.g. 'read scale of Deployment shop/web'
 * @param nowMs clock for an HTTP-date Retry-After (the provider passes Date.now())
 */
export function toProviderError(what: string, error: unknown, nowMs: number): PrescaleError {
  if (error instanceof PrescaleError) return error;
  if (!(error instanceof ApiException)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new PrescaleError('PRESCALE_ERR_PROVIDER', `kubernetes: ${what} failed: ${reason}`, { cause: error });
  }
  const code = Number((error as ApiException<unknown>).code);
  const headers = (error as ApiException<unknown>).headers ?? {};
  const status = parseStatus((error as ApiException<unknown>).body);
  const reason = status.reason ?? (code === 401 ? 'Unauthorized' : undefined);
  const retryAfterMs = code === 429 || code === 503 ? parseRetryAfterMs(headerValue(headers, 'retry-after'), nowMs) : undefined;
  const hint = HINTS[code];
  const message =
    `kubernetes: ${what} failed: HTTP ${code}` +
    (reason ? ` ${reason}` : '') +
    (status.message ? `: ${status.message}` : '') +
    (hint ? ` (${hint})` : '');
  return new PrescaleError('PRESCALE_ERR_PROVIDER', message, {
    cause: error,
    details: { status: code, ...(reason ? { reason } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  });
}

/**
 * Retry-After (RFC 9110 §10.2.3) as ms ≥ 0: delay-seconds or an HTTP-date; undefined when absent
 * or unparseable. The Kubernetes API server sends whole seconds.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const atMs = Date.parse(trimmed);
  return Number.isFinite(atMs) ? Math.max(0, atMs - nowMs) : undefined;
}

function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === '' ? {} : { message: body.trim().slice(0, 300) };
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const { reason, message } = value as { reason?: unknown; message?: unknown };
  return {
    ...(typeof reason === 'string' && reason !== '' ? { reason } : {}),
    ...(typeof message === 'string' && message !== '' ? { message } : {}),
  };
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
