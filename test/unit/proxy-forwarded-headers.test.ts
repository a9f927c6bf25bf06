import { describe, expect, it } from 'vitest';
import { responseHeaders } from '../../src/proxy/forwarded-headers.js';
import { DROP, KEEP, VIA, headerRole, isHopByHop, isNamed } from '../../src/proxy/hop-by-hop.js';

describe('header roles on the forwarding path (RFC 9110 §7.6)', () => {
  it.each([
    ['Connection', DROP, DROP],
    ['connection', DROP, DROP],
    ['Keep-Alive', DROP, DROP],
    ['Proxy-Connection', DROP, DROP],
    ['TE', DROP, DROP],
    ['Transfer-Encoding', DROP, DROP],
    ['UPGRADE', DROP, DROP],
    ['Expect', DROP, DROP],
    ['Via', VIA, VIA],
    ['X-Forwarded-For', DROP, KEEP],
    ['x-forwarded-proto', DROP, KEEP],
    ['X-Forwarded-Host', DROP, KEEP],
    // same lengths as a removed field, but not one
    ['Te', DROP, DROP],
    ['To', KEEP, KEEP],
    ['Vary', KEEP, KEEP],
    ['User-Agent', KEEP, KEEP],
    ['X-Forwarded-Bye', KEEP, KEEP],
    ['Content-Length', KEEP, KEEP],
    ['Host', KEEP, KEEP],
    ['', KEEP, KEEP],
  ] as const)('%s: %i in a request, %i in a response', (name, inRequest, inResponse) => {
    expect(headerRole(name, true)).toBe(inRequest);
    expect(headerRole(name, false)).toBe(inResponse);
  });

  it('drops exactly the names isHopByHop lists, in any case', () => {
    for (const name of ['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'expect']) {
      expect(isHopByHop(name)).toBe(true);
      expect(headerRole(name.toUpperCase(), false)).toBe(DROP);
    }
  });
});

describe('case-insensitive header name comparison', () => {
  it.each([
    ['Host', 'host', true],
    ['HOST', 'host', true],
    ['host', 'host', true],
    ['hosts', 'host', false],
    ['Hos', 'host', false],
    ['Keep-Alive', 'keep-alive', true],
    ['Keep_Alive', 'keep-alive', false],
    ['Keep\rAlive', 'keep-alive', false],
    ['X-Forwarded-For', 'x-forwarded-for', true],
    ['X-Forwarded-F0r', 'x-forwarded-for', false],
    ['Hóst', 'host', false],
  ])('%j vs %j: %s', (name, lower, expected) => {
    expect(isNamed(name, lower)).toBe(expected);
  });
});

/** undici's raw response headers: a flat list of Buffers. */
const raw = (...lines: string[]): Buffer[] => lines.map((l) => Buffer.from(l, 'latin1'));

describe('response headers sent to the client', () => {
  it('removes hop-by-hop fields and the ones Connection names, appends to Via, and reads Content-Length', () => {
    const framing = { expectedBytes: -1 };
    const out = responseHeaders(raw('Content-Type', 'text/plain', 'X-Secret', 's', 'Connection', 'keep-alive, x-secret', 'Via', '1.0 cdn', 'Content-Length', '100', 'Keep-Alive', 'timeout=5', 'connection', 'X-Other', 'x-other', 'o'), framing);
    expect(out).toEqual(['Content-Type', 'text/plain', 'Content-Length', '100', 'via', '1.0 cdn, 1.1 prescale']);
    expect(framing.expectedBytes).toBe(100);
  });

  it.each([
    [['Transfer-Encoding', 'chunked'], -1],
    [['Content-Length', '0'], -1],
    [['content-length', '65536'], 65_536],
  ])('Content-Length of %j is %i', (lines, expected) => {
    const framing = { expectedBytes: -1 };
    responseHeaders(raw(...lines), framing);
    expect(framing.expectedBytes).toBe(expected);
  });
});
