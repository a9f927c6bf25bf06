import { Agent, request } from 'undici';
import { LatencyHistogram } from '../series/latency-histogram.js';

export interface ReplayResult {
  sent: number;
  ok: number;
  /** Responses with status >= 500, plus requests that got no response. */
  errors: number;
  latency: LatencyHistogram;
}

/**
 * Open-loop replay of a request-count trace against a URL: interval i sends `counts[i]`
 * requests spread evenly over [startMs + i × intervalMs, startMs + (i + 1) × intervalMs),
 * whether or not earlier ones have answered (as real users do), so an under-provisioned fleet
 * shows as queueing latency and errors rather than as a slower generator.
 * Every request is a GET to `${url}/trace/<i>`; each has `timeoutMs` to answer.
 * Resolves when every request has finished. Traffic goes only where `url` points (127.0.0.1).
 */
export async function replay(url: string, counts: readonly number[], startMs: number, intervalMs: number, timeoutMs: number): Promise<ReplayResult> {
  const agent = new Agent({ connections: 2048, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 10_000 });
  const result: ReplayResult = { sent: 0, ok: 0, errors: 0, latency: new LatencyHistogram() };
  const pending = new Set<Promise<void>>();
  const tickMs = 5;

  const one = (path: string): void => {
    const t0 = performance.now();
    result.sent++;
    const p = request(url + path, { dispatcher: agent, method: 'GET' })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 500) result.errors++;
        else result.ok++;
      })
      .catch(() => {
        result.errors++;
      })
      .finally(() => {
        result.latency.record(performance.now() - t0);
        pending.delete(p);
      });
    pending.add(p);
  };

  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    const begin = startMs + i * intervalMs;
    let sentHere = 0;
    while (sentHere < count) {
      const now = Date.now();
      const due = Math.min(count, Math.floor(((now - begin) / intervalMs) * count) + 1);
      while (sentHere < due) one(`/trace/${i}?n=${sentHere++}`);
      if (sentHere < count) await sleep(tickMs);
    }
    const end = begin + intervalMs;
    if (Date.now() < end) await sleep(end - Date.now());
  }
  await Promise.all(pending);
  await agent.close();
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
