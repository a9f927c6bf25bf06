/**
 * Hop-by-hop header handling for a forwarding intermediary, RFC 9110 §7.6.1: a proxy removes
 * Connection, the fields it names, and the connection-specific fields Proxy-Connection,
 * Keep-Alive, TE, Transfer-Encoding and Upgrade before forwarding (RFC 9112 frames the message
 * anew on each hop). Expect is consumed here too: node:http answers `100-continue` itself.
 */

/** True for a header name (any case) that never crosses a hop: the fields `headerRole` drops from a response. O(1). */
export function isHopByHop(name: string): boolean {
  return headerRole(name, false) === DROP;
}

/** What the forwarding path does with one header field (`headerRole`). */
export const KEEP = 0;
/** Removed: hop-by-hop, or (requests) an X-Forwarded-For/-Proto/-Host the proxy writes itself. */
export const DROP = 1;
/** Via: its value is kept and the proxy's own entry appended (RFC 9110 §7.6.3). */
export const VIA = 2;
export type HeaderRole = typeof KEEP | typeof DROP | typeof VIA;

/**
 * True when `name` equals `lower` (a lower-case header name: letters, digits, '-') ignoring ASCII
 * case, without allocating a lower-cased copy. O(length).
 */
export function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    // only a letter matches its other case: 'a'-'z' are 0x61-0x7a, 'A'-'Z' 0x41-0x5a
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 0x20)) return false;
  }
  return true;
}

/**
 * The role of header field `name`, in any case: DROP for the hop-by-hop fields (Connection,
 * Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade, Expect) and, when
 * `request` is true, for X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host (replaced by the
 * proxy's own); VIA for Via; KEEP otherwise. Fields named by Connection are not covered (see
 * `connectionTokens`). O(1) and allocation-free: only a name whose length matches one of those
 * fields is compared (the hot path of every forwarded request).
 */
export function headerRole(name: string, request: boolean): HeaderRole {
  switch (name.length) {
    case 2:
      return isNamed(name, 'te') ? DROP : KEEP;
    case 3:
      return isNamed(name, 'via') ? VIA : KEEP;
    case 6:
      return isNamed(name, 'expect') ? DROP : KEEP;
    case 7:
      return isNamed(name, 'upgrade') ? DROP : KEEP;
    case 10:
      return isNamed(name, 'connection') || isNamed(name, 'keep-alive') ? DROP : KEEP;
    case 15:
      return request && isNamed(name, 'x-forwarded-for') ? DROP : KEEP;
    case 16:
      return isNamed(name, 'proxy-connection') || (request && isNamed(name, 'x-forwarded-host')) ? DROP : KEEP;
    case 17:
      return isNamed(name, 'transfer-encoding') || (request && isNamed(name, 'x-forwarded-proto')) ? DROP : KEEP;
    default:
      return KEEP;
  }
}

/**
 * Field names listed in a Connection header value (lower case), e.g. "close, X-Foo" → ["close",
 * "x-foo"]. Returns null for an absent header so the common case allocates nothing.
 */
export function connectionTokens(value: string | string[] | undefined): string[] | null {
  if (value === undefined) return null;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const tokens = joined.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0);
  return tokens.length > 0 ? tokens : null;
}
