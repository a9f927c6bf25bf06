/**
 * Parse a textual IP address into network-order bytes, without allocating: IPv4 dotted quad
 * (RFC 791 text form, four decimal octets 0–255) and IPv6 (RFC 4291 §2.2: hex groups, one `::`,
 * an optional trailing dotted IPv4, an optional `%zone` which is ignored).
 *
 * Writes into `out` (at least 16 bytes) and returns how many bytes were written: 4 for IPv4 and
 * for IPv4-mapped IPv6 (`::ffff:a.b.c.d`, what Node reports for IPv4 clients on a dual-stack
 * socket, so one client hashes the same either way), 16 for other IPv6, 0 when `text` is not an
 * IP address (then `out` holds garbage). Cost O(text.length).
 */
export function parseIpAddressBytes(text: string, out: Uint8Array): 0 | 4 | 16 {
  const zone = text.indexOf('%');
  const end = zone >= 0 ? zone : text.length;
  if (text.indexOf(':') < 0) return zone < 0 && parseIpv4(text, 0, end, out, 0) ? 4 : 0;
  if (!parseIpv6(text, end, out)) return 0;
  for (let i = 0; i < 10; i++) if (out[i] !== 0) return 16;
  if (out[10] !== 0xff || out[11] !== 0xff) return 16;
  out.copyWithin(0, 12, 16);
  return 4;
}

/** Four decimal octets in text[from, to) written to out[at .. at+3]; false when malformed. */
function parseIpv4(text: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  let octet = 0;
  let digits = 0;
  let index = at;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : 46; // a virtual '.' closes the last octet
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || index === at + 4) return false;
      out[index++] = octet;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return index === at + 4;
}

/** RFC 4291 text form in text[0, end) written to out[0..15]; false when malformed. */
function parseIpv6(text: string, end: number, out: Uint8Array): boolean {
  out.fill(0, 0, 16);
  let groups = 0; // 16-bit groups written so far, packed from the left into out
  let gap = -1; // group index where '::' stands
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const hex = hexValue(text.charCodeAt(j));
      if (hex < 0) break;
      value = value * 16 + hex;
      digits++;
    }
    if (j < end && text.charCodeAt(j) === 46) {
      if (groups > 6 || !parseIpv4(text, i, end, out, groups * 2)) return false;
      groups += 2;
      break;
    }
    if (digits === 0 || digits > 4 || groups === 8) return false;
    out[groups * 2] = value >> 8;
    out[groups * 2 + 1] = value & 0xff;
    groups++;
    if (j === end) break;
    if (text.charCodeAt(j) !== 58 || j + 1 === end) return false;
    j++;
    if (text.charCodeAt(j) === 58) {
      if (gap >= 0) return false;
      gap = groups;
      j++;
    }
    i = j;
  }
  if (gap < 0) return groups === 8;
  if (groups > 7) return false;
  // move the groups after '::' to the right end, zero-filling the gap
  const tailBytes = (groups - gap) * 2;
  out.copyWithin(16 - tailBytes, gap * 2, groups * 2);
  out.fill(0, gap * 2, 16 - tailBytes);
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
