/**
 * The `webhook` capacity provider: every call POSTs one JSON request to a user's HTTP endpoint and
 * reads one JSON answer. Bodies and answers follow the exec provider's protocol (exec.ts):
 *   {"action":"describe"}                                   → {"instances":[...]}
 *   {"action":"set-desired","desired":3,"remove":["i-1"]}  → {"ok":true}
 *
 * Signing (the scheme Stripe and GitHub webhooks use): each request carries
 *   X-Prescale-Timestamp: <epoch seconds>
 *   X-Prescale-Signature: sha256=<hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`)>
 * Signing the timestamp with the body lets a receiver reject replays: it recomputes the HMAC
 * over the raw bytes it received (before any JSON parsing), compares in constant time, and
 * refuses timestamps more than a few minutes from its clock. `verifySignature` does all three.
 *
 * Failures are PrescaleError PRESCALE_ERR_PROVIDER: no answer within `timeoutMs` (the request is
 * aborted), a connection error, a non-2xx status (message has the status and a body excerpt;
 * `details.retryAfterMs` comes from Retry-After on 429 and 503), or an answer of the wrong shape.
 * `details.retryable` is false for 4xx statuses other than 408, 425 and 429: asking again will
 * not help (see withRetries in retrying.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, request } from 'undici';
import { PrescaleError } from '../../errors.js';
import type { CapacityProvider, Fleet } from '../provider.js';
import { checkDesired, parseDescribeResponse, parseSetDesiredResponse, toFleet, type ProtocolRequest } from './exec.js';

export interface WebhookProviderOptions {
  /** http:// or https:// endpoint that receives every call. */
  readonly url: string;
  /** HMAC key shared with the receiver. */
  readonly secret: string;
  /** Longest a single call may take, answer body included, before it is aborted (ms > 0). */
  readonly timeoutMs: number;
}

export const SIGNATURE_HEADER = 'x-prescale-signature';
export const TIMESTAMP_HEADER = 'x-prescale-timestamp';
/** Default replay window of verifySignature, as Stripe's libraries use. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** `sha256=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>`, the X-Prescale-Signature value. */
export function signature(secret: string, timestamp: string | number, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/**
 * Check a webhook request on the receiving side.
 * @param timestamp the X-Prescale-Timestamp header (epoch seconds)
 * @param body the raw request body exactly as received (string or bytes), not re-serialised JSON
 * @param header the X-Prescale-Signature header
 * @param options.nowMs the receiver's clock (default Date.now()); options.toleranceSeconds how far
 *   the timestamp may be from it (default 300; Infinity turns the replay check off)
 * @returns true only if the timestamp is fresh and the signature matches (constant-time compare).
 *   Never throws: a missing or malformed header is simply false.
 */
export function verifySignature(
  secret: string,
  timestamp: string | number | undefined,
  body: string | Uint8Array,
  header: string | undefined,
  options: { nowMs?: number; toleranceSeconds?: number } = {},
): boolean {
  const ts = String(timestamp ?? '');
  if (!/^\d{1,12}$/.test(ts) || typeof header !== 'string') return false;
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs((options.nowMs ?? Date.now()) / 1000 - Number(ts)) > toleranceSeconds) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const expected = Buffer.from(signature(secret, ts, body).slice('sha256='.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[1] as string, 'hex'));
}

/**
 * Milliseconds to wait from a Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date
 * (relative to `nowMs`). undefined when absent or unparseable; never negative.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : Math.max(0, atMs - nowMs);
}

const MAX_BODY_BYTES = 1024 * 1024;
const EXCERPT_CHARS = 200;

export class WebhookProvider implements CapacityProvider {
  readonly name = 'webhook';
  readonly #options: WebhookProviderOptions;
  readonly #agent = new Agent();
  readonly #source: string;
  readonly #firstSeenMs = new Map<string, number>();
  #closed = false;

  constructor(options: WebhookProviderOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `webhook provider url: expected an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PrescaleError('PRESCALE_ERR_CONFIG', `webhook provider url: expected an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
    }
    if (options.secret.length === 0) throw new PrescaleError('PRESCALE_ERR_CONFIG', 'webhook provider secret: expected a non-empty string');
    if (!(options.timeoutMs > 0)) throw new PrescaleError('PRESCALE_ERR_CONFIG', `webhook provider timeoutMs: expected ms > 0, got ${options.timeoutMs}`);
    this.#options = options;
    // never put credentials or a query string (which may hold a token) into messages and logs
    this.#source = `webhook provider POST ${url.origin}${url.pathname}`;
  }

  /** POST {"action":"describe"}. @throws PrescaleError PRESCALE_ERR_PROVIDER */
  async describe(): Promise<Fleet> {
    const answer = parseDescribeResponse(await this.#post({ action: 'describe' }), this.#source);
    return toFleet(answer, this.#firstSeenMs, Date.now());
  }

  /** POST {"action":"set-desired",...}; resolves on {"ok":true}. @throws PrescaleError PRESCALE_ERR_PROVIDER */
  async setDesired(desired: number, options: { remove?: readonly string[] } = {}): Promise<void> {
    checkDesired(this.name, desired);
    const body = await this.#post({ action: 'set-desired', desired, remove: [...(options.remove ?? [])] });
    parseSetDesiredResponse(body, this.#source, desired);
  }

  /** Close the connection pool. The fleet is left as it is: shutting prescale down must not scale it in. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#agent.close();
  }

  /** POST one signed request; resolves with the parsed JSON of a 2xx answer. */
  async #post(call: ProtocolRequest): Promise<unknown> {
    const { action } = call;
    if (this.#closed) throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${this.#source}: provider is closed`, { details: { action, retryable: false } });
    const { url, secret, timeoutMs } = this.#options;
    const body = JSON.stringify(call);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'prescale',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signature(secret, timestamp, body),
        },
        body,
      });
      const text = await readCapped(res.body, MAX_BODY_BYTES);
      if (res.statusCode < 200 || res.statusCode > 299) throw this.#statusError(action, res.statusCode, text, res.headers['retry-after']);
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${this.#source} answered ${res.statusCode} to ${action} with ${excerpt(text)} instead of JSON`, {
          cause: error,
          details: { action, status: res.statusCode },
        });
      }
    } catch (error) {
      if (error instanceof PrescaleError) throw error;
      if (controller.signal.aborted) {
        throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${this.#source} did not answer ${action} within ${timeoutMs} ms`, { cause: error, details: { action, timeoutMs } });
      }
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      throw new PrescaleError('PRESCALE_ERR_PROVIDER', `${this.#source} failed during ${action}: ${reason}`, { cause: error, details: { action } });
    } finally {
      clearTimeout(timer);
    }
  }

  #statusError(action: string, status: number, text: string, retryAfter: string | string[] | undefined): PrescaleError {
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfterMs(retryAfter, Date.now()) : undefined;
    const retryable = status >= 500 || status === 408 || status === 425 || status === 429;
    const wait = retryAfterMs === undefined ? '' : ` (Retry-After ${retryAfterMs} ms)`;
    return new PrescaleError('PRESCALE_ERR_PROVIDER', `${this.#source} answered ${status} to ${action}${wait}: ${excerpt(text)}`, {
      details: { action, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), ...(retryable ? {} : { retryable: false }) },
    });
  }
}

/** The body as UTF-8 text; a body over `maxBytes` is cut off there (enough for an excerpt, rejected as JSON). */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    bytes += chunk.length;
    if (bytes > maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length === 0) return 'an empty body';
  return JSON.stringify(flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat);
}
