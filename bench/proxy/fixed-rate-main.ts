/**
 * Open-loop fixed-rate HTTP client (what wrk2 does; wrk2 is not packaged in Debian): sends GETs
 * on a fixed schedule whatever the responses do (open loop: a slow answer never delays the next
 * send, so there is no coordinated omission), through an undici Pool of 32 keep-alive
 * connections, and measures each request from its send to the end of its body. `lateSendMs` is
 * the largest lag of a send behind its schedule (client timer jitter). Prints one JSON line.
 *
 *   node --import tsx bench/proxy/fixed-rate-main.ts <url> <rate per s> <duration s> [warm-up s]
 */
import { Pool } from 'undici';

const [urlArg, rateArg, durationArg, warmArg] = process.argv.slice(2);
if (urlArg === undefined || rateArg === undefined || durationArg === undefined) throw new Error('usage: fixed-rate-main.ts <url> <rate> <duration s> [warm-up s]');
const url = new URL(urlArg);
const rate = Number(rateArg);
const durationMs = Number(durationArg) * 1000;
const warmMs = Number(warmArg ?? '1') * 1000;
const pool = new Pool(url.origin, { connections: 32, pipelining: 1, keepAliveTimeout: 30_000 });
const path = url.pathname + url.search;

/** One phase: `ms` of sends at `rate`; resolves latencies (ms) of the requests that completed, and the error count. */
async function phase(ms: number): Promise<{ latencies: Float64Array; count: number; errors: number; lateSendMs: number }> {
  const total = Math.floor((ms / 1000) * rate);
  const latencies = new Float64Array(total);
  let count = 0;
  let errors = 0;
  let settled = 0;
  let lateSendMs = 0;
  const start = performance.now();
  const gapMs = 1000 / rate;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const done = () => {
      if (++settled === total) resolve();
    };
    const send = () => {
      const t0 = performance.now();
      pool
        .request({ path, method: 'GET' })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 400) latencies[count++] = performance.now() - t0;
          else errors++;
        })
        .catch(() => errors++)
        .finally(done);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * gapMs <= now) {
        const scheduled = start + sent * gapMs;
        if (now - scheduled > lateSendMs) lateSendMs = now - scheduled;
        sent++;
        send();
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * gapMs - performance.now()));
    };
    tick();
  });
  return { latencies: latencies.subarray(0, count), count, errors, lateSendMs };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] as number;
}

await phase(warmMs);
const { latencies, count, errors, lateSendMs } = await phase(durationMs);
const sorted = latencies.slice().sort();
process.stdout.write(
  `${JSON.stringify({
    rate,
    sent: Math.floor((durationMs / 1000) * rate),
    ok: count,
    errors,
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    p999Ms: quantile(sorted, 0.999),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
    lateSendMs,
  })}\n`,
);
await pool.close();
