import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingBackend, type RecordingBackend } from '../helpers/hostile-backend.js';
import { rawExchange } from '../helpers/hostile-client.js';
import { recordScenario } from '../helpers/reliability.js';
import { startProxy } from '../helpers/servers.js';

/**
 * Request smuggling and framing probes over raw sockets against the real proxy, in front of a
 * backend that records every byte and parses it strictly (test/helpers/hostile-backend.ts).
 * Each probe must be refused (4xx, 505, or a closed connection) and the backend must receive
 * exactly the requests listed, never a smuggled one (RFC 9112 §6.1, §6.3, §11.2; RFC 9110 §5.5).
 */
const H = 'Host: x\r\n';
const SMUGGLED = `GET /smuggled HTTP/1.1\r\n${H}\r\n`;

interface Probe {
  name: string;
  bytes: string;
  /** Statuses the client may get, in order; [] = the connection is closed without an answer. */
  statuses: number[];
  /** "METHOD target" of every request the backend may receive, in order. */
  backend?: string[];
}

const refused = (name: string, bytes: string, status = 400): Probe => ({ name, bytes, statuses: [status] });

const PROBES: Probe[] = [
  refused('CL.TE: Content-Length then Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`),
  refused('TE.CL: Transfer-Encoding then Content-Length', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`),
  refused('duplicate equal Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`),
  refused('duplicate different Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`),
  refused('Content-Length list "5, 6"', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!`),
  refused('Content-Length "+5"', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`),
  refused('Content-Length "-5"', `POST / HTTP/1.1\r\n${H}Content-Length: -5\r\n\r\nhello`),
  refused('Content-Length "0x5"', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`),
  refused('Content-Length "five"', `POST / HTTP/1.1\r\n${H}Content-Length: five\r\n\r\nhello`),
  refused('Content-Length "5 5"', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello`),
  refused('Content-Length beyond 2^64', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nhello`),
  refused('Content-Length with space before the colon', `POST / HTTP/1.1\r\n${H}Content-Length : ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`),
  refused('Transfer-Encoding: identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n${SMUGGLED}`, 501),
  refused('Transfer-Encoding: gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n${SMUGGLED}`, 501),
  refused('Transfer-Encoding: gzip, chunked (a coding the proxy cannot decode)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501),
  refused('Transfer-Encoding: chunked, identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`),
  refused('Transfer-Encoding: chunked, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`),
  refused('two Transfer-Encoding lines, chunked then identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`),
  refused('"Transfer-Encoding : chunked" (space before the colon)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding: xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding with a vertical tab', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding obs-folded onto the next line', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`),
  refused('chunk size overflowing 64 bits', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n`),
  refused('negative chunk size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`),
  refused('chunk size "0x5"', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`),
  refused('chunk data without its CRLF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n${SMUGGLED}`),
  refused('chunk sizes ended by bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n${SMUGGLED}`),
  refused('bare CR in a chunk extension', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n`),
  refused('obs-fold header line', `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`),
  refused('bare LF line endings', `GET / HTTP/1.1\nHost: x\n\n${SMUGGLED}`),
  refused('bare LF inside the head', `GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n`),
  refused('bare CR inside the head', `GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n`),
  refused('NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`),
  refused('NUL in a header name', `GET / HTTP/1.1\r\n${H}X\x00A: ab\r\n\r\n`),
  refused('DEL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`),
  refused('space inside a header name', `GET / HTTP/1.1\r\n${H}X A: ab\r\n\r\n`),
  refused('header line without a colon', `GET / HTTP/1.1\r\n${H}foo\r\n\r\n`),
  refused('whitespace before the first header line', `GET / HTTP/1.1\r\n Host: x\r\n\r\n`),
  refused('head over 16 KiB', `GET / HTTP/1.1\r\n${H}X-A: ${'a'.repeat(17_000)}\r\n\r\n`, 431),
  refused('101 header lines', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 100 }, (_, i) => `a${i}: b\r\n`).join('')}\r\n`, 431),
  refused('2 500 header lines (node would drop those past 2 000)', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 2500 }, (_, i) => `a${i}:b\r\n`).join('')}\r\n`, 431),
  refused('method with an invalid character', `G@T / HTTP/1.1\r\n${H}\r\n`),
  refused('unknown method', `FOO / HTTP/1.1\r\n${H}\r\n`),
  refused('lower-case method', `get / HTTP/1.1\r\n${H}\r\n`),
  refused('target without a leading slash', `GET foo HTTP/1.1\r\n${H}\r\n`),
  refused('asterisk-form target', `OPTIONS * HTTP/1.1\r\n${H}\r\n`),
  refused('space inside the target', `GET /a b HTTP/1.1\r\n${H}\r\n`),
  refused('control character in the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`),
  refused('absolute-form to another host', `GET http://evil.example/admin HTTP/1.1\r\n${H}\r\n`),
  refused('absolute-form with userinfo', `GET http://user@x/ HTTP/1.1\r\n${H}\r\n`),
  refused('HTTP/1.0 with Transfer-Encoding', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`),
  refused('HTTP/2.0 in an HTTP/1 request line', `GET / HTTP/2.0\r\n${H}\r\n`, 505),
  refused('HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`),
  refused('HTTP/0.9 request', 'GET /\r\n\r\n'),
  refused('no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'),
  refused('two Host lines', 'GET / HTTP/1.1\r\nHost: x\r\nHost: evil\r\n\r\n'),
  refused('invalid Host value', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n'),
  refused('request behind a refused one on the same connection', `GET / HTTP/1.1\r\nHost: a b\r\n\r\n${SMUGGLED}`),
  refused('request pipelined behind one without Host (found by the fuzz run)', `GET / HTTP/1.1\r\n\r\n${SMUGGLED}`),
  { name: 'CONNECT (a reverse proxy tunnels nothing)', bytes: 'CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n', statuses: [] },
  // the first request is served, the bad one refused after it, the one behind never parsed
  { name: 'pipelined requests after a bad one', bytes: `GET /one HTTP/1.1\r\n${H}\r\nGET /two HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\n${SMUGGLED}`, statuses: [200, 400], backend: ['GET /one'] },
];

describe('hostile framing: smuggling probes are refused and never desynchronise the backend', () => {
  let backend: RecordingBackend;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let sent = 0;
  let refusedCount = 0;
  let smuggled = 0;

  beforeAll(async () => {
    backend = await startRecordingBackend();
    proxy = await startProxy([backend.url]);
  });
  afterAll(async () => {
    await proxy.close();
    await backend.close();
    recordScenario({
      id: 'hostile-framing-probes',
      group: 'hostile input',
      scenario: 'Request smuggling and framing probes (CL+TE, bad Content-Length and chunk sizes, obs-fold, bare LF/CR, NUL, oversized heads, bad targets and versions) over raw sockets',
      load: `${PROBES.length} probes, one connection each, plus framing controls`,
      faults: 'malformed or ambiguous HTTP/1.1 framing from the client',
      sent,
      failed: refusedCount,
      lost: smuggled,
      expectation: 'every probe refused with 4xx/505 or a closed connection (counted as failed); no smuggled or malformed request reaches the backend (lost)',
    });
  });

  it.each(PROBES)('$name', async (probe) => {
    backend.reset();
    sent++;
    // every probe ends with the connection closed: a long quiet time only costs a probe that hangs
    const reply = await rawExchange(proxy.port, probe.bytes, { quietMs: 3000 });
    await new Promise((r) => setTimeout(r, 30)); // let anything forwarded arrive
    const seen = backend.requests.map((r) => `${r.method} ${r.target}`);
    const expected = probe.backend ?? [];
    if (seen.some((s) => !expected.includes(s)) || backend.malformed.length > 0) smuggled++;
    if (reply.statuses.at(-1) !== 200) refusedCount++;
    expect(reply.statuses).toEqual(probe.statuses);
    expect(reply.closed).toBe(true);
    expect(seen).toEqual(expected);
    expect(backend.malformed).toEqual([]);
  });

  it('serves the legitimate forms of the same features, framed with exactly one of Content-Length or chunked', async () => {
    backend.reset();
    const cases: Array<[string, string]> = [
      ['POST /upper HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'POST /upper'],
      ['GET http://x/absolute?q=1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /absolute?q=1'],
      [`GET / HTTP/1.1\r\nHost: x\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, 'GET /'],
      ['POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n', 'POST /trailers'],
      ['GET /empty-host HTTP/1.1\r\nHost:\r\n\r\n', 'GET /empty-host'],
    ];
    for (const [bytes] of cases) expect((await rawExchange(proxy.port, bytes, { quietMs: 3000, responses: 1 })).statuses).toEqual([200]);
    expect(backend.requests.map((r) => `${r.method} ${r.target}`)).toEqual(cases.map(([, seen]) => seen));
    // a body carrying a request line stays a body: the backend got all its bytes, no /smuggled
    expect(backend.requests[2]!.body.toString()).toBe(SMUGGLED);
    expect(backend.malformed).toEqual([]);
  });

  it('forwards a body still arriving past 16 KiB chunked, and a small one buffered whole with Content-Length', async () => {
    backend.reset();
    const big = 'a'.repeat(0x5000);
    for (const [head, pieces, framing, body] of [
      [`POST /slow-chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, [`5000\r\n${big}\r\n`, '6\r\n world\r\n', '0\r\n\r\n'], 'chunked', `${big} world`],
      [`POST /slow-small-chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, ['5\r\nhello\r\n', '6\r\n world\r\n', '0\r\n\r\n'], 'content-length', 'hello world'],
      [`POST /slow-length HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\n`, ['hello', ' world'], 'content-length', 'hello world'],
    ] as const) {
      const socket = connect(proxy.port, '127.0.0.1');
      const reply = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.endsWith(`ok POST ${head.split(' ')[1]!}`)) resolve(text);
        });
      });
      const before = backend.bytesReceived();
      socket.write(head);
      for (const piece of pieces) {
        await new Promise((r) => setTimeout(r, 60));
        // a small body is held at the proxy until complete: not a byte reaches the backend before
        if (framing === 'content-length') expect(backend.bytesReceived()).toBe(before);
        socket.write(piece);
      }
      expect(await reply).toMatch(/^HTTP\/1\.1 200/);
      socket.destroy();
      const got = backend.requests.at(-1)!;
      expect([got.framing, got.body.toString()]).toEqual([framing, body]);
    }
    expect(backend.malformed).toEqual([]);
  });

  it('cuts off a request whose chunked body turns malformed after forwarding began, and the backend sees no request', async () => {
    backend.reset();
    const socket = connect(proxy.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => undefined);
    socket.write(`POST /broken HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
    await new Promise((r) => setTimeout(r, 150)); // the upstream request is under way
    socket.write(`zz\r\n\r\n${SMUGGLED}`);
    await closed;
    expect(text === '' || text.startsWith('HTTP/1.1 400')).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.requests).toEqual([]);
    expect(backend.malformed).toEqual([]);
    // and the proxy keeps serving
    expect((await rawExchange(proxy.port, `GET /after HTTP/1.1\r\n${H}\r\n`, { quietMs: 3000, responses: 1 })).statuses).toEqual([200]);
  });
});
