import { BlockList, isIP } from 'node:net';
import { PrescaleError } from '../errors.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True when binding `host` only accepts connections from this machine: `localhost`, an IPv4
 * address in 127.0.0.0/8, or `::1` (any spelling, brackets allowed, IPv4-mapped `::ffff:127.x`
 * included). Wildcards (`0.0.0.0`, `::`, empty) and every other name are not: a name other than
 * `localhost` could resolve anywhere. O(1), no DNS lookup.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return LOOPBACK.check(h, 'ipv4');
  if (family === 6) return LOOPBACK.check(h, 'ipv6');
  return false;
}

/**
 * Refuse to start an admin API that anyone on the network could change: throws unless `host`
 * is a loopback address (see isLoopbackHost) or a token is set. GETs are unauthenticated, so a
 * token also does not hide the read-only endpoints; bind to loopback when that matters.
 * @throws PrescaleError PRESCALE_ERR_CONFIG naming `admin.host` and `admin.token`
 */
export function assertAdminBindSafe(host: string, token: string | undefined): void {
  if (token !== undefined && token !== '') return;
  if (isLoopbackHost(host)) return;
  throw new PrescaleError(
    'PRESCALE_ERR_CONFIG',
    `admin.host is "${host}", which is not a loopback address, and admin.token is not set: set admin.token (sent as "Authorization: Bearer <token>") or bind admin.host to 127.0.0.1`,
  );
}
