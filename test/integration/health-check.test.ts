import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecker, probeOnce, type HealthCheckOptions } from '../../src/proxy/health-check.js';

const servers: Server[] = [];
const checkers: HealthChecker[] = [];
const options: HealthCheckOptions = { path: '/healthz', intervalMs: 20, timeoutMs: 200, rise: 3, fall: 2 };

async function listen(handler: RequestListener, port = 0): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${actual}`, port: actual };
}

function stop(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

function checker(onChange: (id: string, up: boolean) => void, overrides: Partial<HealthCheckOptions> = {}): HealthChecker {
  const c = new HealthChecker({ ...options, ...overrides }, onChange);
  checkers.push(c);
  return c;
}

afterEach(async () => {
  for (const c of checkers.splice(0)) c.close();
  await Promise.all(servers.splice(0).filter((s) => s.listening).map(stop));
});

describe('HealthChecker', () => {
  it('marks a backend up after `rise` successes, down after `fall` failures, and up again when it returns', async () => {
    let probes = 0;
    const ok: RequestListener = (req, res) => {
      if (req.url === '/healthz') probes += 1;
      res.end('ok');
    };
    const first = await listen(ok);
    const events: Array<[string, boolean, number]> = [];
    const c = checker((id, up) => events.push([id, up, probes]));

    c.add('b1', first.url);
    c.add('b1', first.url); // idempotent: still one probe loop
    expect(c.isUp('b1')).toBe(false);
    expect(await c.waitUntilUp('b1', 2_000)).toBe(true);
    expect(events).toEqual([['b1', true, 3]]);

    await stop(first.server);
    const t0 = Date.now();
    await expect.poll(() => c.isUp('b1'), { timeout: 2_000, interval: 10 }).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(options.intervalMs * (options.fall - 1) - 5);
    expect(events.map(([, up]) => up)).toEqual([true, false]);

    await listen(ok, first.port);
    expect(await c.waitUntilUp('b1', 2_000)).toBe(true);
    expect(events.map(([, up]) => up)).toEqual([true, false, true]);
  });

  it('never overlaps probes of one backend, even when a probe outlasts the interval', async () => {
    let active = 0;
    let maxActive = 0;
    let probes = 0;
    const slow = await listen((_req, res) => {
      active += 1;
      probes += 1;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        active -= 1;
        res.end('ok');
      }, 60);
    });
    const c = checker(() => {}, { intervalMs: 5, rise: 1 });
    c.add('slow', slow.url);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(c.isUp('slow')).toBe(true);
    expect(maxActive).toBe(1);
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(probes).toBeLessThanOrEqual(6);
  });

  it('waitUntilUp resolves false after its timeout, and on remove() without an onChange', async () => {
    const refused = await listen(() => {});
    await stop(refused.server);
    const changes: boolean[] = [];
    const c = checker((_id, up) => changes.push(up));
    c.add('gone', refused.url);
    const t0 = Date.now();
    expect(await c.waitUntilUp('gone', 100)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);

    const pending = c.waitUntilUp('gone', 5_000);
    c.remove('gone');
    expect(await pending).toBe(false);
    expect(c.isUp('gone')).toBe(false);
    expect(changes).toEqual([]);
  });
});

describe('probeOnce', () => {
  it('succeeds only for a status inside the expected range', async () => {
    const { url } = await listen((req, res) => {
      res.statusCode = req.url === '/broken' ? 500 : req.url === '/moved' ? 302 : 200;
      res.end();
    });
    expect(await probeOnce(url, '/healthz', 500, [200, 399])).toBe(true);
    expect(await probeOnce(url, '/moved', 500, [200, 399])).toBe(true);
    expect(await probeOnce(url, '/moved', 500, [200, 299])).toBe(false);
    expect(await probeOnce(url, '/broken', 500, [200, 399])).toBe(false);
    expect(await probeOnce(url, '/broken', 500, [500, 500])).toBe(true);
  });

  it('fails a backend that does not answer within the timeout, or refuses the connection', async () => {
    const { url, server } = await listen(() => {}); // accepts, never answers
    const t0 = Date.now();
    expect(await probeOnce(url, '/healthz', 100, [200, 399])).toBe(false);
    expect(Date.now() - t0).toBeLessThan(500);
    await stop(server);
    expect(await probeOnce(url, '/healthz', 100, [200, 399])).toBe(false);
  });
});
