/**
 * How far any forecast-driven policy could move the under-provisioning / cost frontier on a
 * trace: a hindsight reference for `prescale simulate --sweep`.
 *
 *   node --import tsx bench/frontier-bound.ts --trace data/traces/nab_aws_elb_requests_5min.csv [--days 7]
 *
 * The reference policy knows, in hindsight, the distribution of demand in each hour of day of
 * the evaluated days (all of them at once, so it has seen the future of the whole week), but not
 * the individual intervals. For a quantile q it provisions, at 100% capacity (no target
 * utilisation headroom) and with no lead time, ceil(Q_q(demand of that hour of day) / capacity)
 * backends. Where the interval-to-interval variation is noise (no autocorrelation left after the
 * daily profile), no policy without per-interval foresight does much better, so the rows bound
 * what `--quantile` can buy. Capacity and the reactive reference are exactly those of
 * `prescale simulate` at its defaults (median load needs 4 backends at target 0.8, HPA-like reactive).
 *
 * Prints one row per quantile: under-provisioned minutes and backend-hours as ratios to reactive.
 */
import { parseArgs } from 'node:util';
import { quantileSorted } from 'simple-statistics';
import { runSimulation } from '../src/sim/run-simulation.js';
import { readTrace } from '../src/series/trace.js';

const { values } = parseArgs({ options: { trace: { type: 'string' }, days: { type: 'string', default: '7' } } });
if (values.trace === undefined) throw new Error('--trace FILE.csv is required');
const trace = await readTrace(values.trace);
const days = Number(values.days);
const report = runSimulation(trace, { leadTimeMs: 300_000, targetUtilization: 0.8, minBackends: 1, maxBackends: 1000, scaleInStabilizationMs: 300_000, scaleOutLimit: { percent: 100, backends: 4 }, days, quantile: 0.9 }, ['reactive']);
const reactive = report.policies.reactive;
const perInterval = report.capacityPerBackendRps * (trace.intervalMs / 1000);
const evalFrom = trace.requests.length - Math.round((days * 86_400_000) / trace.intervalMs);
const evaluated = trace.requests.slice(evalFrom);
const hourOf = (i: number) => new Date(trace.startMs + (evalFrom + i) * trace.intervalMs).getUTCHours();
const byHour = Array.from({ length: 24 }, (_, h) => evaluated.filter((_, i) => hourOf(i) === h).sort((a, b) => a - b));

console.log(`${trace.file}: ${days} days, ${perInterval.toFixed(1)} requests per interval per backend at 100%; reactive ${reactive.underProvisionedMinutes} under-provisioned min, ${reactive.backendHours.toFixed(1)} backend-hours`);
console.log('quantile  under-provisioned (x reactive)  backend-hours (x reactive)');
for (const q of [0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95]) {
  let under = 0;
  let instances = 0;
  evaluated.forEach((demand, i) => {
    const backends = Math.max(1, Math.ceil(quantileSorted(byHour[hourOf(i)] as number[], q) / perInterval));
    instances += backends;
    if (demand > backends * perInterval) under++;
  });
  const minutes = (under * trace.intervalMs) / 60_000;
  const hours = (instances * trace.intervalMs) / 3_600_000;
  console.log(`p${String(Math.round(q * 100)).padEnd(8)} ${String(minutes).padStart(6)} (${(minutes / reactive.underProvisionedMinutes).toFixed(2)}x)          ${hours.toFixed(1).padStart(7)} (${(hours / reactive.backendHours).toFixed(2)}x)`);
}
