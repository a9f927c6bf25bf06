import type { IncomingMessage } from 'node:http';

export interface HashKeySpec {
  source: 'client-ip' | 'header' | 'cookie' | 'path';
  /** Header or cookie name (required for those sources). */
  name?: string | undefined;
}

/**
 * Build the function that extracts the balancing key of a request for the hashing algorithms,
 * like Envoy's `hash_policy` (header, cookie, connection source IP) and nginx `hash $key`.
 * A request without the header or cookie gets undefined (the balancer then spreads it).
 */
export function createHashKey(spec: HashKeySpec): (req: IncomingMessage) => string | undefined {
  switch (spec.source) {
    case 'client-ip':
      return (req) => req.socket.remoteAddress;
    case 'path':
      return (req) => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        return q < 0 ? url : url.slice(0, q);
      };
    case 'header': {
      const name = (spec.name ?? '').toLowerCase();
      return (req) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
    }
    case 'cookie': {
      const prefix = `${spec.name ?? ''}=`;
      return (req) => {
        const cookie = req.headers.cookie;
        if (cookie === undefined) return undefined;
        for (const part of cookie.split(';')) {
          const p = part.trim();
          if (p.startsWith(prefix)) return p.slice(prefix.length);
        }
        return undefined;
      };
    }
  }
}
