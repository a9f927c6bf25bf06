/**
 * The floor for a Node forwarder: node:http server + undici Pool `dispatch`, round robin, no
 * header rewriting beyond dropping Connection/Keep-Alive, no metrics, no recording, no retries.
 * prescale's distance to it is what its features cost; nginx's distance to it is what Node costs.
 *
 *   node --import tsx bench/proxy/bare-undici-main.ts <port> <backend url> <backend url> ...
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const [portArg, ...upstreams] = process.argv.slice(2);
if (portArg === undefined || upstreams.length === 0) throw new Error('usage: bare-undici-main.ts <port> <backend url>...');
const pools = upstreams.map((u) => new Pool(u, { connections: 64, pipelining: 1, keepAliveTimeout: 4_000 }));
let next = 0;

class Forward implements Dispatcher.DispatchHandler {
  private resume: (() => void) | null = null;
  constructor(private readonly res: ServerResponse) {}
  onConnect(): void {}
  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.resume = resume;
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as Buffer).toString('latin1');
      const lower = name.toLowerCase();
      if (lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding') continue;
      headers.push(name, (raw[i + 1] as Buffer).toString('latin1'));
    }
    this.res.writeHead(status, statusText, headers);
    return true;
  }
  onData(chunk: Buffer): boolean {
    const ok = this.res.write(chunk);
    if (!ok) this.res.once('drain', () => this.resume?.());
    return ok;
  }
  onComplete(): void {
    this.res.end();
  }
  onError(): void {
    if (this.res.headersSent) this.res.destroy();
    else {
      this.res.statusCode = 502;
      this.res.end();
    }
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const pool = pools[next] as Pool;
  next = (next + 1) % pools.length;
  const raw = req.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding') continue;
    headers.push(raw[i] as string, raw[i + 1] as string);
  }
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody ? req : null }, new Forward(res));
}

const server = createServer({ keepAliveTimeout: 75_000 }, handle);
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
