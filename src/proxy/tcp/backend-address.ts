/** Ports used when a backend url names none: its scheme's well-known port (RFC 9110 §4.2). */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** Where to open a TCP connection: a host name or IP literal (IPv6 without brackets) and a port. */
export interface BackendAddress {
  host: string;
  port: number;
}

/**
 * The host and port of a backend `url` for layer 4 forwarding, like the `address:port` of an
 * nginx `stream` `server` line or a HAProxy `server` in `mode tcp`: the scheme only supplies a
 * default port (http 80, https 443); path and query are ignored. `tcp://db:5432`,
 * `http://10.0.0.7:8080` and `http://[::1]:9000` all work.
 *
 * Returns undefined (never throws) for an unparsable url, an empty host, or a url without a
 * port whose scheme has no default (e.g. `tcp://db`). O(length of url).
 */
export function backendAddress(url: string): BackendAddress | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  const hostname = parsed.hostname;
  if (port === undefined || !(port > 0) || hostname === '') return undefined;
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return { host, port };
}
