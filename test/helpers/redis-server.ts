/**
 * A real redis-server (from apt) as a child process on a free loopback port, for the leader
 * election tests, and a TCP relay in front of it that a test can cut to partition one client.
 *
 * redis-server runs with `--save '' --appendonly no` (nothing on disk) and `--bind 127.0.0.1`.
 * startRedisServer resolves once the server answers PING; it retries on another port if the
 * one it picked was taken in between (a free port is found by listening on port 0 and closing).
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** SIGKILL the server (a crash); resolves when it exited. Idempotent. */
  kill(): Promise<void>;
  /** SIGTERM the server and wait for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Start redis-server on a free 127.0.0.1 port; up to 3 tries; throws with its output when it cannot start. */
export async function startRedisServer(): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOn(port: number): Promise<RedisServer> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited on port ${port}: ${output}`);
    if (await ping(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  const end = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { port, url: `redis://127.0.0.1:${port}`, pid: child.pid as number, kill: end('SIGKILL'), stop: end('SIGTERM') };
}

/** One PING over a raw socket (RESP inline command); true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TcpRelay {
  readonly port: number;
  readonly url: string;
  /**
   * A partition: from now on bytes in both directions are dropped (connections stay open, new ones
   * are accepted and go nowhere), as when a network path silently fails.
   */
  cut(): void;
  close(): Promise<void>;
}

/** A loopback TCP relay to `targetPort` whose path a test can cut (see TcpRelay.cut). */
export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  let partitioned = false;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = createServer((client) => {
    track(client);
    if (partitioned) return;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    track(upstream);
    client.on('data', (d: Buffer) => {
      if (!partitioned) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!partitioned) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut() {
      partitioned = true;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
