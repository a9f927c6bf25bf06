import type express from 'express';
import { DashboardFeed, type DashboardFeedOptions } from './dashboard-feed.js';
import { dashboardRouter } from './dashboard-router.js';
import { EventStream, type EventStreamOptions } from './event-stream.js';

export { DashboardFeed, type DashboardFeedOptions } from './dashboard-feed.js';
export type { BackendRow, DashboardSnapshot, ForecastVector, TickEvent } from './dashboard-views.js';

export interface DashboardOptions extends DashboardFeedOptions {
  /** Directory of backtest / simulate SVGs (`admin.plotsDir`). */
  plotsDir: string;
  /** SSE limits: clients (default 16), heartbeat (15 s), buffered bytes per client (1 MiB). */
  stream?: Omit<EventStreamOptions, 'onActive'>;
  /** Period of the `backends` event while a page is connected, ms. Default 1 000. */
  backendsEveryMs?: number;
}

export interface Dashboard {
  /** Mount on the admin app (createAdminApp's `web`). */
  readonly router: express.Router;
  readonly feed: DashboardFeed;
  readonly stream: EventStream;
  /** End every event stream and stop listening to the loop (before closing the admin server). */
  close(): void;
}

/**
 * The live dashboard of the admin port: a DashboardFeed over the running parts, an EventStream
 * that sends each page a `snapshot`, then a `tick` per control-loop tick and a `backends`
 * table every `backendsEveryMs` (that timer runs only while a page is connected), and the
 * router serving the page, its assets, the stream and the plots directory (dashboardRouter).
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const feed = new DashboardFeed(options);
  let timer: NodeJS.Timeout | null = null;
  const stream: EventStream = new EventStream({
    ...options.stream,
    onActive(active) {
      if (timer) clearInterval(timer);
      timer = null;
      if (!active) return;
      timer = setInterval(() => stream.broadcast('backends', { nowMs: Date.now(), backends: feed.backendRows() }), options.backendsEveryMs ?? 1_000);
      timer.unref();
    },
  });
  const unsubscribe = feed.onTick((event) => stream.broadcast('tick', event));
  return {
    router: dashboardRouter({ snapshot: () => feed.snapshot(), stream, plotsDir: options.plotsDir }),
    feed,
    stream,
    close() {
      unsubscribe();
      stream.close();
      feed.close();
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
