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

// ---------------------------------------------------------------------------------------------
// Frozen weights. A frozen base (TAGI trains only adapters) needs no weight gradients, so its linear
// layers can skip what a trainable weight costs on wasm: the per-call transpose of W (a copy of the
// whole matrix, which also defeats XNNPACK's packed-weight cache keyed by the operand), and saving W
// for the backward pass (tfjs copies every saved tensor on wasm). `freezeWeights` materialises Wᵀ once.

interface FrozenEntry {
  dataId: object; // the variable's data when Wᵀ was taken; a later assign() makes the entry stale
  wt: tf.Tensor2D; // [in, out]
}

const frozen = new WeakMap<tf.Variable, FrozenEntry>();

function dataIdOf(v: tf.Tensor): object {
  return (v as unknown as { dataId: object }).dataId;
}

/** Precompute Wᵀ for 2-D weights [out, in] (kept until releaseFrozen). */
export function freezeWeights(weights: Iterable<tf.Variable>): void {
  for (const w of weights) {
    if (w.rank !== 2) continue;
    const old = frozen.get(w);
    if (old && old.dataId === dataIdOf(w)) continue;
    old?.wt.dispose();
    frozen.set(w, { dataId: dataIdOf(w), wt: tf.keep(tf.tidy(() => tf.transpose(w) as tf.Tensor2D)) });
  }
}

export function releaseFrozen(weights: Iterable<tf.Variable>): void {
  for (const w of weights) {
    frozen.get(w)?.wt.dispose();
    frozen.delete(w);
  }
}

/** Wᵀ when w is frozen, not trainable and unchanged since; undefined otherwise. */
export function frozenTranspose(w: tf.Variable): tf.Tensor2D | undefined {
  const e = frozen.get(w);
  return e && !w.trainable && e.dataId === dataIdOf(w) ? e.wt : undefined;
}

// Few rows (decoding steps): the product is memory-bound and the transposed-flag kernel reads W once
// without packing it; many rows: a plain product on the cached Wᵀ (XNNPACK reuses its packing).
const SKINNY_ROWS = 32;

/**
 * x [n, in] · Wᵀ for a frozen W with its cached Wᵀ: the gradient flows to x only (dx = dy·W, a plain
 * product) and nothing weight-sized is saved for the backward pass.
 */
export function frozenLinear2d(x: tf.Tensor2D, w: tf.Tensor, wt: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((xIn: tf.Tensor2D) => ({
    value: xIn.shape[0] < SKINNY_ROWS ? tf.matMul(xIn, w, false, true) : tf.matMul(xIn, wt),
    gradFunc: (dy: tf.Tensor2D) => tf.matMul(dy, w),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

/** Embedding lookup in a frozen table: nothing saved for backward (the ids get no gradient). */
export function frozenGather(weight: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((idsIn: tf.Tensor) => ({
    value: tf.gather(weight, idsIn),
    gradFunc: () => tf.zerosLike(idsIn),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(ids) as tf.Tensor;
}
