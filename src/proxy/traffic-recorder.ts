import type { DurationObserver } from '../metrics/request-duration.js';
import type { TrafficSeries } from '../series/traffic-series.js';
import type { ProxyObserver } from './forward.js';

/**
 * The traffic recorder: the proxy's observer that puts every finished request (start, latency,
 * status, bytes, backend) into the per-interval traffic series, samples concurrency, and
 * observes the request duration histogram.
 */
export function createTrafficRecorder(series: TrafficSeries, duration: DurationObserver): ProxyObserver {
  return {
    requestStarted(inFlight, nowMs) {
      series.observeConcurrency(inFlight, nowMs);
    },
    requestFinished(startMs, latencyMs, status, bytes, backend) {
      series.record({ startMs, latencyMs, status, bytes, backend });
      duration.observe(latencyMs / 1000);
    },
  };
}
