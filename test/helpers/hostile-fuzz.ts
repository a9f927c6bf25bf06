/**
 * Seeded generator of hostile HTTP/1.1 request bytes for the fuzz test: valid requests from a few
 * templates, mutated with the edits that break framing (stray CR/LF/NUL, extra Content-Length or
 * Transfer-Encoding lines, folded lines, duplicated or deleted lines, case flips, truncation,
 * smuggled request lines), plus some purely random bytes. Input `id` is written into every
 * target (`/f<id>a…`) so requests a backend receives can be told apart.
 */
import { seededRandom } from '../../src/runtime/seeded-random.js';

const templates = (id: number): string[] => [
  `GET /f${id}a?q=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n`,
  `POST /f${id}b HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world`,
  `POST /f${id}c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
  `GET /f${id}d HTTP/1.1\r\nHost: x\r\n\r\nGET /f${id}e HTTP/1.1\r\nHost: x\r\n\r\n`,
  `GET http://x/f${id}f HTTP/1.1\r\nHost: x\r\n\r\n`,
  `PUT /f${id}g HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc`,
];

const NASTY_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x30, 0x66, 0x2d, 0x2b, 0x41, 0x7f, 0xff, 0x0b, 0x0c, 0x22];
const tokens = (id: number): string[] => [
  '\r\n', '\n', '\r', '\r\n\r\n', '\x00', ' ', '\t', ',',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: identity\r\n', 'Content-Length: 5\r\n', 'Content-Length: 0\r\n',
  'Content-Length: 99999999999999999999\r\n', ' chunked', ', chunked', 'Host: y\r\n', 'Connection: close\r\n', 'Expect: 100-continue\r\n',
  '0\r\n\r\n', 'ffffffffffffffff\r\n', 'HTTP/1.0', 'HTTP/2.0', ' HTTP/1.1', 'http://evil/',
  `GET /s${id} HTTP/1.1\r\nHost: x\r\n\r\n`, `\r\n\r\nPOST /s${id} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`,
];

/** `count` hostile inputs from `seed`; the same seed gives the same bytes. */
export function* fuzzInputs(seed: number, count: number): Generator<{ id: number; bytes: Buffer }> {
  const random = seededRandom(seed);
  const int = (n: number): number => Math.floor(random() * n);
  for (let id = 0; id < count; id++) {
    if (random() < 0.1) {
      const bytes = Buffer.alloc(1 + int(300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
      yield { id, bytes };
      continue;
    }
    const all = templates(id);
    let b: Buffer = Buffer.from(all[int(all.length)]!, 'latin1');
    const edits = 1 + int(4);
    for (let e = 0; e < edits; e++) b = mutate(b, id, int);
    yield { id, bytes: b };
  }
}

function mutate(b: Buffer, id: number, int: (n: number) => number): Buffer {
  const at = int(b.length + 1);
  switch (int(8)) {
    case 0: { // replace one byte with a nasty one
      const c = Buffer.from(b);
      if (c.length > 0) c[Math.min(at, c.length - 1)] = NASTY_BYTES[int(NASTY_BYTES.length)]!;
      return c;
    }
    case 1: { // insert a nasty token
      const all = tokens(id);
      return Buffer.concat([b.subarray(0, at), Buffer.from(all[int(all.length)]!, 'latin1'), b.subarray(at)]);
    }
    case 2: // delete a range
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))]);
    case 3: { // duplicate a line
      const text = b.toString('latin1');
      const lines = text.split('\r\n');
      const i = int(lines.length);
      lines.splice(i, 0, lines[i]!);
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 4: { // fold a line: its CRLF followed by a space
      const text = b.toString('latin1');
      const i = text.indexOf('\r\n', at);
      return i < 0 ? b : Buffer.from(`${text.slice(0, i + 2)} ${text.slice(i + 2)}`, 'latin1');
    }
    case 5: { // flip the case of a range
      const text = b.toString('latin1');
      const end = Math.min(text.length, at + 1 + int(12));
      const part = text.slice(at, end);
      return Buffer.from(text.slice(0, at) + (int(2) === 0 ? part.toUpperCase() : part.toLowerCase()) + text.slice(end), 'latin1');
    }
    case 6: // truncate
      return b.subarray(0, at);
    default: { // CRLF becomes bare LF somewhere
      const text = b.toString('latin1');
      const i = text.indexOf('\r\n', at);
      return i < 0 ? b : Buffer.from(text.slice(0, i) + text.slice(i + 1), 'latin1');
    }
  }
}
