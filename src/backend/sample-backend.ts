/**
 * The bundled sample backend: an HTTP server whose capacity is real. It serves at most
 * `concurrency` requests at a time, each holding its slot for `serviceTimeMs` (a timer, so the
 * capacity does not depend on the machine's CPU), queues the rest FIFO up to `queueLimit` and
 * answers 503 past that or after `queueTimeoutMs` in the queue (see slot-queue.ts). Its
 * throughput is therefore `concurrency / serviceTimeMs` requests per ms per instance, and an
 * under-provisioned fleet shows up as latency, then errors.
 *
 * Routes (every route but /healthz goes through the queue and the service time):
 * - `GET /healthz`  200 `{"status":"up"}` at once; 503 `{"status":"draining"}` once close() began.
 * - `GET /bytes/N`  streams N bytes (0 ≤ N ≤ 2^30) after the service time; 400 for a bad N.
 * - `POST /echo`    after the service time, streams the request body back as it arrives.
 * - anything else   drains the request body, 200 `{"backend": id, "path": url}` after service.
 * - rejected        503 `{"backend": id, "error": "queue-full" | "queue-timeout"}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { finished, pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrescaleError } from '../errors.js';
import { SlotQueue } from './slot-queue.js';

export interface SampleBackendOptions {
  /** TCP port; 0 or missing picks a free one. */
  readonly port?: number;
  /** Interface to bind; default '127.0.0.1'. */
  readonly host?: string;
  /** Requests served at once (integer ≥ 1). */
  readonly concurrency: number;
  /** Time each request holds its slot (ms ≥ 0). */
  readonly serviceTimeMs: number;
  /** Requests that may wait for a slot (integer ≥ 0). */
  readonly queueLimit: number;
  /** Longest wait in the queue before a 503 (ms ≥ 0). */
  readonly queueTimeoutMs: number;
  /** Name reported in response bodies, e.g. "local-3". */
  readonly id: string;
}

export interface SampleBackendStats {
  /** Requests answered 200 through the queue (health checks excluded). */
  readonly served: number;
  /** Requests answered 503 because the queue was full or the wait timed out. */
  readonly rejected: number;
  /** Requests holding a slot now. */
  readonly inFlight: number;
  /** Requests waiting for a slot now. */
  readonly queued: number;
}

export interface SampleBackend {
  /** e.g. "http://127.0.0.1:41234" */
  readonly url: string;
  readonly port: number;
  /** Stop accepting, answer every in-flight and queued request, then close every connection. */
  close(): Promise<void>;
  stats(): SampleBackendStats;
}

const MAX_BYTES = 2 ** 30;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** After the last request is answered, connections still open this long are cut (ms). */
const CLOSE_GRACE_MS = 2_000;

/**
 * Start a sample backend listening on `host:port`.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for invalid options, PRESCALE_ERR_PROVIDER when
 *   the server cannot listen (e.g. port in use).
 */
export async function startSampleBackend(options: SampleBackendOptions): Promise<SampleBackend> {
  validate(options);
  const host = options.host ?? '127.0.0.1';
  const slots = new SlotQueue(options);
  const counters = { served: 0, rejected: 0 };
  let draining = false;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { backend: options.id, error: String(error) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const pathname = path.split('?', 1)[0] ?? '/';
    if (draining) res.setHeader('connection', 'close');
    if (req.method === 'GET' && pathname === '/healthz') {
      req.resume();
      sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'up' });
      return;
    }
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const admission = await slots.acquire(abort.signal);
    if (admission.kind === 'rejected') {
      if (admission.reason === 'cancelled') return;
      counters.rejected += 1;
      req.resume();
      sendJson(res, 503, { backend: options.id, error: admission.reason });
      return;
    }
    try {
      if (draining) res.setHeader('connection', 'close');
      if (await serve(req, res, pathname, path)) counters.served += 1;
    } catch {
      res.destroy(); // the client went away mid-stream
    } finally {
      admission.release();
    }
  }

  /** Route one admitted request; resolves true when it was answered 200 in full. */
  async function serve(req: IncomingMessage, res: ServerResponse, pathname: string, path: string): Promise<boolean> {
    if (req.method === 'POST' && pathname === '/echo') {
      await sleep(options.serviceTimeMs);
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
      await pipeline(req, res);
      return true;
    }
    await Promise.all([sleep(options.serviceTimeMs), finished(req.resume())]);
    const bytes = /^\/bytes\/(\d+)$/.exec(pathname);
    if (req.method === 'GET' && bytes) {
      const size = Number(bytes[1]);
      if (size > MAX_BYTES) {
        sendJson(res, 400, { backend: options.id, error: `at most ${MAX_BYTES} bytes` });
        return false;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      await pipeline(generateBytes(size), res);
      return true;
    }
    sendJson(res, 200, { backend: options.id, path });
    await finished(res);
    return true;
  }

  const port = await listen(server, options.port ?? 0, host);
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => ({ ...counters, inFlight: slots.inFlight, queued: slots.queued }),
    close: () => {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections that finish a response become idle; sweep them until closed.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        server.closeIdleConnections();
        await slots.idle();
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        await closed;
        clearInterval(sweep);
        clearTimeout(cut);
      })();
      return closing;
    },
  };
}

async function* generateBytes(size: number): AsyncGenerator<Buffer> {
  for (let left = size; left > 0; left -= CHUNK.length) {
    yield left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
  }
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new PrescaleError('PRESCALE_ERR_PROVIDER', `sample backend cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function validate(options: SampleBackendOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) problems.push(`concurrency: expected an integer ≥ 1, got ${options.concurrency}`);
  if (!Number.isInteger(options.queueLimit) || options.queueLimit < 0) problems.push(`queueLimit: expected an integer ≥ 0, got ${options.queueLimit}`);
  if (!(options.serviceTimeMs >= 0) || !Number.isFinite(options.serviceTimeMs)) problems.push(`serviceTimeMs: expected ms ≥ 0, got ${options.serviceTimeMs}`);
  if (!(options.queueTimeoutMs >= 0) || !Number.isFinite(options.queueTimeoutMs)) problems.push(`queueTimeoutMs: expected ms ≥ 0, got ${options.queueTimeoutMs}`);
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) problems.push(`port: expected 0..65535, got ${options.port}`);
  if (options.id === '') problems.push('id: expected a non-empty name');
  if (problems.length > 0) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `sample backend options are invalid: ${problems.join('; ')}`, { details: { problems } });
  }
}
