/**
 * The backend's answer to a proxied Upgrade request (upgrade.ts), as bytes on a raw socket:
 * finding and parsing the response head (RFC 9112 §2-§5), rewriting it for the client, and
 * following the framing of a non-101 response body (RFC 9112 §6.3, chunked §7.1) so the relay
 * knows where that body ends without decoding or re-framing it. No sockets and no timers here;
 * the only state is the per-response body framing in `BodyEnd`.
 */
import { connectionTokens, isHopByHop } from './hop-by-hop.js';

/** Largest backend response head accepted (node's default --max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface ResponseHead {
  status: number;
  statusLine: string;
  /** Flat name/value pairs as received. */
  headers: string[];
}

/** How the body of a relayed non-101 response ends (RFC 9112 §6.3). */
export type BodyEnd = { kind: 'none' } | { kind: 'length'; remaining: number } | { kind: 'chunked'; scanner: ChunkedEnd } | { kind: 'close' };

/**
 * The first response head in `pending`, the bytes received so far: 'incomplete' until its
 * CRLF CRLF arrives, 'too-large' once the head passes MAX_HEAD_BYTES, 'invalid' when it is not
 * valid HTTP/1.x, else the parsed head. `rest` is what follows the head (a shared view, not a
 * copy). Cost O(pending.length).
 */
export function takeResponseHead(
  pending: Buffer,
): { kind: 'incomplete' } | { kind: 'too-large' } | { kind: 'invalid'; rest: Buffer } | { kind: 'head'; head: ResponseHead; rest: Buffer } {
  const end = pending.indexOf(CRLF2);
  if (end < 0 || end > MAX_HEAD_BYTES) {
    return end > MAX_HEAD_BYTES || pending.length > MAX_HEAD_BYTES ? { kind: 'too-large' } : { kind: 'incomplete' };
  }
  const head = parseResponseHead(pending.toString('latin1', 0, end));
  const rest = pending.subarray(end + 4);
  return head === null ? { kind: 'invalid', rest } : { kind: 'head', head, rest };
}

/** Parse a response head (without its final CRLF CRLF); null when it is not valid HTTP/1.x. */
export function parseResponseHead(text: string): ResponseHead | null {
  const lines = text.split('\r\n');
  const statusLine = lines[0] as string;
  const match = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [^\0\r\n]*)?$/.exec(statusLine);
  if (match === null) return null;
  const headers: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (colon <= 0 || !TOKEN.test(name) || /[\0\r\n]/.test(value)) return null; // also rejects obs-fold (RFC 9112 §5.2)
    headers.push(name, value);
  }
  return { status: Number(match[1]), statusLine, headers };
}

/**
 * The response head for the client: a 101 keeps Upgrade and gets `Connection: Upgrade`; any
 * other response loses its hop-by-hop fields but keeps its framing (Transfer-Encoding, or else
 * Content-Length: the body passes through unchanged) and gets `Connection: close`. Via is added.
 */
export function responseHead(head: ResponseHead, switching: boolean): Buffer {
  const h = head.headers;
  const listed: string[] = [];
  let hasTransferEncoding = false;
  for (let i = 0; i < h.length; i += 2) {
    const lower = (h[i] as string).toLowerCase();
    if (lower === 'connection') listed.push(...(connectionTokens(h[i + 1]) ?? []));
    else if (lower === 'transfer-encoding') hasTransferEncoding = true;
  }
  let out = `${head.statusLine}\r\n`;
  let via = '';
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    const value = h[i + 1] as string;
    const lower = name.toLowerCase();
    const kept = lower === 'transfer-encoding' || (switching && lower === 'upgrade');
    if (!kept && (isHopByHop(lower) || listed.includes(lower))) continue;
    if (hasTransferEncoding && lower === 'content-length') continue; // Transfer-Encoding overrides it (RFC 9112 §6.3)
    if (lower === 'via') via = via === '' ? value : `${via}, ${value}`;
    else out += `${name}: ${value}\r\n`;
  }
  out += `Via: ${via === '' ? '' : `${via}, `}1.1 prescale\r\nConnection: ${switching ? 'Upgrade' : 'close'}\r\n\r\n`;
  return Buffer.from(out, 'latin1');
}

/** Where a response body ends (RFC 9112 §6.3); null for conflicting or invalid Content-Length. */
export function bodyEnd(method: string, head: ResponseHead): BodyEnd | null {
  if (method === 'HEAD' || head.status === 204 || head.status === 304) return { kind: 'none' };
  let te: string | undefined;
  let length: string | undefined;
  for (let i = 0; i < head.headers.length; i += 2) {
    const lower = (head.headers[i] as string).toLowerCase();
    const value = head.headers[i + 1] as string;
    if (lower === 'transfer-encoding') te = te === undefined ? value : `${te}, ${value}`;
    else if (lower === 'content-length') {
      for (const v of value.split(',')) {
        const trimmed = v.trim();
        if (!/^\d{1,15}$/.test(trimmed) || (length !== undefined && length !== trimmed)) return null;
        length = trimmed;
      }
    }
  }
  if (te !== undefined) return te.split(',').at(-1)?.trim().toLowerCase() === 'chunked' ? { kind: 'chunked', scanner: new ChunkedEnd() } : { kind: 'close' };
  if (length !== undefined) return Number(length) === 0 ? { kind: 'none' } : { kind: 'length', remaining: Number(length) };
  return { kind: 'close' };
}

/**
 * How much of `chunk`, the next bytes from the backend, belongs to the body framed by `body`
 * (`take`, a prefix length), and whether that prefix completes it. Advances `body`'s state
 * (remaining length, chunked scanner); 'malformed' for an invalid chunked framing. A 'close'
 * body takes everything and completes only when the backend closes. O(chunk.length).
 */
export function consumeBody(body: BodyEnd, chunk: Buffer): { take: number; complete: boolean } | 'malformed' {
  if (body.kind === 'none') return { take: 0, complete: true };
  if (body.kind === 'length') {
    const take = Math.min(body.remaining, chunk.length);
    body.remaining -= take;
    return { take, complete: body.remaining === 0 };
  }
  if (body.kind === 'chunked') {
    const end = body.scanner.scan(chunk);
    if (end === 'malformed') return 'malformed';
    return end >= 0 ? { take: end, complete: true } : { take: chunk.length, complete: false };
  }
  return { take: chunk.length, complete: false };
}

/** Finds the end of a chunked body (RFC 9112 §7.1) in the bytes passing through, without decoding it. */
export class ChunkedEnd {
  private line = '';
  /** Bytes of chunk data plus its CRLF still to skip. */
  private skip = 0;
  private inTrailers = false;

  /** Length of the prefix of `chunk` that completes the body, -1 when the body goes on. */
  scan(chunk: Buffer): number | 'malformed' {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++] as number;
      if (byte !== 0x0a) {
        if (this.line.length > 4096) return 'malformed';
        this.line += String.fromCharCode(byte);
        continue;
      }
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.inTrailers) {
        if (line === '') return i;
        continue;
      }
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (size === null) return 'malformed';
      const n = parseInt(size[1] as string, 16);
      if (n === 0) this.inTrailers = true;
      else this.skip = n + 2;
    }
    return -1;
  }
}
