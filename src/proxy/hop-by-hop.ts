/**
 * Hop-by-hop header handling for a forwarding intermediary, RFC 9110 §7.6.1: a proxy removes
 * Connection, the fields it names, and the connection-specific fields Proxy-Connection,
 * Keep-Alive, TE, Transfer-Encoding and Upgrade before forwarding (RFC 9112 frames the message
 * anew on each hop). Expect is consumed here too: node:http answers `100-continue` itself.
 */
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'expect']);

/** True for a lower-case header name that never crosses a hop. */
export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
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
