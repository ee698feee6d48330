import * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap, LowRankDelta } from './types.js';
import { bmm, matmul } from '@tagi/tensor-core';
import { shapeString } from './checks.js';
import { DistillInputError } from './errors.js';

/**
 * How a generated adapter is compared with a teacher adapter.
 * - `factors`: MSE between A and A, and between scaling·B and scaling·B (requires the same rank; the
 *   scaling is folded into B so adapters that differ only in `alpha` are compared by what they do).
 * - `delta`: MSE between the weight updates ΔW = scaling·B·A. Independent of the factorisation and of
 *   the rank (a rank-8 teacher can supervise a rank-32 generator).
 */
export type AlignmentMode = 'factors' | 'delta';

export interface ParameterAlignmentOptions {
  /** Default `delta` (the only mode that is meaningful when ranks or factorisations differ). */
  readonly mode?: AlignmentMode;
  /**
   * `delta` mode only. `gram` (default) never builds the `[out, in]` matrices: with X = s·B·A,
   * ‖X − Y‖² = ‖X‖² + ‖Y‖² − 2⟨X, Y⟩ and each term is a sum over an elementwise product of two r×r
   * Gram matrices (⟨s·B·A, t·D·C⟩ = s·t·Σ (BᵀD) ⊙ (A·Cᵀ)), cost O(r²·(in + out)).
   * `dense` materialises ΔW (exact to float32 rounding even when X ≈ Y; for tests and small layers).
   */
  readonly deltaMethod?: 'gram' | 'dense';
}

/**
 * Parameter-alignment loss L_ins between a generated adapter and a teacher adapter.
 *
 * Modules: every module of `teacher` must exist in `generated` (missing ones are an error naming them);
 * generated modules that the teacher does not adapt are not aligned. Either side may be shared
 * (`A [r, in]`, `B [out, r]`) or per example (`A [batch, r, in]`, `B [batch, out, r]`); a shared side is
 * broadcast over the other's batch.
 *
 * Reduction: per module the mean squared error over the elements of the compared matrices (`factors`:
 * MSE(A) + MSE(s·B); `delta`: MSE over the `out × in` entries of ΔW, averaged over the batch when per
 * example), then the **mean over modules**.
 *
 * Gradients flow into both sides; pass a teacher whose tensors are not on the tape to keep it fixed.
 *
 * @returns a scalar; the caller owns it
 */
export function parameterAlignmentLoss(generated: DeltaMap, teacher: DeltaMap, opts: ParameterAlignmentOptions = {}): tf.Scalar {
  const mode = opts.mode ?? 'delta';
  if (mode !== 'factors' && mode !== 'delta') throw new DistillInputError('mode', "'factors' or 'delta'", String(mode));
  const method = opts.deltaMethod ?? 'gram';
  if (method !== 'gram' && method !== 'dense') throw new DistillInputError('deltaMethod', "'gram' or 'dense'", String(method));
  if (teacher.size === 0) throw new DistillInputError('teacher', 'at least one adapted module', 'an empty map');
  const missing = [...teacher.keys()].filter((k) => !generated.has(k));
  if (missing.length > 0) {
    throw new DistillInputError('generated', `every teacher module (missing: ${missing.join(', ')})`, `${generated.size} modules`);
  }
  for (const [name, t] of teacher) checkDelta(t, `teacher['${name}']`);
  for (const name of teacher.keys()) checkDelta(generated.get(name) as LowRankDelta, `generated['${name}']`);
  return tf.tidy(() => {
    const perModule: tf.Scalar[] = [];
    for (const [name, t] of teacher) {
      const g = generated.get(name) as LowRankDelta;
      perModule.push(mode === 'factors' ? factorMse(g, t, name) : method === 'gram' ? deltaMseGram(g, t, name) : deltaMseDense(g, t, name));
    }
    return tf.div(tf.addN(perModule), tf.scalar(perModule.length)) as tf.Scalar;
  });
}

/** Shapes of one delta: `[batch | null, out, r, in]`. */
function checkDelta(d: LowRankDelta, where: string): { batch: number | null; out: number; r: number; inF: number } {
  const { A, B, scaling } = d;
  if (!Number.isFinite(scaling)) throw new DistillInputError(`${where}.scaling`, 'a finite number', String(scaling));
  if (A.rank !== B.rank || (A.rank !== 2 && A.rank !== 3)) {
    throw new DistillInputError(
      `${where}.A`,
      'A [r, in] with B [out, r], or A [batch, r, in] with B [batch, out, r]',
      `A ${shapeString(A.shape)}, B ${shapeString(B.shape)}`,
    );
  }
  const batch = A.rank === 3 ? (A.shape[0] as number) : null;
  const [r, inF] = A.shape.slice(-2) as [number, number];
  const [out, rB] = B.shape.slice(-2) as [number, number];
  if (rB !== r || (batch !== null && B.shape[0] !== batch)) {
    throw new DistillInputError(`${where}.B`, `[${batch !== null ? `${batch}, ` : ''}out, ${r}] to match A ${shapeString(A.shape)}`, shapeString(B.shape));
  }
  return { batch, out, r, inF };
}

