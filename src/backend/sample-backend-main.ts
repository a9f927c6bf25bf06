/**
 * Child-process entry of the sample backend, started by the local-process provider
 * (`node --import tsx sample-backend-main.ts`). An entry point, so it is the one place of the
 * backend that reads `process.env`:
 *
 * | variable                           | meaning                                  | default |
 * |------------------------------------|------------------------------------------|---------|
 * | PRESCALE_BACKEND_ID                | name in response bodies                  | backend-<pid> |
 * | PRESCALE_BACKEND_CONCURRENCY       | requests served at once                  | 4       |
 * | PRESCALE_BACKEND_SERVICE_TIME_MS   | time each request holds its slot (ms)    | 50      |
 * | PRESCALE_BACKEND_QUEUE_LIMIT       | requests that may wait                   | 64      |
 * | PRESCALE_BACKEND_QUEUE_TIMEOUT_MS  | longest wait before a 503 (ms)           | 1000    |
 * | PRESCALE_BACKEND_BOOT_DELAY_MS     | simulated boot/provisioning time (ms)    | 0       |
 * | PRESCALE_BACKEND_PORT              | port to listen on                        | 0 (free)|
 *
 * Lifecycle: waits the boot delay, listens on 127.0.0.1, then reports
 * `{ type: 'listening', port }` over IPC (or prints that JSON line on stdout without IPC).
 * SIGTERM/SIGINT: stop accepting, answer in-flight and queued requests, exit 0. Losing the IPC
 * channel (the parent died) exits at once so no backend outlives its provider. Invalid
 * variables: message on stderr, exit 2.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PrescaleError } from '../errors.js';
import { startSampleBackend, type SampleBackend } from './sample-backend.js';

/** Read a non-negative number from the environment, or `fallback` when unset. */
function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `${name}: expected a number ≥ 0, got "${raw}"`);
  }
  return value;
}

let backend: SampleBackend | undefined;
let stopping = false;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await backend?.close();
  process.exit(0);
}

process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
if (process.send) process.on('disconnect', () => process.exit(0));

try {
  const bootDelayMs = envNumber('PRESCALE_BACKEND_BOOT_DELAY_MS', 0);
  const options = {
    id: process.env['PRESCALE_BACKEND_ID'] || `backend-${process.pid}`,
    concurrency: envNumber('PRESCALE_BACKEND_CONCURRENCY', 4),
    serviceTimeMs: envNumber('PRESCALE_BACKEND_SERVICE_TIME_MS', 50),
    queueLimit: envNumber('PRESCALE_BACKEND_QUEUE_LIMIT', 64),
    queueTimeoutMs: envNumber('PRESCALE_BACKEND_QUEUE_TIMEOUT_MS', 1000),
    port: envNumber('PRESCALE_BACKEND_PORT', 0),
  };
  await sleep(bootDelayMs);
  if (!stopping) {
    backend = await startSampleBackend(options);
    const message = { type: 'listening', port: backend.port } as const;
    if (process.send) process.send(message);
    else process.stdout.write(`${JSON.stringify(message)}\n`);
  }
} catch (error) {
  process.stderr.write(`sample backend failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
