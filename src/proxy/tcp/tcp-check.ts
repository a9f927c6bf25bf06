import { connect } from 'node:net';
import { backendAddress } from './backend-address.js';

/**
 * One layer 4 health probe: open a TCP connection to the host and port of `url` (see
 * backendAddress; `tcp://db:5432` or an http url) and close it again at once. Success means the
 * three-way handshake completed within `timeoutMs`: something is listening and accepting. This
 * is HAProxy's plain `check` on a server in `mode tcp` (a connect-only check, no `tcp-check`
 * send/expect rules) and what nginx Plus's `health_check` does in the `stream` module without
 * `send`/`expect`.
 *
 * Never throws: an unparsable url, a refused or reset connection, DNS failure, the timeout and
 * an abort through `signal` all resolve false. Every probe opens a fresh connection.
 * @param timeoutMs connect deadline in ms
 * @param signal optional cancellation (resolves false when aborted), as probeOnce takes
 */
export function probeTcp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const address = backendAddress(url);
  if (address === undefined || signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(onAbort, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}
