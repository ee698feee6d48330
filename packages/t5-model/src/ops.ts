// Shape adapters over tensor-core's fast products (plain 2-D matMul with explicit-transpose gradients
// on wasm), so the model's attention stays on the fast path.
import * as tf from '@tensorflow/tfjs-core';
import { bmm as bmm3, fastMatMul, linear } from '@tagi/tensor-core';

/** x [n, in] · weightᵀ, weight [out, in] → [n, out]. */
export function linear2d(x: tf.Tensor, weight: tf.Tensor): tf.Tensor2D {
  return linear(x, weight) as tf.Tensor2D;
}

// On tfjs-node every reshape is a TensorFlow op (with a shape tensor uploaded), about as costly as a small
// product, while its BatchMatMulV2 takes any rank and broadcasts a 2-D weight. A decoding step made of
// one-token products is dominated by such per-op costs there (measured: 289 of a step's 829 kernels
// were reshapes), so on `tensorflow` products run on the tensors as they are.
export function onTensorflow(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** Whether a gradient tape is recording (inside tf.grad/variableGrads). Without one, no weight needs a gradient. */
export function recording(): boolean {
  return tf.engine().isTapeOn();
}

/** Batched product over leading axes: a [..., m, k] · b [..., k, n] (transposes as flagged) → [..., m, n]. */
export function bmm(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  // any rank on tensorflow (equal batch axes, no broadcasting here), with its fastest product op for the size
  if (onTensorflow()) return fastMatMul(a, b, transposeA, transposeB);
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

/**
 * x [n, in] · Wᵀ for a frozen W with its cached Wᵀ: the gradient flows to x only (dx = dy·W, a plain
 * product) and nothing weight-sized is saved for the backward pass. The cached Wᵀ wins for every row count
 * on wasm, decoding steps included (measured, 40 weights [1024, 512] cycled so none stays in cache: 8 rows
 * 0.46 ms per product on Wᵀ vs 3.4 ms with the transposed-operand flag; 1 row 0.17 vs 0.80 ms).
 */
export function frozenLinear2d(x: tf.Tensor2D, w: tf.Tensor, wt: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((xIn: tf.Tensor2D) => ({
    value: tf.matMul(xIn, wt),
    gradFunc: (dy: tf.Tensor2D) => tf.matMul(dy, w),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

/**
 * x [..., in] · Wᵀ, W [out, in], when W itself needs no gradient (frozen, or no tape recording): the
 * fastest product each backend has. `tensorflow`: one broadcasting BatchMatMul, no reshapes (its built-in
 * gradient gives dx = dy·W; W's is never requested). Elsewhere: the frozen 2-D path on the cached Wᵀ, or
 * tensor-core's linear.
 */
export function constLinear(x: tf.Tensor, w: tf.Variable): tf.Tensor {
  const [out, inF] = w.shape as [number, number];
  // tfjs-node: a 2-D x, or one position per row (a decoding step, [batch, 1, in]), goes straight to BatchMatMul;
  // longer sequences are flattened first, because a broadcast product over [8, 64, 512] ran 2× slower
  // (CPU time) than the same rows as one [512, 512] product
  if (onTensorflow() && x.rank === 2) return fastMatMul(x, w, false, true); // [n, out]
  if (onTensorflow() && x.shape[x.rank - 2] === 1) return tf.matMul(x as tf.Tensor3D, w as unknown as tf.Tensor3D, false, true); // [..., 1, out] (a broadcast weight)
  const wt = onTensorflow() ? undefined : frozenTranspose(w);
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, inF]) as tf.Tensor2D; // [n, in]
    const y2 = onTensorflow() ? fastMatMul(x2, w, false, true) : wt ? frozenLinear2d(x2, w, wt) : linear(x2, w); // [n, out]
    return tf.reshape(y2, [...x.shape.slice(0, -1), out]); // [..., out]
  });
}

/** Embedding lookup in a frozen table: nothing saved for backward (the ids get no gradient). */
export function frozenGather(weight: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const f = tf.customGrad(((idsIn: tf.Tensor) => ({
    value: tf.gather(weight, idsIn),
    gradFunc: () => tf.zerosLike(idsIn),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(ids) as tf.Tensor;
}

// ---------------------------------------------------------------------------------------------
// A shared low-rank delta merged into its frozen weight. x·(W + s·B·A)ᵀ is one product where x·Wᵀ + s·(x·Aᵀ)·Bᵀ
// is three, an activation-sized add, and in the backward pass four thin products and another add; what merging
// costs is the weight-sized work (B·A) and, under a tape, dΔW = dyᵀ·x (n·in·out multiply-adds), from which the
// factors' gradients are weight-sized products. Worth it when that is cheaper: in the tiny T5 (64 × 64, r 16)
// always; in t5-small (512 × 512, r 8) never.

/** Multiply-adds that one activation-sized elementwise pass costs on tfjs-node (measured: ≈0.38 ns per element
 *  for a product of two [2496, 128] tensors against ≈0.025 ns per multiply-add of a [2496, 64]·[64, 64] product). */
const ELEMENTWISE_MACS = 16;

/** Whether `x [n, in]`·(W + s·B·A)ᵀ beats the separate low-rank product for W [out, in] and a rank-r delta. */
export function mergeDeltaIsCheaper(n: number, inF: number, outF: number, r: number, withGradients: boolean): boolean {
  const merged = (withGradients ? 3 : 1) * r * inF * outF + (withGradients ? n * inF * outF : 0);
  const separate = (withGradients ? 3 : 1) * n * r * (inF + outF) + (withGradients ? 2 : 1) * ELEMENTWISE_MACS * n * outF;
  return merged < separate;
}

/** x [n, in] · (W + scaling·B·A)ᵀ for a frozen W [out, in] and shared factors A [r, in], B [out, r] (gradients reach A and B). */
export function mergedDeltaLinear(x: tf.Tensor, w: tf.Tensor, A: tf.Tensor, B: tf.Tensor, scaling: number): tf.Tensor {
  return tf.tidy(() => {
    const delta = fastMatMul(scaling === 1 ? B : tf.mul(B, scaling), A); // [out, in]
    return fastMatMul(x, tf.add(w, delta), false, true); // [n, out]
  });
}
