import { Forecaster, createModel } from '../forecast/forecaster.js';
import { median } from 'simple-statistics';
import type { Trace } from '../series/trace.js';
import type { ProgressCallback } from '../runtime/progress-bar.js';
import { simulate, type SimPolicyName, type SimResult } from './simulate.js';

/** The service's default candidate models (the backtest's winners plus the baselines). */
const SIM_MODELS = ['naive', 'seasonal-naive-daily', 'linear-regression', 'linear-regression-fourier', 'holt-winters'] as const;

export interface SimulationOptions {
  leadTimeMs: number;
  /** rps one backend serves at 100%; default: the trace's median load needs 4 backends. */
  capacityPerBackendRps?: number;
  targetUtilization: number;
  minBackends: number;
  maxBackends: number;
  scaleInStabilizationMs: number;
  /** No scale-in this long after a change; undefined: the lead time. */
  scaleInCooldownMs?: number | undefined;
  /** Scale-out step limit, as in serve. */
  scaleOutLimit?: { percent: number; backends: number };
  /** Evaluated days at the end of the trace; everything before is history. */
  days: number;
  quantile: number;
  /** Progress over all policies run: (steps done, steps in all, policy). */
  onProgress?: ProgressCallback;
}

export interface SimulationReport {
  trace: string;
  intervalSeconds: number;
  leadMinutes: number;
  capacityPerBackendRps: number;
  evaluated: { from: string; to: string };
  policies: Record<SimPolicyName, Omit<SimResult, 'steps' | 'policy'>>;
  /** Per-step series of each policy, for plots. */
  steps: Record<SimPolicyName, SimResult['steps']>;
}

/**
 * Run predictive, reactive (HPA-like) and oracle side by side over a trace with the service's
 * own policy code and forecaster. Capacity defaults to median rps / (4 × target utilisation),
 * so the median load needs exactly 4 backends.
 */
export function runSimulation(trace: Trace, o: SimulationOptions, policies: readonly SimPolicyName[] = ['predictive', 'reactive', 'oracle']): SimulationReport {
  const intervalSeconds = trace.intervalMs / 1000;
  const medianRps = median(trace.requests) / intervalSeconds;
  const capacityPerBackendRps = o.capacityPerBackendRps ?? medianRps / (4 * o.targetUtilization);
  const evalFrom = Math.max(1, trace.requests.length - Math.round((o.days * 86_400_000) / trace.intervalMs));
  const leadSteps = Math.max(0, Math.ceil(o.leadTimeMs / trace.intervalMs));
  const seasonLength = Math.round(86_400_000 / trace.intervalMs);
  const forecaster = new Forecaster({
    models: SIM_MODELS.map((name) => createModel(name, { seasonLength, windowIntervals: 30, intervalsPerDay: seasonLength })),
    horizon: leadSteps + 1,
    quantile: o.quantile,
    backtestOrigins: 30,
    reselectEvery: 10,
  });
  const policy = {
    capacityPerBackendRps,
    targetUtilization: o.targetUtilization,
    minBackends: o.minBackends,
    maxBackends: o.maxBackends,
    scaleInStabilizationMs: o.scaleInStabilizationMs,
    scaleInCooldownMs: o.scaleInCooldownMs,
    scaleOutLimit: o.scaleOutLimit,
  };
  const common = { demand: trace.requests, intervalMs: trace.intervalMs, evalFrom, leadTimeMs: o.leadTimeMs, policy, tolerance: 0.1 };
  const skipped: SimResult = { policy: 'oracle', underProvisionedMinutes: Number.NaN, overCapacityRequestShare: Number.NaN, backendHours: Number.NaN, scalingActions: 0, steps: [] };
  const stepsEach = trace.requests.length - evalFrom;
  const order = (['predictive', 'reactive', 'oracle'] as const).filter((name) => policies.includes(name));
  const progress = (name: SimPolicyName) => (done: number) => o.onProgress?.(order.indexOf(name as never) * stepsEach + done, order.length * stepsEach, name);
  const run = (name: SimPolicyName) =>
    policies.includes(name) ? simulate(name, { ...common, ...(name === 'predictive' ? { forecaster } : {}), onProgress: progress(name) }) : { ...skipped, policy: name };
  const results = { predictive: run('predictive'), reactive: run('reactive'), oracle: run('oracle') };
  const strip = ({ steps: _steps, policy: _policy, ...rest }: SimResult) => rest;
  return {
    trace: trace.file,
    intervalSeconds,
    leadMinutes: o.leadTimeMs / 60_000,
    capacityPerBackendRps,
    evaluated: { from: new Date(trace.startMs + evalFrom * trace.intervalMs).toISOString(), to: new Date(trace.startMs + trace.requests.length * trace.intervalMs).toISOString() },
    policies: { predictive: strip(results.predictive), reactive: strip(results.reactive), oracle: strip(results.oracle) },
    steps: { predictive: results.predictive.steps, reactive: results.reactive.steps, oracle: results.oracle.steps },
  };
}

/** Terminal table: one row per policy, with ratios to reactive. */
export function formatSimulation(r: SimulationReport): string {
  const re = r.policies.reactive;
  const rows = (['predictive', 'reactive', 'oracle'] as const).map((name) => {
    const p = r.policies[name];
    const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : a === 0 ? '-' : 'inf');
    return `${name.padEnd(11)} ${String(p.underProvisionedMinutes).padStart(8)} (${ratio(p.underProvisionedMinutes, re.underProvisionedMinutes).padStart(6)})  ${(p.overCapacityRequestShare * 100).toFixed(3).padStart(8)}%  ${p.backendHours.toFixed(1).padStart(9)} (${ratio(p.backendHours, re.backendHours).padStart(6)})  ${String(p.scalingActions).padStart(7)}`;
  });
  return [
    `${r.trace}: evaluated ${r.evaluated.from} to ${r.evaluated.to}, lead ${r.leadMinutes} min, ${r.capacityPerBackendRps.toFixed(2)} rps per backend`,
    'policy      under-provisioned min     over-cap share   backend-hours     actions',
    ...rows,
  ].join('\n');
}

/**
 * The under-provisioning / cost frontier: the predictive policy at each provisioning quantile,
 * as ratios to the reactive policy on the same trace. O(quantiles × one simulation).
 */
export function sweepQuantiles(trace: Trace, o: SimulationOptions, quantiles: readonly number[]): { quantile: number; underProvisionedMinutes: number; underVsReactive: number; backendHours: number; hoursVsReactive: number }[] {
  const runs = quantiles.length + 1;
  const part = (index: number, stage: string): ProgressCallback => (done, total) => o.onProgress?.(index * total + done, runs * total, stage);
  const reactive = runSimulation(trace, { ...o, onProgress: part(0, 'reactive') }, ['reactive']).policies.reactive;
  return quantiles.map((quantile, i) => {
    const p = runSimulation(trace, { ...o, quantile, onProgress: part(i + 1, `predictive p${Math.round(quantile * 100)}`) }, ['predictive']).policies.predictive;
    return {
      quantile,
      underProvisionedMinutes: p.underProvisionedMinutes,
      underVsReactive: reactive.underProvisionedMinutes > 0 ? p.underProvisionedMinutes / reactive.underProvisionedMinutes : 0,
      backendHours: p.backendHours,
      hoursVsReactive: p.backendHours / reactive.backendHours,
    };
  });
}
