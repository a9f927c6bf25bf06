/**
 * The recursions of additive Holt-Winters with a damped trend (component form), for a season
 * of m intervals:
 *
 *   ŷ_{t|t-1} = ℓ_{t-1} + φ b_{t-1} + s_{t-m}
 *   ℓ_t = α (y_t - s_{t-m}) + (1 - α)(ℓ_{t-1} + φ b_{t-1})
 *   b_t = β (ℓ_t - ℓ_{t-1}) + (1 - β) φ b_{t-1}
 *   s_t = γ (y_t - ℓ_{t-1} - φ b_{t-1}) + (1 - γ) s_{t-m}
 *   ŷ_{t+h|t} = ℓ_t + (φ + φ² + … + φ^h) b_t + s_{t+h-m(k+1)},  k = ⌊(h - 1)/m⌋
 *
 * Source: Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., §8.2
 * (damped trend) and §8.3 (Holt-Winters additive, damped); Gardner & McKenzie, "Forecasting
 * trends in time series", Management Science 31 (1985). The seasonal indexes live in a ring of
 * length m indexed by time mod m, so a step costs O(1) and a state copy O(m).
 */
export interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

export interface HoltWintersState {
  level: number;
  trend: number;
  /** season[t mod m] = the latest seasonal index for phase t mod m. */
  season: Float64Array;
  /** Index (from the start of the fitted window) of the next observation. */
  time: number;
}

/**
 * Classical-decomposition start (FPP3 §8.3 / Hyndman et al. 2008, §2.6.1, simplified): level
 * = mean of the first season, trend 0 (the damped trend learns it), seasonal index of phase i
 * = mean over the first k = min(3, ⌊n/m⌋) seasons of (y - that season's mean). `values` must be
 * gap-free with at least one full season. O(k·m).
 */
export function initialState(values: ArrayLike<number>, m: number): HoltWintersState {
  const seasons = Math.max(1, Math.min(3, Math.floor(values.length / m)));
  const season = new Float64Array(m);
  let firstMean = 0;
  for (let k = 0; k < seasons; k++) {
    let mean = 0;
    for (let i = 0; i < m; i++) mean += (values[k * m + i] as number) / m;
    if (k === 0) firstMean = mean;
    for (let i = 0; i < m; i++) season[i] = (season[i] as number) + ((values[k * m + i] as number) - mean) / seasons;
  }
  return { level: firstMean, trend: 0, season, time: 0 };
}

export function copyState(state: HoltWintersState): HoltWintersState {
  return { level: state.level, trend: state.trend, season: Float64Array.from(state.season), time: state.time };
}

/** One-step forecast from `state` (before observing y at state.time). */
export function oneStep(p: HoltWintersParams, state: HoltWintersState): number {
  const m = state.season.length;
  return state.level + p.phi * state.trend + (state.season[state.time % m] as number);
}

/** h-step forecast (h >= 1) with φ_h = φ + … + φ^h precomputed by `dampedSums`. */
export function stepAhead(state: HoltWintersState, h: number, dampedSum: number): number {
  const m = state.season.length;
  return state.level + dampedSum * state.trend + (state.season[(state.time + h - 1) % m] as number);
}

/** [φ_1, …, φ_H], φ_h = Σ_{j=1..h} φ^j. */
export function dampedSums(phi: number, horizon: number): number[] {
  const sums: number[] = [];
  let power = 1;
  let sum = 0;
  for (let h = 1; h <= horizon; h++) {
    power *= phi;
    sum += power;
    sums.push(sum);
  }
  return sums;
}

/** Observes y (finite) and moves the state one interval on, in place. O(1). */
export function update(p: HoltWintersParams, state: HoltWintersState, y: number): void {
  const m = state.season.length;
  const index = state.time % m;
  const seasonal = state.season[index] as number;
  const previous = state.level;
  const damped = p.phi * state.trend;
  const level = p.alpha * (y - seasonal) + (1 - p.alpha) * (previous + damped);
  state.trend = p.beta * (level - previous) + (1 - p.beta) * damped;
  state.season[index] = p.gamma * (y - previous - damped) + (1 - p.gamma) * seasonal;
  state.level = level;
  state.time++;
}

/**
 * Sum of squared one-step errors over values[skip, end), running the filter from a fresh
 * `initialState` over values[0, end). NaN when the recursion overflows. O(end + k·m).
 */
export function oneStepSse(p: HoltWintersParams, values: ArrayLike<number>, m: number, end: number, skip: number): number {
  const state = initialState(values, m);
  let sse = 0;
  for (let t = 0; t < end; t++) {
    const y = values[t] as number;
    if (t >= skip) {
      const error = y - oneStep(p, state);
      sse += error * error;
    }
    update(p, state, y);
  }
  return Number.isFinite(sse) ? sse : Number.NaN;
}
