import type { Scalar, Variable } from '@tensorflow/tfjs';
import type { TensorFlow } from './mlp-backend.js';
import type { TrainingRows } from './mlp-features.js';
import { initialWeights, seededRandom, type MlpWeights } from './mlp-network.js';

/** Settings of one training run; see MlpOptions (mlp.ts) for defaults. */
export interface TrainSettings {
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/** The trained weights and the mean masked squared error of the last epoch. */
export interface TrainedWeights {
  weights: MlpWeights;
  loss: number;
}

/**
 * Trains a one-hidden-layer ReLU network on `rows` with Adam (Kingma & Ba, ICLR 2015) and a
 * masked mean squared error (targets whose value was a gap do not count), in mini-batches of
 * `batchSize` rows drawn in an order shuffled each epoch.
 *
 * Deterministic for a given seed and backend: the initial weights (Glorot uniform) and the
 * shuffles come from `seededRandom(seed)`, not from TensorFlow.js's own generator, and no
 * dropout is used. Between epochs it awaits `pause()`, so a worker thread that trains in the
 * background still answers forecast requests (about 0.1 s of work per epoch at the defaults).
 * Tensors are freed as it goes (tf.tidy per batch; variables disposed at the end).
 * Cost: O(epochs × rows × (inputs × hidden + hidden × outputs)).
 * @throws what TensorFlow.js throws (out of memory); the caller reports it
 */
export async function trainWeights(tf: TensorFlow, rows: TrainingRows, s: TrainSettings, pause: () => Promise<void>): Promise<TrainedWeights> {
  const inputs = rows.inputs.length / Math.max(1, rows.rows);
  const outputs = rows.targets.length / Math.max(1, rows.rows);
  const random = seededRandom(s.seed);
  const start = initialWeights(inputs, s.hidden, outputs, random);
  // tidy frees the initial-value tensors; variables survive it.
  const [w1, b1, w2, b2] = tf.tidy(() => [
    tf.variable(tf.tensor2d(start.w1, [inputs, s.hidden])),
    tf.variable(tf.tensor1d(start.b1)),
    tf.variable(tf.tensor2d(start.w2, [s.hidden, outputs])),
    tf.variable(tf.tensor1d(start.b2)),
  ]) as [Variable, Variable, Variable, Variable];
  const optimizer = tf.train.adam(s.learningRate);
  const order = Array.from({ length: rows.rows }, (_, i) => i);
  let loss = Number.NaN;
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      shuffle(order, random);
      let sum = 0;
      for (let first = 0; first < order.length; first += s.batchSize) {
        const batch = order.slice(first, first + s.batchSize);
        const [x, y, m] = gather(rows, batch, inputs, outputs);
        let cost = Number.NaN;
        tf.tidy(() => {
          const xs = tf.tensor2d(x, [batch.length, inputs]);
          const ys = tf.tensor2d(y, [batch.length, outputs]);
          const ms = tf.tensor2d(m, [batch.length, outputs]);
          const value = optimizer.minimize(() => {
            const hidden = tf.relu(tf.add(tf.matMul(xs, w1), b1));
            const error = tf.sub(tf.add(tf.matMul(hidden, w2), b2), ys);
            return tf.div(tf.sum(tf.mul(ms, tf.square(error))), tf.maximum(tf.sum(ms), 1)) as Scalar;
          }, true, [w1, b1, w2, b2]);
          cost = value?.dataSync()[0] ?? Number.NaN;
        });
        sum += cost * batch.length;
      }
      loss = sum / Math.max(1, order.length);
      await pause();
    }
    const read = (v: Variable): Float32Array => Float32Array.from(v.dataSync());
    return { weights: { inputs, hidden: s.hidden, outputs, w1: read(w1), b1: read(b1), w2: read(w2), b2: read(b2) }, loss };
  } finally {
    optimizer.dispose();
    for (const variable of [w1, b1, w2, b2]) variable.dispose();
  }
}

/** Fisher-Yates in place with the given generator. */
function shuffle(order: number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
}

function gather(rows: TrainingRows, batch: readonly number[], inputs: number, outputs: number): [Float32Array, Float32Array, Float32Array] {
  const x = new Float32Array(batch.length * inputs);
  const y = new Float32Array(batch.length * outputs);
  const m = new Float32Array(batch.length * outputs);
  batch.forEach((row, k) => {
    x.set(rows.inputs.subarray(row * inputs, (row + 1) * inputs), k * inputs);
    y.set(rows.targets.subarray(row * outputs, (row + 1) * outputs), k * outputs);
    m.set(rows.mask.subarray(row * outputs, (row + 1) * outputs), k * outputs);
  });
  return [x, y, m];
}
