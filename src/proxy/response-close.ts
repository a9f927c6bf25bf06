import type { ServerResponse } from 'node:http';

/** Told when a response closes: it ended, or its connection went away first. */
export interface CloseWatcher {
  responseClosed(res: ServerResponse): void;
}

/** Who watches: the listener (server.ts, connection bookkeeping) or the handler (forward.ts, the exchange). */
export type CloseSlot = 'listener' | 'handler';

const LISTENER = Symbol('prescale.closeListener');
const HANDLER = Symbol('prescale.closeHandler');
const HOOKED = Symbol('prescale.closeHooked');
type Watched = ServerResponse & { [LISTENER]?: CloseWatcher | undefined; [HANDLER]?: CloseWatcher | undefined; [HOOKED]?: true };

/** The one 'close' listener of every watched response: the listener's watcher first, then the handler's. */
function closed(this: Watched): void {
  this[LISTENER]?.responseClosed(this);
  this[HANDLER]?.responseClosed(this);
}

/**
 * Tell `watcher` when `res` emits 'close' (node emits it once per response), or stop telling the
 * slot's previous watcher when `watcher` is undefined. The server and the handler share one
 * listener per response, a shared function, so a request costs no closure and no `once` wrapper.
 * O(1).
 */
export function watchClose(res: ServerResponse, slot: CloseSlot, watcher: CloseWatcher | undefined): void {
  const r = res as Watched;
  if (slot === 'listener') r[LISTENER] = watcher;
  else r[HANDLER] = watcher;
  if (r[HOOKED] === true || watcher === undefined) return;
  r[HOOKED] = true;
  res.on('close', closed);
}
