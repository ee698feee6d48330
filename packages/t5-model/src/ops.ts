// Shape adapters over tensor-core's fast products (plain 2-D matMul with explicit-transpose gradients
// on wasm), so the model's attention stays on the fast path.
import * as tf from '@tensorflow/tfjs-core';
import { bmm as bmm3, linear } from '@tagi/tensor-core';

/** x [n, in] · weightᵀ, weight [out, in] → [n, out]. */
export function linear2d(x: tf.Tensor, weight: tf.Tensor): tf.Tensor2D {
  return linear(x, weight) as tf.Tensor2D;
}

/** Batched product over leading axes: a [..., m, k] · b [..., k, n] (transposes as flagged) → [..., m, n]. */
export function bmm(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const lead = a.shape.slice(0, -2);
  const batch = lead.reduce((p, q) => p * q, 1);
  const a3 = tf.reshape(a, [batch, a.shape[a.rank - 2] as number, a.shape[a.rank - 1] as number]);
  const b3 = tf.reshape(b, [batch, b.shape[b.rank - 2] as number, b.shape[b.rank - 1] as number]);
  const y = bmm3(a3, b3, transposeA, transposeB); // [batch, m, n]
  return tf.reshape(y, [...lead, y.shape[1], y.shape[2]]);
}
