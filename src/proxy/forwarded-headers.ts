import type { IncomingMessage } from 'node:http';
import { DROP, KEEP, connectionTokens, headerRole } from './hop-by-hop.js';

/** prescale's Via entry (RFC 9110 §7.6.3), by the request's minor HTTP version. */
const VIA_1_0 = '1.0 prescale';
const VIA_1_1 = '1.1 prescale';

/**
 * A client request's header lines as forward.ts sends them upstream, as a flat
 * `[name, value, …]` list: hop-by-hop fields and those its Connection header names removed
 * (RFC 9110 §7.6.1), prescale's entry appended to Via (§7.6.3), X-Forwarded-For set to the
 * client address (appended to the incoming chain only when `trustedProxy` accepts the peer),
 * X-Forwarded-Proto to `proto` and X-Forwarded-Host to Host (the de facto headers nginx and
 * HAProxy set). O(header lines); a name is lower-cased only when its length matches a field that
 * could be removed, or when the request has a Connection header.
 */
export function requestHeaders(req: IncomingMessage, proto: string, trustedProxy: ((address: string | undefined) => boolean) | undefined): string[] {
  const raw = req.rawHeaders;
  const h = req.headers;
  const listed = h.connection === undefined ? null : connectionTokens(h.connection);
  const out: string[] = [];
  let via = '';
  const remote = req.socket.remoteAddress ?? '';
  const incomingXff = trustedProxy?.(remote) ? h['x-forwarded-for'] : undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const role = headerRole(name, true);
    if (role === DROP || (listed !== null && listed.includes(name.toLowerCase()))) continue;
    if (role === KEEP) out.push(name, raw[i + 1] as string);
    else via = via === '' ? (raw[i + 1] as string) : `${via}, ${raw[i + 1] as string}`;
  }
  const own = req.httpVersionMinor === 0 ? VIA_1_0 : VIA_1_1;
  out.push(
    'x-forwarded-for', incomingXff === undefined ? remote : `${incomingXff}, ${remote}`,
    'x-forwarded-proto', proto,
    'via', via === '' ? own : `${via}, ${own}`,
  );
  if (h.host !== undefined) out.push('x-forwarded-host', h.host);
  return out;
}

/**
 * True when an upstream header name (raw bytes) is `lower` in any case, decoding only names of
 * the same length and first letter, e.g. "connection" or "content-length".
 */
function isNamedBuffer(name: Buffer, lower: string): boolean {
  return name.length === lower.length && ((name[0] as number) | 0x20) === lower.charCodeAt(0) && name.toString('latin1').toLowerCase() === lower;
}

/**
 * An upstream response's header lines (undici's raw `[name, value, …]` Buffers) as sent to the
 * client: hop-by-hop fields and those its Connection headers name removed, prescale's entry
 * appended to Via (RFC 9110 §7.6); sets `framing.expectedBytes` to its Content-Length when it has
 * a positive one (undici has already refused an invalid or conflicting one). O(header lines); a
 * name is lower-cased only when its length matches a field that could be removed.
 */
export function responseHeaders(rawHeaders: Buffer[], framing: { expectedBytes: number }): string[] {
  let listed: string[] | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as Buffer;
    if (isNamedBuffer(name, 'connection')) {
      const tokens = connectionTokens((rawHeaders[i + 1] as Buffer).toString('latin1'));
      if (tokens !== null) listed = listed === null ? tokens : listed.concat(tokens);
    } else if (isNamedBuffer(name, 'content-length')) {
      const n = Number((rawHeaders[i + 1] as Buffer).toString('latin1'));
      framing.expectedBytes = Number.isSafeInteger(n) && n > 0 ? n : -1;
    }
  }
  const headers: string[] = [];
  let via = '';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as Buffer).toString('latin1');
    const role = headerRole(name, false);
    if (role === DROP || (listed !== null && listed.includes(name.toLowerCase()))) continue;
    const value = (rawHeaders[i + 1] as Buffer).toString('latin1');
    if (role === KEEP) headers.push(name, value);
    else via = via === '' ? value : `${via}, ${value}`;
  }
  headers.push('via', via === '' ? VIA_1_1 : `${via}, ${VIA_1_1}`);
  return headers;
}
