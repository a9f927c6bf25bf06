import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { DashboardSnapshot } from './dashboard-views.js';
import type { EventStream } from './event-stream.js';
import { listPlots, resolvePlot } from './plots-dir.js';

const require = createRequire(import.meta.url);
const here = (file: string) => fileURLToPath(new URL(`./public/${file}`, import.meta.url));

/** The page and the only files it may load: no directory is served, so no path reaches anything else. */
const PAGE = here('dashboard.html');
const ASSETS: ReadonlyMap<string, string> = new Map([
  ['dashboard.js', here('dashboard.js')],
  ['charts.js', here('charts.js')],
  ['dashboard.css', here('dashboard.css')],
  ['uPlot.esm.js', require.resolve('uplot/dist/uPlot.esm.js')],
  ['uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css')],
]);

/** The page loads only its own scripts, styles and event stream; plots are shown as images. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** An SVG opened directly must not run script (a plot file could have been edited by anyone with write access). */
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

export interface DashboardRouterOptions {
  /** The snapshot each new event stream starts with. */
  snapshot(): DashboardSnapshot;
  stream: EventStream;
  /** Directory of backtest / simulate SVGs (`admin.plotsDir`); missing: the list is empty. */
  plotsDir: string;
}

/** sendFile relative to the file's own directory, so only its name is checked for dot segments (an absolute path under e.g. ~/.cache would otherwise be refused). */
function sendFrom(res: express.Response, file: string, headers: Record<string, string>): void {
  res.sendFile(basename(file), { root: dirname(file), headers });
}

function notFound(res: express.Response, message: string): void {
  res.status(404).set('Cache-Control', 'no-store').json({ error: { code: 'not_found', message } });
}

/**
 * The dashboard's routes, for the admin app (read-only, GET and HEAD):
 * - GET /  302 to /dashboard
 * - GET /dashboard  the page (src/web/public/dashboard.html), strict CSP
 * - GET /dashboard/assets/:name  dashboard.js, charts.js, dashboard.css and uPlot 1.6 (ESM and CSS) from node_modules
 * - GET /v1/events  text/event-stream: `snapshot` first, then `tick` per control-loop tick and
 *   `backends` every second or so (see createDashboard); 503 `too_many_clients` when full
 * - GET /v1/plots  `{"dir","plots":[{"name","bytes","modifiedMs"}]}`, newest first
 * - GET /plots/:name  one SVG of that list, `image/svg+xml`, sandboxed by CSP; 404 for any other name
 */
export function dashboardRouter(options: DashboardRouterOptions): express.Router {
  const router = express.Router();
  const headers = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };

  router.get('/', (_req, res) => res.redirect(302, '/dashboard'));
  router.get('/dashboard', (_req, res) => {
    sendFrom(res, PAGE, { ...headers, 'Content-Security-Policy': PAGE_CSP });
  });
  router.get('/dashboard/assets/:name', (req, res) => {
    const file = ASSETS.get(req.params.name);
    if (file === undefined) notFound(res, `no dashboard asset ${req.params.name}`);
    else sendFrom(res, file, headers);
  });
  router.get('/v1/events', (req, res) => {
    if (req.method === 'HEAD') {
      res.status(200).type('text/event-stream').end();
      return;
    }
    options.stream.accept(req, res, () => [{ event: 'snapshot', data: options.snapshot() }]);
  });
  router.get('/v1/plots', async (_req, res, next) => {
    try {
      res.set('Cache-Control', 'no-store').json({ dir: options.plotsDir, plots: await listPlots(options.plotsDir) });
    } catch (err) {
      next(err);
    }
  });
  router.get('/plots/:name', async (req, res, next) => {
    try {
      const file = await resolvePlot(options.plotsDir, req.params.name);
      if (file === null) notFound(res, 'no such plot; GET /v1/plots lists them');
      else sendFrom(res, file, { ...headers, 'Content-Type': 'image/svg+xml', 'Content-Security-Policy': SVG_CSP });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