function batchOf(g: LowRankDelta, t: LowRankDelta, name: string): number | null {
  const bg = g.A.rank === 3 ? (g.A.shape[0] as number) : null;
  const bt = t.A.rank === 3 ? (t.A.shape[0] as number) : null;
  if (bg !== null && bt !== null && bg !== bt) {
    throw new DistillInputError(`generated['${name}'].A`, `batch ${bt} like the teacher`, `batch ${bg}`);
  }
  return bg ?? bt;
}

function factorMse(g: LowRankDelta, t: LowRankDelta, name: string): tf.Scalar {
  batchOf(g, t, name);
  const ga = g.A.shape.slice(-2);
  const ta = t.A.shape.slice(-2);
  const gb = g.B.shape.slice(-2);
  const tb = t.B.shape.slice(-2);
  if (ga[0] !== ta[0] || ga[1] !== ta[1]) {
    throw new DistillInputError(
      `generated['${name}'].A`,
      `[r, in] = ${shapeString(ta)} like teacher A (factors mode needs equal ranks; use mode 'delta' otherwise)`,
      shapeString(ga),
    );
  }
  if (gb[0] !== tb[0] || gb[1] !== tb[1]) {
    throw new DistillInputError(`generated['${name}'].B`, `[out, r] = ${shapeString(tb)} like teacher B`, shapeString(gb));
  }
  // A pairs with A and B with B: the released TAGI code paired generated A with the teacher's lora_B
  // (shapes agree only for square q/v projections); this function never mixes them.
  const mseA = tf.mean(tf.squaredDifference(g.A, t.A));
  const mseB = tf.mean(tf.squaredDifference(tf.mul(g.B, g.scaling), tf.mul(t.B, t.scaling)));
  return tf.add(mseA, mseB) as tf.Scalar;
}

function checkOuterShapes(g: LowRankDelta, t: LowRankDelta, name: string): { out: number; inF: number } {
  const gi = g.A.shape[g.A.rank - 1] as number;
  const ti = t.A.shape[t.A.rank - 1] as number;
  const go = g.B.shape[g.B.rank - 2] as number;
  const to = t.B.shape[t.B.rank - 2] as number;
  if (gi !== ti || go !== to) {
    throw new DistillInputError(`generated['${name}']`, `ΔW of shape [out, in] = [${to}, ${ti}] like the teacher`, `[${go}, ${gi}]`);
  }
  return { out: to, inF: ti };
}

/** Expands a shared factor to `[batch, ...]` so both sides have the same rank. */
function toBatch(x: tf.Tensor, batch: number | null): tf.Tensor {
  if (batch === null || x.rank === 3) return x;
  return tf.tile(tf.expandDims(x, 0), [batch, 1, 1]); // [batch, ., .]
}

/** Σ (BᵀD) ⊙ (A·Cᵀ) = ⟨B·A, D·C⟩ (Frobenius), per example when batched: returns [] or [batch]. */
function lowRankInner(A: tf.Tensor, B: tf.Tensor, C: tf.Tensor, D: tf.Tensor): tf.Tensor {
  // tensor-core's products keep wasm on its fast plain 2-D kernel (explicit transposes, custom gradients)
  const btd = B.rank === 2 ? matmul(B, D, true, false) : bmm(B, D, true, false); // [.., rX, rY]
  const act = A.rank === 2 ? matmul(A, C, false, true) : bmm(A, C, false, true); // [.., rX, rY]
  return tf.sum(tf.mul(btd, act), [-2, -1]);
}

function deltaMseGram(g: LowRankDelta, t: LowRankDelta, name: string): tf.Scalar {
  const batch = batchOf(g, t, name);
  const { out, inF } = checkOuterShapes(g, t, name);
  const gA = toBatch(g.A, batch);
  const gB = toBatch(g.B, batch);
  const tA = toBatch(t.A, batch);
  const tB = toBatch(t.B, batch);
  const gg = tf.mul(lowRankInner(gA, gB, gA, gB), g.scaling * g.scaling);
  const tt = tf.mul(lowRankInner(tA, tB, tA, tB), t.scaling * t.scaling);
  const gt = tf.mul(lowRankInner(gA, gB, tA, tB), 2 * g.scaling * t.scaling);
  const sq = tf.sub(tf.add(gg, tt), gt); // [] or [batch]: ‖ΔW_g − ΔW_t‖²
  return tf.div(tf.mean(sq), tf.scalar(out * inF)) as tf.Scalar;
}

function deltaMseDense(g: LowRankDelta, t: LowRankDelta, name: string): tf.Scalar {
  const batch = batchOf(g, t, name);
  checkOuterShapes(g, t, name);
  const dg = tf.mul(tf.matMul(toBatch(g.B, batch), toBatch(g.A, batch)), g.scaling); // [.., out, in]
  const dt = tf.mul(tf.matMul(toBatch(t.B, batch), toBatch(t.A, batch)), t.scaling); // [.., out, in]
  return tf.mean(tf.squaredDifference(dg, dt)) as tf.Scalar;
}
