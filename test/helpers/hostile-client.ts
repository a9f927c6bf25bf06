/**
 * A raw TCP client for the hostile-input tests: writes exact bytes (no HTTP client would send
 * them), then collects what the server answers until it closes the connection or goes quiet.
 */
import { connect } from 'node:net';

export interface RawReply {
  /** Everything the server sent, latin1. */
  text: string;
  /** Status codes of the responses in `text`, in order (parsed by framing, not by regex). */
  statuses: number[];
  /** The server closed (FIN or reset) before `quietMs` of silence ended the wait. */
  closed: boolean;
}

/**
 * Send `bytes` to 127.0.0.1:`port` and wait until the server closes the connection, or
 * `responses` complete responses have arrived, or for `quietMs` (default 400) after the last
 * byte received, or `maxMs` (default 5000) in all. Resolves, never rejects (a reset counts as closed).
 */
export function rawExchange(port: number, bytes: string | Buffer, options: { quietMs?: number; maxMs?: number; responses?: number } = {}): Promise<RawReply> {
  const quietMs = options.quietMs ?? 400;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(overall);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, statuses: responseStatuses(text), closed });
    };
    const rearm = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(false), quietMs);
    };
    const overall = setTimeout(() => finish(false), options.maxMs ?? 5000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      rearm();
      const wanted = options.responses;
      if (wanted !== undefined && responseStatuses(Buffer.concat(chunks).toString('latin1')).length >= wanted) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(bytes);
      rearm();
    });
  });
}

/**
 * Status codes of consecutive HTTP/1.1 responses in `text`, walking Content-Length and chunked
 * framing so a status-like string inside a body is never counted. Stops at anything unparsable.
 */
export function responseStatuses(text: string): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text.slice(pos, pos + 16));
    if (m === null || headEnd < 0) break;
    out.push(Number(m[1]));
    const head = text.slice(pos, headEnd).toLowerCase();
    pos = headEnd + 4;
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    if (length !== null) {
      pos += Number(length[1]);
    } else if (/\r\ntransfer-encoding: *chunked/.test(head)) {
      for (;;) {
        const eol = text.indexOf('\r\n', pos);
        if (eol < 0) return out;
        const size = parseInt(text.slice(pos, eol), 16);
        pos = eol + 2 + (size > 0 ? size + 2 : 0);
        if (!(size > 0)) {
          pos += 2; // no trailers from our servers
          break;
        }
      }
    } else if (Number(m[1]) >= 200 && Number(m[1]) !== 204 && Number(m[1]) !== 304) {
      break; // read-until-close body: nothing after it is a response
    }
  }
  return out;
}
