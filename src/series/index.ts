/**
 * The series module's boundary: per-interval traffic buckets, the latency histogram behind
 * them, the durable per-day traffic log (data/traffic) and the trace CSV reader (data/traces).
 */
export { LatencyHistogram, HISTOGRAM_MIN_MS, HISTOGRAM_MAX_MS, HISTOGRAM_RELATIVE_ERROR } from './latency-histogram.js';
export { TrafficSeries, type Bucket, type RequestRecord, type TrafficSeriesOptions } from './traffic-series.js';
export { TrafficLog, readTrafficLog, utcDay, DEFAULT_TRAFFIC_LOG_DIR } from './traffic-log.js';
export { readTrace, parseTrace, sliceTrace, type Trace } from './trace.js';
