import type { IncomingMessage } from 'node:http';
import type { ProxyHandler } from './forward.js';

/** One route rule: every given condition must hold; the first matching rule picks the pool. */
export interface RouteRule {
  match: {
    /** Host header without port, case-insensitive. */
    host?: string | undefined;
    /** Request target starts with this. */
    pathPrefix?: string | undefined;
    /** Request method is one of these (upper case). */
    methods?: readonly string[] | undefined;
    /** Header present, and equal to `value` when given. */
    header?: { name: string; value?: string | undefined } | undefined;
  };
  pool: string;
}

/**
 * Route requests to pools by host, path prefix, method or header (first match wins, like
 * HAProxy `use_backend` rules and Envoy route matching); unmatched requests go to `fallback`.
 * O(rules) per request, no allocation.
 * @throws Error when a rule names a pool without a handler (config validation prevents it).
 */
export function createRouter(rules: readonly RouteRule[], handlers: ReadonlyMap<string, ProxyHandler>, fallback: ProxyHandler): ProxyHandler {
  if (rules.length === 0) return fallback;
  const compiled = rules.map((r) => {
    const handler = handlers.get(r.pool);
    if (handler === undefined) throw new Error(`route names unknown pool "${r.pool}"`);
    return {
      host: r.match.host?.toLowerCase(),
      pathPrefix: r.match.pathPrefix,
      methods: r.match.methods ? new Set(r.match.methods.map((m) => m.toUpperCase())) : undefined,
      headerName: r.match.header?.name.toLowerCase(),
      headerValue: r.match.header?.value,
      handler,
    };
  });
  const matches = (c: (typeof compiled)[number], req: IncomingMessage): boolean => {
    if (c.methods !== undefined && !c.methods.has(req.method ?? '')) return false;
    if (c.pathPrefix !== undefined && !(req.url ?? '/').startsWith(c.pathPrefix)) return false;
    if (c.host !== undefined) {
      const host = req.headers.host ?? '';
      const colon = host.lastIndexOf(':');
      const name = (colon > host.lastIndexOf(']') ? host.slice(0, colon) : host).toLowerCase();
      if (name !== c.host) return false;
    }
    if (c.headerName !== undefined) {
      const v = req.headers[c.headerName];
      if (v === undefined || (c.headerValue !== undefined && (Array.isArray(v) ? !v.includes(c.headerValue) : v !== c.headerValue))) return false;
    }
    return true;
  };
  return (req, res, next) => {
    for (const c of compiled) {
      if (matches(c, req)) return c.handler(req, res, next);
    }
    return fallback(req, res, next);
  };
}
