/** Backend fixtures for balancer tests: ready, healthy backends named a, b, c, … */
import { Backend, type BackendOptions } from '../../src/proxy/backend.js';

/** Pool settings the balancer tests never exercise (no connection is ever opened). */
export const poolDefaults = { connectTimeoutMs: 1000, firstByteTimeoutMs: 1000, idleTimeoutMs: 1000, keepAliveConnections: 1 };

/** Options for the i-th test backend (i from 0): id 'a' + i, url http://127.0.0.1:(10000 + i). */
export function backendOptions(i: number, weight: number): BackendOptions {
  return { ...poolDefaults, id: String.fromCharCode(97 + i), url: `http://127.0.0.1:${10_000 + i}`, weight };
}

/** Marks `backend` ready and healthy, as a balancer expects, and returns it. */
export function markReady<T extends Backend>(backend: T): T {
  backend.state = 'ready';
  backend.healthy = true;
  return backend;
}

/** One ready, healthy backend per weight; ids start at the `firstId`-th letter ('a' for 0). */
export function backends(weights: number[], firstId = 0): Backend[] {
  return weights.map((weight, j) => markReady(new Backend(backendOptions(firstId + j, weight))));
}
