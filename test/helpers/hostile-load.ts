/**
 * Load for the hostile-input and backend-fault tests: a closed-loop HTTP load of well-behaved
 * clients (undici, keep-alive) that counts every request sent and what became of it, and the
 * percentile helper the tests report latency with.
 */
import { Agent, request } from 'undici';

export interface LoadResult {
  /** Requests started. */
  sent: number;
  /** Final status of each request: 0 = no response (connection error, reset, client timeout). */
  statuses: Map<number, number>;
  /** Error codes of the requests that got no response. */
  errors: Map<string, number>;
  /** Latency of every request that got a response, ms. */
  latenciesMs: number[];
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  path?: string;
  method?: string;
  body?: string;
  /** A request without a response after this is counted as status 0; default 10 000 ms. */
  timeoutMs?: number;
}

/**
 * `concurrency` clients each send a request, read the whole response, and send the next, until
 * `durationMs` has passed; every request started is accounted for in the result.
 */
export async function closedLoop(baseUrl: string, options: LoadOptions): Promise<LoadResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const agent = new Agent({ connections: options.concurrency, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const result: LoadResult = { sent: 0, statuses: new Map(), errors: new Map(), latenciesMs: [] };
  const end = Date.now() + options.durationMs;
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      result.sent++;
      const started = performance.now();
      let status = 0;
      try {
        const res = await request(`${baseUrl}${options.path ?? '/'}`, { dispatcher: agent, method: (options.method ?? 'GET') as 'GET', body: options.body ?? null });
        await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
        status = res.statusCode;
        result.latenciesMs.push(performance.now() - started);
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).name;
        result.errors.set(code, (result.errors.get(code) ?? 0) + 1);
      }
      result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await agent.close();
  return result;
}

/** The q-quantile (0..1) of `values` by nearest rank; 0 for none. Does not modify `values`. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Count of results with `status`. */
export function countOf(result: LoadResult, status: number): number {
  return result.statuses.get(status) ?? 0;
}
