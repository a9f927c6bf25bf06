/**
 * Benchmark backends, run as their own process (pinned next to wrk): two Node http keep-alive
 * servers and two cheap raw-`net` HTTP/1.1 responders, all on 127.0.0.1, ports chosen by the OS.
 * Prints one JSON line `{"node":[p1,p2],"cheap":[p3,p4]}` once all listen, then serves until
 * killed.
 *
 * Node servers answer by path: `/64k` 65,536 bytes; `/echo` echoes the request body (the 1 KB
 * POST); `/slow` 100 bytes after 5 ms of service time; anything else 100 bytes.
 * Cheap responders answer every request (any path, bodies not supported) with a fixed
 * 100-byte response, counting requests by their blank line, so they cost far less than a proxy.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const BODY_100 = Buffer.alloc(100, 'a');
const BODY_64K = Buffer.alloc(65_536, 'b');
const SERVICE_MS = 5;
const HEADERS_100 = { 'content-type': 'text/plain', 'content-length': '100' };
const HEADERS_64K = { 'content-type': 'application/octet-stream', 'content-length': String(BODY_64K.length) };

function nodeHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/64k') {
    res.writeHead(200, HEADERS_64K);
    res.end(BODY_64K);
  } else if (url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      res.end(body);
    });
  } else if (url === '/slow') {
    setTimeout(() => {
      res.writeHead(200, HEADERS_100);
      res.end(BODY_100);
    }, SERVICE_MS);
  } else {
    res.writeHead(200, HEADERS_100);
    res.end(BODY_100);
  }
}

const CHEAP_RESPONSE = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n', 'latin1'), BODY_100]);
const CR = 13;
const LF = 10;

/** A minimal HTTP/1.1 keep-alive responder: one fixed response per request head (CRLF CRLF). */
function cheapConnection(socket: Socket): void {
  socket.setNoDelay(true);
  // bytes of "\r\n\r\n" matched so far, carried across chunks
  let matched = 0;
  socket.on('data', (chunk: Buffer) => {
    let requests = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === (matched % 2 === 0 ? CR : LF)) {
        matched++;
        if (matched === 4) {
          requests++;
          matched = 0;
        }
      } else {
        matched = c === CR ? 1 : 0;
      }
    }
    if (requests === 1) socket.write(CHEAP_RESPONSE);
    else if (requests > 1) socket.write(Buffer.concat(Array.from({ length: requests }, () => CHEAP_RESPONSE)));
  });
  socket.on('error', () => socket.destroy());
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', 4096, () => resolve((server.address() as AddressInfo).port));
  });
}

const nodeServers = [0, 1].map(() => {
  const s = createHttpServer({ keepAliveTimeout: 120_000, headersTimeout: 130_000, requestTimeout: 0 }, nodeHandler);
  s.maxRequestsPerSocket = 0;
  return s;
});
const cheapServers = [0, 1].map(() => createNetServer(cheapConnection));
const node = await Promise.all(nodeServers.map(listen));
const cheap = await Promise.all(cheapServers.map(listen));
process.stdout.write(`${JSON.stringify({ node, cheap })}\n`);
process.on('SIGTERM', () => process.exit(0));
