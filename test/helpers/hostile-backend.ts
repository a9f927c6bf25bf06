/**
 * A raw recording backend for the hostile-input tests: a plain `net` server that keeps every
 * byte it receives and parses it with a deliberately strict HTTP/1.1 request parser (RFC 9112),
 * so a desynchronised or ambiguously framed stream from the proxy shows up as a `malformed`
 * entry instead of being silently tolerated the way a lenient backend would.
 *
 * Strict means: CRLF line endings only (no bare LF or CR), no obs-fold, header names are tokens,
 * header values have no control characters, exactly one of Content-Length (digits only, once)
 * or Transfer-Encoding (exactly "chunked") frames a body, and chunk sizes are 1-8 hex digits.
 * Every request parsed is answered `200` with body `ok <method> <target>` on the same keep-alive
 * connection; a malformed stream is recorded and the connection destroyed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** One request the backend parsed off the wire. */
export interface ReceivedRequest {
  method: string;
  target: string;
  /** Header lines in order, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  framing: 'none' | 'content-length' | 'chunked';
  /** Index of the TCP connection it arrived on (0-based, in accept order). */
  connection: number;
}

export interface RecordingBackend {
  url: string;
  port: number;
  /** Requests parsed, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Why a stream was rejected (one entry per connection that went bad), with the offending bytes. */
  readonly malformed: string[];
  /** Connections accepted so far. */
  connections(): number;
  /** Bytes received so far on all connections, parsed or not. */
  bytesReceived(): number;
  /** Forget recorded requests and malformed entries (between probes). */
  reset(): void;
  close(): Promise<void>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[^\s]*) HTTP\/(1\.1)$/;
const CLIENT_REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\/[^\s]*|https?:\/\/[^\s]*) HTTP\/(1\.[01])$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

class Malformed extends Error {}

/** Client mode: also HTTP/1.0 (Host optional), absolute-form targets (as origin-form), leading empty lines, long chunk sizes. */
export interface StrictParseOptions {
  client?: boolean;
}

/**
 * Parse one complete request from the front of `buf`: the request and its length, null if
 * incomplete; throws on anything malformed. With `client`, it reads what a client sent the way
 * the proxy should understand it at best (the fuzz oracle).
 */
export function parseStrictRequest(buf: Buffer, options: StrictParseOptions = {}): { request: Omit<ReceivedRequest, 'connection'>; length: number } | null {
  let skipped = 0;
  while (options.client && buf[skipped] === 13 && buf[skipped + 1] === 10) skipped += 2;
  if (skipped > 0) {
    const rest = parseStrictRequest(buf.subarray(skipped), options);
    return rest === null ? null : { request: rest.request, length: rest.length + skipped };
  }
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length > 65_536) throw new Malformed('head longer than 64 KiB');
    checkLineEndings(buf.toString('latin1'));
    return null;
  }
  const head = buf.subarray(0, headEnd).toString('latin1');
  checkLineEndings(head);
  const lines = head.split('\r\n');
  const line = (options.client ? CLIENT_REQUEST_LINE : REQUEST_LINE).exec(lines[0] ?? '');
  if (line === null) throw new Malformed(`bad request line ${JSON.stringify(lines[0])}`);
  const http10 = line[3] === '1.0';
  const headers: Array<[string, string]> = [];
  for (const l of lines.slice(1)) {
    if (l.startsWith(' ') || l.startsWith('\t')) throw new Malformed(`obs-fold ${JSON.stringify(l)}`);
    const colon = l.indexOf(':');
    const name = colon > 0 ? l.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new Malformed(`bad header name in ${JSON.stringify(l)}`);
    const value = l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (CONTROL.test(value)) throw new Malformed(`control character in ${JSON.stringify(l)}`);
    headers.push([name, value]);
  }
  const lengths = headers.filter(([n]) => n.toLowerCase() === 'content-length').map(([, v]) => v);
  const codings = headers.filter(([n]) => n.toLowerCase() === 'transfer-encoding').map(([, v]) => v);
  const hosts = headers.filter(([n]) => n.toLowerCase() === 'host');
  if (hosts.length > 1 || (hosts.length === 0 && !http10)) throw new Malformed(`${hosts.length} Host header lines`);
  if (lengths.length > 0 && codings.length > 0) throw new Malformed('both Content-Length and Transfer-Encoding');
  if (lengths.length > 1) throw new Malformed(`${lengths.length} Content-Length lines`);
  if (codings.length > 1 || (codings.length === 1 && codings[0]!.toLowerCase() !== 'chunked')) throw new Malformed(`Transfer-Encoding ${JSON.stringify(codings)}`);
  const start = headEnd + 4;
  const absolute = /^https?:\/\/[^/?#]*(.*)$/i.exec(line[2]!);
  const target = absolute === null ? line[2]! : absolute[1]!.startsWith('/') ? absolute[1]! : `/${absolute[1]!}`;
  const base = { method: line[1]!, target, headers };
  if (lengths.length === 1) {
    if (!/^\d{1,15}$/.test(lengths[0]!)) throw new Malformed(`Content-Length ${JSON.stringify(lengths[0])}`);
    const n = Number(lengths[0]);
    if (buf.length < start + n) return null;
    return { request: { ...base, body: Buffer.from(buf.subarray(start, start + n)), framing: 'content-length' }, length: start + n };
  }
  if (codings.length === 1) {
    const chunked = parseChunked(buf, start, options.client ? 16 : 8);
    if (chunked === null) return null;
    return { request: { ...base, body: chunked.body, framing: 'chunked' }, length: chunked.end };
  }
  return { request: { ...base, body: Buffer.alloc(0), framing: 'none' }, length: start };
}

