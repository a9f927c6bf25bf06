/**
 * Idle keep-alive client connections: opens `count` TCP connections to 127.0.0.1:<port> in
 * batches, sends one `GET /` on each and waits for its response, so each one is an idle
 * keep-alive connection the server has served. Prints `{"ready":n,"ms":t}` when all are served,
 * then on each stdin line prints `{"open":n}` (connections the server has not closed yet); exits
 * when stdin ends, closing them all.
 *
 *   node --import tsx bench/proxy/idle-conns-main.ts <port> <count> [batch]
 */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const [portArg, countArg, batchArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const batch = Number(batchArg ?? '200');
const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';
const sockets: Socket[] = [];
let open = 0;

/** Connect, send one request, resolve once any response bytes arrived (a 100-byte response arrives whole). */
function one(): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    s.once('connect', () => {
      open++;
      s.write(REQUEST);
    });
    s.once('data', () => resolve());
    s.on('data', () => {});
    s.once('error', reject);
    s.once('close', () => {
      open--;
      reject(new Error('closed before the response'));
    });
    sockets.push(s);
  });
}

const started = performance.now();
for (let i = 0; i < count; i += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, count - i) }, one));
}
process.stdout.write(`${JSON.stringify({ ready: open, ms: Math.round(performance.now() - started) })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', () => process.stdout.write(`${JSON.stringify({ open })}\n`));
lines.on('close', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
