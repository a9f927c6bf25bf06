import { seededRandom } from '../runtime/seeded-random.js';
import type { StepOffsetCache } from './prediction-intervals.js';
import { inputCount, inputReach, writeInputs, type MlpLayout, type MlpScale } from './mlp-features.js';
import { filledTail } from './series-gaps.js';

/**
 * A trained `mlp` network as plain arrays: one hidden ReLU layer, a linear output per step,
 *   out = W₂ᵀ · relu(W₁ᵀ · x + b₁) + b₂
 * with W₁ inputs × hidden and W₂ hidden × outputs, row-major. Training (mlp-train.ts) runs in
 * TensorFlow.js; forecasting runs here, in plain JavaScript, so a forecast is synchronous,
 * needs no tensor memory and works whatever backend trained the weights. O(inputs × hidden +
 * hidden × outputs) per forecast (about 6 000 multiply-adds at the defaults).
 */
export interface MlpWeights {
  inputs: number;
  hidden: number;
  outputs: number;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** Everything a forecast needs from one training run. */
export interface MlpNetwork {
  layout: MlpLayout;
  scale: MlpScale;
  weights: MlpWeights;
  /** Per-step upper-bound offsets (√ scale) from the calibration window. */
  offsets: StepOffsetCache;
}

/** The network's outputs for one input vector. */
export function forward(weights: MlpWeights, x: ArrayLike<number>): Float64Array {
  const { inputs, hidden, outputs, w1, b1, w2, b2 } = weights;
  const activation = Float64Array.from(b1);
  for (let i = 0; i < inputs; i++) {
    const xi = x[i] as number;
    if (xi === 0) continue;
    const row = i * hidden;
    for (let j = 0; j < hidden; j++) activation[j] = (activation[j] as number) + xi * (w1[row + j] as number);
  }
  const out = Float64Array.from(b2);
  for (let j = 0; j < hidden; j++) {
    const a = activation[j] as number;
    if (!(a > 0)) continue;
    const row = j * outputs;
    for (let k = 0; k < outputs; k++) out[k] = (out[k] as number) + a * (w2[row + k] as number);
  }
  return out;
}

/**
 * Point forecasts (requests per interval, >= 0) for steps 1..horizon <= network outputs, from a
 * network trained `shift` intervals before the end of `history`. The inputs' tail is gap-filled
 * (LOCF); `allGaps` says the whole tail was gaps (the forecast then rests on zeros).
 */
export function predictNetwork(network: MlpNetwork, history: readonly number[], horizon: number, shift: number): { point: number[]; allGaps: boolean } {
  const { layout, scale, weights } = network;
  const reach = inputReach(layout);
  const n = history.length;
  const tail = filledTail(history, n - reach, n);
  const padding = new Array<number>(reach - tail.values.length).fill(tail.values[0] ?? 0);
  const z = [...padding, ...tail.values].map((value) => Math.log1p(Math.max(0, value)));
  const x = new Float64Array(inputCount(layout));
  const level = writeInputs(layout, z, reach, shift, scale, x);
  const out = forward(weights, x);
  const point = Array.from({ length: horizon }, (_, i) => Math.max(0, Math.expm1(level + scale.std * (out[i] as number))));
  return { point, allGaps: tail.finiteCount === 0 };
}


/** Glorot-uniform weights (Glorot & Bengio, AISTATS 2010) and zero biases from `random`. */
export function initialWeights(inputs: number, hidden: number, outputs: number, random: () => number): MlpWeights {
  const uniform = (count: number, fanIn: number, fanOut: number): Float32Array => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: count }, () => (2 * random() - 1) * limit);
  };
  return {
    inputs,
    hidden,
    outputs,
    w1: uniform(inputs * hidden, inputs, hidden),
    b1: new Float32Array(hidden),
    w2: uniform(hidden * outputs, hidden, outputs),
    b2: new Float32Array(outputs),
  };
}

export { seededRandom };