function checkLineEndings(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 && text.charCodeAt(i - 1) !== 13) throw new Malformed('bare LF');
    if (c === 13 && i + 1 < text.length && text.charCodeAt(i + 1) !== 10) throw new Malformed('bare CR');
  }
}

/** A chunked body starting at `at`: its bytes and where it ends, null if incomplete. */
function parseChunked(buf: Buffer, at: number, maxDigits: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let pos = at;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) {
      if (buf.length - pos > 1024) throw new Malformed('chunk-size line longer than 1 KiB');
      return null;
    }
    const sizeLine = buf.subarray(pos, eol).toString('latin1');
    checkLineEndings(sizeLine);
    const m = new RegExp(`^([0-9a-fA-F]{1,${maxDigits}})(;[^\\r\\n]*)?$`).exec(sizeLine);
    if (m === null) throw new Malformed(`chunk size ${JSON.stringify(sizeLine)}`);
    const size = parseInt(m[1]!, 16);
    pos = eol + 2;
    if (size === 0) {
      // trailer section: field lines until an empty line
      for (;;) {
        const end = buf.indexOf('\r\n', pos);
        if (end < 0) return null;
        if (end === pos) return { body: Buffer.concat(parts), end: end + 2 };
        checkLineEndings(buf.subarray(pos, end).toString('latin1'));
        pos = end + 2;
      }
    }
    if (buf.length < pos + size + 2) return null;
    parts.push(Buffer.from(buf.subarray(pos, pos + size)));
    if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) throw new Malformed('chunk data not followed by CRLF');
    pos += size + 2;
  }
}

/**
 * Every request a strict reading of a client's bytes finds, as "METHOD target" (origin-form),
 * up to the first malformed or incomplete one: what a proxy may forward from those bytes, at most.
 */
export function clientRequests(bytes: Buffer): string[] {
  const out: string[] = [];
  let buf = bytes;
  try {
    for (;;) {
      const parsed = parseStrictRequest(buf, { client: true });
      if (parsed === null) return out;
      out.push(`${parsed.request.method} ${parsed.request.target}`);
      buf = buf.subarray(parsed.length);
    }
  } catch (err) {
    if (err instanceof Malformed) return out;
    throw err;
  }
}

/** Start the recording backend on 127.0.0.1:0. */
export async function startRecordingBackend(): Promise<RecordingBackend> {
  const requests: ReceivedRequest[] = [];
  const malformed: string[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  let received = 0;
  const server: Server = createServer((socket) => {
    const connection = accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      received += data.length;
      buf = Buffer.concat([buf, data]);
      try {
        for (;;) {
          const parsed = parseStrictRequest(buf);
          if (parsed === null) return;
          buf = buf.subarray(parsed.length);
          requests.push({ ...parsed.request, connection });
          const body = `ok ${parsed.request.method} ${parsed.request.target}`;
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        }
      } catch (err) {
        if (!(err instanceof Malformed)) throw err;
        malformed.push(`${err.message}: ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    malformed,
    connections: () => accepted,
    bytesReceived: () => received,
    reset() {
      requests.length = 0;
      malformed.length = 0;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
