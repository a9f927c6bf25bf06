/**
 * Misbehaving backends on raw `net` sockets for the backend-fault tests, each counting what it
 * received (requests are parsed with the strict parser of hostile-backend.ts):
 * - `black-hole`: accepts connections and reads, never answers;
 * - `garbage`: answers every request with the bytes given (not valid HTTP), keeps the connection;
 * - `close-after-response`: answers 200 without `Connection: close`, then closes the connection
 *   at once (the keep-alive reuse race on every request);
 * - `close-when-idle`: answers 200 keep-alive, closes a connection idle for `idleMs` after a
 *   response (node's keepAliveTimeout; a new connection waits for its first request).
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseStrictRequest, type ReceivedRequest } from './hostile-backend.js';

export type FaultMode =
  | { kind: 'black-hole' }
  | { kind: 'garbage'; bytes: string }
  | { kind: 'close-after-response' }
  | { kind: 'close-when-idle'; idleMs: number };

export interface FaultyBackend {
  url: string;
  port: number;
  /** Requests parsed off the wire, in arrival order. */
  readonly requests: Array<Omit<ReceivedRequest, 'connection'>>;
  /** Connections accepted. */
  connections(): number;
  /** Value of header `name` (lower case) on every request received, e.g. a client's request id. */
  headerValues(name: string): string[];
  close(): Promise<void>;
}

/** Start a faulty backend on 127.0.0.1:`port` (0 = any free port). */
export async function startFaultyBackend(mode: FaultMode, port = 0): Promise<FaultyBackend> {
  const requests: Array<Omit<ReceivedRequest, 'connection'>> = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (mode.kind !== 'close-when-idle') return;
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), mode.idleMs);
    };
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        let parsed: ReturnType<typeof parseStrictRequest>;
        try {
          parsed = parseStrictRequest(buf);
        } catch {
          socket.destroy();
          return;
        }
        if (parsed === null) return;
        buf = buf.subarray(parsed.length);
        requests.push(parsed.request);
        if (mode.kind === 'black-hole') continue;
        if (mode.kind === 'garbage') {
          socket.write(Buffer.from(mode.bytes, 'latin1'));
          continue;
        }
        const body = `ok ${parsed.request.method} ${parsed.request.target}`;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
        if (mode.kind === 'close-after-response') socket.end();
        else armIdle();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    connections: () => accepted,
    headerValues: (name) => requests.flatMap((r) => r.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v)),
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
