import { z } from 'zod';

/** Largest weight the API accepts or a percent change produces (the config's bound for `upstream.backends[].weight`). */
export const MAX_BACKEND_WEIGHT = 1000;

/** Longest drain the API accepts (ms): one hour. */
export const MAX_DRAIN_TIMEOUT_MS = 3_600_000;

const weight = z.number().int().min(0).max(MAX_BACKEND_WEIGHT);

/** Backend ids: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 64 characters. */
export const backendId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1–64 characters: letters, digits, ".", "_", "-", starting with a letter or digit');

const backendUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL like "http://127.0.0.1:8081"' });

/** `PUT /v1/backends/:id/weight`: exactly one of an absolute weight or a percent of the initial weight. */
export const weightBody = z
  .strictObject({
    weight: weight.optional(),
    /** HAProxy `set weight <n>%`: percent of the weight the backend was added with. */
    percent: z.number().int().min(0).optional(),
  })
  .refine((b) => (b.weight === undefined) !== (b.percent === undefined), {
    message: `give exactly one of "weight" (an integer 0–${MAX_BACKEND_WEIGHT}) or "percent" (an integer ≥ 0, of the initial weight)`,
  });

/** `PUT /v1/backends/:id/state`. */
export const stateBody = z.strictObject({ state: z.enum(['ready', 'drain', 'maint']) });

/** `POST /v1/backends`. */
export const addBody = z.strictObject({
  id: backendId.optional(),
  url: backendUrl,
  weight: weight.default(1),
});

/** `PUT /v1/heartbeats/:id`. */
export const heartbeatBody = z.strictObject({
  url: backendUrl,
  ttlMs: z.number().int().min(100).max(86_400_000),
  weight: weight.optional(),
});

const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Query of `DELETE /v1/backends/:id`; `drainTimeoutMs` defaults to the server's. */
export const deleteQuery = z.strictObject({
  drainTimeoutMs: z.coerce.number().int().min(0).max(MAX_DRAIN_TIMEOUT_MS).optional(),
  wait: booleanFlag.default(false),
});

/**
 * HAProxy's relative weight (`server_parse_weight_change_request` in src/server.c):
 * floor(initialWeight × percent / 100), capped at MAX_BACKEND_WEIGHT. So 50% of weight 1 is 0,
 * as in HAProxy. Inputs are validated integers ≥ 0; O(1).
 */
export function weightFromPercent(initialWeight: number, percent: number): number {
  return Math.min(MAX_BACKEND_WEIGHT, Math.floor((initialWeight * percent) / 100));
}
