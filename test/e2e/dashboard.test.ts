/**
 * The live dashboard in a real browser during a demo-like run: prescale (startApp) in front of
 * local-process sample backends, the NASA trace replayed at 60x (1 s intervals, the forecaster
 * seeded with the preceding days, as `prescale demo` does), Debian's Chromium driven by
 * playwright-core. With PRESCALE_SCREENSHOT=1 the run is longer (PRESCALE_SCREENSHOT_MINUTES
 * trace minutes, default 300: five wall minutes; PRESCALE_SCREENSHOT_LOAD_SCALE, default 0.45)
 * and the screenshot goes to docs/dashboard.png;
 * otherwise to a temporary directory, so a test run never changes the tree.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { DEFAULT_TRACE } from '../../src/demo/demo.js';
import { replay, type ReplayResult } from '../../src/demo/load-generator.js';
import { backendsFor } from '../../src/scaler/decide.js';
import { readTrace, sliceTrace } from '../../src/series/trace.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env['PRESCALE_SCREENSHOT'] === '1';
const MINUTES = SCREENSHOT ? Number(process.env['PRESCALE_SCREENSHOT_MINUTES'] ?? 300) : 16;
const SPEED = 60;
const INTERVAL_MS = 60_000 / SPEED;

interface DemoRun {
  app: App;
  startMs: number;
  replayed: Promise<ReplayResult>;
}

/** `prescale demo` with the admin port at hand: the STS-70 launch-day ramp, 5 trace minutes of provisioning. */
async function startDemoRun(from: string, minutes: number, loadScale: number, models: string[] | undefined): Promise<DemoRun> {
  const trace = await readTrace(DEFAULT_TRACE);
  const fromMs = Date.parse(from);
  const scale = (counts: number[]) => counts.map((c) => Math.round(c * loadScale));
  const history = scale(sliceTrace(trace, trace.startMs, fromMs));
  const load = scale(sliceTrace(trace, fromMs, fromMs + minutes * trace.intervalMs));
  const bootDelayMs = (5 * 60_000) / SPEED;
  const parsed = validateConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { healthCheck: { intervalMs: 200, timeoutMs: 1000, rise: 1, fall: 2 } },
    series: { intervalMs: INTERVAL_MS, logDir: join(mkdtempSync(join(tmpdir(), 'prescale-dashboard-')), 'traffic') },
    forecast: { seasonLengthIntervals: 1440, historyFrom: 'none', ...(models ? { models } : {}) },
    scaler: { policy: 'predictive', capacityPerBackendRps: 80, targetUtilization: 0.8, minBackends: 1, maxBackends: 12, leadTimeMs: bootDelayMs + INTERVAL_MS, scaleInStabilizationMs: (5 * 60_000) / SPEED, drainTimeoutMs: 10_000 },
    provider: { kind: 'local-process', bootDelayMs, backend: { concurrency: 2, serviceTimeMs: 25, queueLimit: 40, queueTimeoutMs: 1_000 } },
    log: { level: 'warn' },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const initial = Math.max(1, backendsFor((load[0] ?? 0) / (INTERVAL_MS / 1000), parsed.config.scaler));
  const app = await startApp(parsed.config, { logger: pino({ level: 'silent' }), initialBackends: initial, autoTick: false });
  await app.loop.waitForReady(initial, 20_000);
  const startMs = Math.ceil((Date.now() + 200) / INTERVAL_MS) * INTERVAL_MS;
  app.series.seed(history, startMs);
  app.loop.startTicking();
  const replayed = new Promise<void>((r) => setTimeout(r, Math.max(0, startMs - Date.now()))).then(() => replay(`http://127.0.0.1:${app.proxyPort}`, load, startMs, INTERVAL_MS, 10_000));
  return { app, startMs, replayed };
}

interface PageStats {
  snapshots: number;
  ticks: number;
  backendUpdates: number;
  observedPoints: number;
  bandPoints: number;
  bandAheadPoints: number;
  capacityPoints: number;
  nowT: number;
}

const stats = (page: Page) => page.evaluate(() => ({ ...(window as unknown as { __prescale: PageStats }).__prescale }));

/** Pixels of the chart canvas close to `rgb` with alpha in [minAlpha, maxAlpha]: proof that a series was drawn. */
function inked(page: Page, selector: string, rgb: [number, number, number], minAlpha: number, maxAlpha = 255): Promise<number> {
  return page.evaluate(({ selector, rgb, minAlpha, maxAlpha }) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`${selector} canvas`);
    if (!canvas) return -1;
    const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const a = data[i + 3] as number;
      if (a < minAlpha || a > maxAlpha) continue;
      if (Math.abs((data[i] as number) - rgb[0]) + Math.abs((data[i + 1] as number) - rgb[1]) + Math.abs((data[i + 2] as number) - rgb[2]) < 60) n++;
    }
    return n;
  }, { selector, rgb, minAlpha, maxAlpha });
}

