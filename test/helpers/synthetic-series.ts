/**
 * Synthetic traffic for forecast tests: a known daily signal, so a model's forecast can be
 * checked against the truth, plus seeded Gaussian noise.
 */
import { normalDraws } from './seeded-random.js';

/** Intervals per day: 30-minute intervals. */
export const day = 48;

/**
 * Noise-free signal at interval t: level 200, a linear trend of `trendPerDay` per day and a
 * daily swing with two harmonics (±80 and ±25).
 */
export function signal(t: number, trendPerDay: number): number {
  return 200 + (trendPerDay * t) / day + 80 * Math.sin((2 * Math.PI * t) / day) + 25 * Math.cos((4 * Math.PI * t) / day);
}

/** `days` days of `signal` plus normal noise with standard deviation `sd`, seeded by `seed`. */
export function noisy(days: number, trendPerDay: number, sd: number, seed: number): number[] {
  const noise = normalDraws(seed);
  return Array.from({ length: days * day }, (_, t) => signal(t, trendPerDay) + sd * noise());
}
