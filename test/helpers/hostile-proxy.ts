/**
 * prescale's real proxy in a child process (hostile-proxy-main.ts) for tests that measure the
 * proxy itself: heap and RSS after full GCs, open client connections, active handles, requests
 * in flight and the statuses it answered.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tsxLoaderUrl } from '../../src/runtime/module-entry.js';
import type { ListenOptions } from '../../src/proxy/server.js';

export interface ProxyProcessOptions {
  backends: string[];
  firstByteTimeoutMs?: number;
  keepAliveConnections?: number;
  listen?: Omit<ListenOptions, 'host' | 'port' | 'tls' | 'upgrade'>;
}

/** What the proxy process reports, measured after three full GCs. */
export interface ProxyProcessStats {
  heapUsedBytes: number;
  rssBytes: number;
  /** Client connections open on the proxy's listener (server.getConnections). */
  connections: number;
  /** process._getActiveHandles().length: sockets, servers, timers. */
  handles: number;
  /** Requests the proxy has in flight (its observer's count). */
  inFlight: number;
  /** Sum of the backends' in-flight counters. */
  backendInFlight: number;
  /** Statuses answered so far (499: the client left first). */
  statuses: Record<string, number>;
  /** The child has `gc()` (started with --expose-gc). */
  gc: boolean;
}

export interface ProxyProcess {
  port: number;
  url: string;
  pid: number;
  stats(): Promise<ProxyProcessStats>;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./hostile-proxy-main.ts', import.meta.url));

/** Fork the proxy with --expose-gc; resolves once it listens (rejects if it exits first or takes over 15 s). */
export function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const child: ChildProcess = fork(ENTRY, [JSON.stringify(options)], {
    execArgv: ['--expose-gc', '--import', tsxLoaderUrl()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('proxy process did not start in 15 s'));
    }, 15_000);
    child.once('exit', (code) => reject(new Error(`proxy process exited with ${code}`)));
    child.once('message', (msg: { type: string; port: number }) => {
      clearTimeout(timer);
      resolve({
        port: msg.port,
        url: `http://127.0.0.1:${msg.port}`,
        pid: child.pid!,
        stats: () =>
          new Promise((res) => {
            const onMessage = (m: { type: string; stats: ProxyProcessStats }): void => {
              if (m.type !== 'stats') return;
              child.off('message', onMessage);
              res(m.stats);
            };
            child.on('message', onMessage);
            child.send({ type: 'stats' });
          }),
        async stop() {
          if (child.exitCode === null) child.send({ type: 'stop' });
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