/** A hash of the chart canvas's pixels (FNV-1a over every 4th byte): changes when the chart is redrawn with other data. */
function fingerprint(page: Page, selector: string): Promise<number> {
  return page.evaluate((selector) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`${selector} canvas`);
    if (!canvas) return -1;
    const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
    let h = 0x811c9dc5;
    for (let i = 0; i < data.length; i += 4) h = Math.imul(h ^ ((data[i] as number) ^ ((data[i + 1] as number) << 8) ^ ((data[i + 2] as number) << 16) ^ ((data[i + 3] as number) << 24)), 0x01000193) >>> 0;
    return h;
  }, selector);
}

describe('live dashboard in headless Chromium during a demo run', () => {
  it('draws the forecast band and capacity, updates them every tick, lists the backends, and saves a screenshot', { timeout: SCREENSHOT ? MINUTES * INTERVAL_MS + 120_000 : 60_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); CI installs it`).toBe(true);
    const loadScale = SCREENSHOT ? Number(process.env['PRESCALE_SCREENSHOT_LOAD_SCALE'] ?? 0.45) : 0.4;
    const run = await startDemoRun(SCREENSHOT ? '1995-07-13T11:30:00Z' : '1995-07-13T11:50:00Z', MINUTES, loadScale, SCREENSHOT ? undefined : ['naive', 'seasonal-naive', 'linear-regression']);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = await browser.newPage({ viewport: { width: 1440, height: 1200 } });
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      await page.goto(`http://127.0.0.1:${run.app.adminPort}/dashboard`);
      const drawn = () => (window as unknown as { __prescale: PageStats }).__prescale.bandAheadPoints > 1 && (window as unknown as { __prescale: PageStats }).__prescale.capacityPoints >= 4;
      await page.waitForFunction(drawn, undefined, { timeout: 20_000 });
      const before = await stats(page);
      expect(before.snapshots).toBe(1);
      expect(before.observedPoints).toBeGreaterThan(100); // the seeded history is there at once
      expect(Number(await page.getAttribute('#chart-rps', 'data-band-points'))).toBe(before.bandPoints);

      // on the canvases: the band (translucent orange fill), the ready-capacity step line (green),
      // desired backends (violet line, drawn over ready) and ready backends (translucent green fill)
      const ink = async () => ({
        band: await inked(page, '#chart-rps', [245, 158, 11], 30, 120),
        capacity: await inked(page, '#chart-rps', [5, 150, 105], 200),
        desired: await inked(page, '#chart-capacity', [124, 58, 237], 200),
        ready: await inked(page, '#chart-capacity', [5, 150, 105], 15, 60),
      });
      const inkBefore = await ink();
      expect(inkBefore.band).toBeGreaterThan(100);
      expect(inkBefore.capacity).toBeGreaterThan(8);
      expect(inkBefore.desired).toBeGreaterThan(8);
      expect(inkBefore.ready).toBeGreaterThan(50);
      const printsBefore = { rps: await fingerprint(page, '#chart-rps'), capacity: await fingerprint(page, '#chart-capacity') };

      // three more ticks: more points, now moved on, the band still reaching ahead
      await page.waitForFunction((n) => (window as unknown as { __prescale: PageStats }).__prescale.ticks >= n, before.ticks + 3, { timeout: 15_000 });
      const after = await stats(page);
      expect(after.capacityPoints).toBeGreaterThan(before.capacityPoints);
      expect(after.bandPoints).toBeGreaterThan(before.bandPoints);
      expect(after.nowT).toBeGreaterThanOrEqual(before.nowT + 3 * INTERVAL_MS);
      expect(after.bandAheadPoints).toBeGreaterThan(1);
      expect(after.backendUpdates).toBeGreaterThan(0);
      // and the drawing followed: both canvases were redrawn with the new data, still showing every series
      expect(await fingerprint(page, '#chart-rps')).not.toBe(printsBefore.rps);
      expect(await fingerprint(page, '#chart-capacity')).not.toBe(printsBefore.capacity);
      const inkAfter = await ink();
      expect(inkAfter.band).toBeGreaterThan(100);
      expect(Math.min(inkAfter.capacity, inkAfter.desired)).toBeGreaterThan(8);

      // the backend table lists the pool's backends; the decision list shows reasons
      // (the table is refreshed every second and the fleet may change meanwhile: poll until they agree)
      const tableIds = () => page.$$eval('#backends tbody tr', (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0]?.textContent ?? ''));
      let ids: string[] = [];
      let pool: string[] = [];
      for (const deadline = Date.now() + 8_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        ids = await tableIds();
        pool = run.app.upstream.backends.map((b) => b.id);
        if (ids.join() === pool.join()) break;
      }
      expect(ids).toEqual(pool);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(id).toMatch(/^local-\d+$/);
      const reasons = await page.$$eval('#decisions tbody .badge', (els) => els.map((e) => e.textContent));
      expect(reasons.length).toBeGreaterThanOrEqual(4);
      expect(await page.textContent('#status')).toBe('live');

      if (SCREENSHOT) await new Promise((r) => setTimeout(r, Math.max(0, run.startMs + (MINUTES - 3) * INTERVAL_MS - Date.now())));
      const file = SCREENSHOT ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url)) : join(mkdtempSync(join(tmpdir(), 'prescale-shot-')), 'dashboard.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(20_000);
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
      const result = await run.replayed;
      await run.app.stop();
      expect(result.sent).toBeGreaterThan(0);
    }
  });
});
