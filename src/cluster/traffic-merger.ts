import type { RequestRecord, TrafficSeries } from '../series/traffic-series.js';
import { latencyOfIndex, type TallyPart } from './traffic-tally.js';

/**
 * The primary's side of the traffic aggregation: merges every worker's TallyParts into the one
 * TrafficSeries the control loop, the forecaster and the traffic log read, so they see the
 * total of all workers.
 *
 * A part is replayed into the series as `requests` records at the middle of its interval, so
 * the series' own placement rule applies: a part for an interval the series already closed (it
 * arrived after the control loop's tick) counts in the first interval still open, and nothing is
 * lost. Requests, errors, bytes and requests per backend merge exactly; latency quantiles are
 * those of the merged histogram (within LatencyHistogram's 2 %); maxConcurrency is the sum of
 * each worker's largest in-flight count in the interval, an upper bound of the true peak.
 *
 * Cost: `merge` O(requests in the part + histogram buckets), off the data plane (the primary
 * serves no traffic); at 50 000 req/s that is about 50 000 `record` calls per second.
 */
export class TrafficMerger {
  /** Per worker: the interval of its latest part and its largest in-flight count there. */
  private readonly peaks = new Map<number, { startMs: number; max: number }>();
  private readonly totals = new Map<number, number>();
  /** One record object reused for every replayed request (`record` does not keep it). */
  private readonly scratch: RequestRecord = { startMs: 0, latencyMs: 0, status: 200, bytes: 0, backend: '' };

  constructor(private readonly series: TrafficSeries) {}

  /** Requests merged from worker `workerId` since it was first seen. */
  requestsOf(workerId: number): number {
    return this.totals.get(workerId) ?? 0;
  }

  /** Forget a worker that exited (its merged traffic stays in the series). */
  forget(workerId: number): void {
    this.peaks.delete(workerId);
    this.totals.delete(workerId);
  }

  /** Add one part from worker `workerId` to the series. Ignores parts with a non-finite startMs or counts. */
  merge(workerId: number, part: TallyPart): void {
    if (!Number.isFinite(part.startMs) || !(part.requests >= 0) || !Number.isSafeInteger(part.requests)) return;
    const midMs = part.startMs + this.series.intervalMs / 2;
    this.replay(part, midMs);
    this.totals.set(workerId, this.requestsOf(workerId) + part.requests);
    const peak = this.peaks.get(workerId);
    if (peak === undefined || peak.startMs < part.startMs) this.peaks.set(workerId, { startMs: part.startMs, max: part.maxConcurrency });
    else if (peak.startMs === part.startMs && part.maxConcurrency > peak.max) peak.max = part.maxConcurrency;
    let sum = 0;
    for (const p of this.peaks.values()) if (p.startMs === part.startMs) sum += p.max;
    if (sum > 0) this.series.observeConcurrency(sum, midMs);
  }

  /**
   * Record the part's requests one by one: latencies walk the sparse histogram, backends walk
   * byBackend, the first `errors` get status 500 (the rest 200), and the first carries all bytes.
   */
  private replay(part: TallyPart, midMs: number): void {
    const r = this.scratch;
    const latency = part.latency;
    const backends = Object.entries(part.byBackend);
    let li = 0;
    let latencyLeft = latency[1] ?? 0;
    let bi = 0;
    let backendLeft = backends[0]?.[1] ?? 0;
    for (let n = 0; n < part.requests; n++) {
      while (latencyLeft <= 0 && li + 2 < latency.length) {
        li += 2;
        latencyLeft = latency[li + 1] ?? 0;
      }
      while (backendLeft <= 0 && bi + 1 < backends.length) {
        bi++;
        backendLeft = backends[bi]?.[1] ?? 0;
      }
      r.latencyMs = latencyLeft > 0 ? latencyOfIndex(latency[li] as number) : 0;
      r.startMs = midMs - r.latencyMs;
      r.status = n < part.errors ? 500 : 200;
      r.bytes = n === 0 ? part.bytes : 0;
      r.backend = backendLeft > 0 ? (backends[bi]?.[0] ?? '') : '';
      latencyLeft--;
      backendLeft--;
      this.series.record(r);
    }
  }
}
