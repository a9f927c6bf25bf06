/** Why a retraining run did what it did; a bounded set, fit for a metric label. */
export type RetrainReason =
  | 'candidate-better'
  | 'no-usable-current'
  | 'current-as-good'
  | 'no-candidate-scored'
  | 'not-enough-history'
  | 'error';

/** decideSwap's answer: whether to make `best` current, and why. */
export interface SwapDecision {
  swap: boolean;
  /** The best scored candidate, if any. */
  best?: string;
  reason: RetrainReason;
  detail: string;
}

/**
 * Whether a retrained candidate should replace the current model (pure; STYLE.md §2, §3).
 * MAEs are at the scaler's horizon over the same backtest origins; null means not scored.
 * The best candidate is the one with the lowest MAE (ties: the first listed). It replaces the
 * current model when there is no usable current model, the current model could not be scored,
 * or its MAE is below current × (1 − minImprovement); otherwise the current model stays.
 * O(candidates).
 */
export function decideSwap(input: {
  candidates: readonly { model: string; mae: number | null }[];
  current: { model: string; mae: number | null } | null;
  /** Fraction in [0, 1) the MAE must improve by; 0 = any lower MAE. */
  minImprovement: number;
}): SwapDecision {
  let best: { model: string; mae: number } | undefined;
  for (const c of input.candidates) {
    if (c.mae !== null && Number.isFinite(c.mae) && (best === undefined || c.mae < best.mae)) best = { model: c.model, mae: c.mae };
  }
  if (best === undefined) {
    return { swap: false, reason: 'no-candidate-scored', detail: 'no candidate could be scored on the recent data; keeping the current model' };
  }
  const mae = (v: number): string => v.toFixed(3);
  const { current } = input;
  if (current === null) {
    return { swap: true, best: best.model, reason: 'no-usable-current', detail: `no usable current model; using ${best.model} (MAE ${mae(best.mae)})` };
  }
  if (current.mae === null || !Number.isFinite(current.mae)) {
    return { swap: true, best: best.model, reason: 'candidate-better', detail: `current ${current.model} could not be scored; ${best.model} has MAE ${mae(best.mae)}` };
  }
  const bar = current.mae * (1 - input.minImprovement);
  if (best.mae < bar) {
    return { swap: true, best: best.model, reason: 'candidate-better', detail: `${best.model} MAE ${mae(best.mae)} < current ${current.model} MAE ${mae(current.mae)}` };
  }
  return {
    swap: false,
    best: best.model,
    reason: 'current-as-good',
    detail: `best candidate ${best.model} MAE ${mae(best.mae)} does not beat current ${current.model} MAE ${mae(current.mae)}${input.minImprovement > 0 ? ` by ${100 * input.minImprovement}%` : ''}`,
  };
}
