import { BlockList, isIP } from 'node:net';

/**
 * Which client addresses may pass an X-Forwarded-For chain through (an L4 balancer or CDN in
 * front of prescale). Entries are IPs or CIDR ranges, v4 or v6 (node:net BlockList).
 * Everyone else's X-Forwarded-For is replaced by their own address, so a client cannot forge
 * the origin the backends see.
 * @throws Error naming the entry when it is neither an IP nor a CIDR range.
 */
export function createTrustedProxies(entries: readonly string[]): ((address: string | undefined) => boolean) | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split('/');
    const family = isIP(ip ?? '');
    if (family === 0 || (bits !== undefined && !/^\d+$/.test(bits))) throw new Error(`not an IP address or CIDR range: "${entry}"`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(ip as string, type);
    else list.addSubnet(ip as string, Number(bits), type);
  }
  return (address) => {
    if (address === undefined) return false;
    const v4 = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(v4);
    return family !== 0 && list.check(v4, family === 4 ? 'ipv4' : 'ipv6');
  };
}
