import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, expectNoLeakSync, useCpuBackend } from './__fixtures__/gradcheck.js';
import { parameterAlignmentLoss } from './alignment.js';
import { DistillInputError } from './errors.js';
import type { LowRankDelta } from './types.js';

beforeAll(useCpuBackend);

const Q = 'encoder.block.0.layer.0.SelfAttention.q';
const V = 'decoder.block.0.layer.1.EncDecAttention.v';

/** Deterministic pseudo-random values (no Math.random in tests). */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}
const rand = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
const delta = (A: tf.Tensor, B: tf.Tensor, scaling: number): LowRankDelta => ({ A, B, scaling });
const num = (t: tf.Scalar): number => {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
};

describe('parameterAlignmentLoss', () => {
  it('matches hand-computed values in both modes', () => {
    tf.engine().startScope();
    // generated: r = 1, A = [1, 0], B = [1, 0]ᵀ, s = 1 → ΔW = [[1, 0], [0, 0]]; teacher: zero factors
    const g = new Map([[Q, delta(tf.tensor2d([[1, 0]]), tf.tensor2d([[1], [0]]), 1)]]);
    const t = new Map([[Q, delta(tf.tensor2d([[0, 0]]), tf.tensor2d([[0], [0]]), 1)]]);
    expect(num(parameterAlignmentLoss(g, t, { mode: 'delta' }))).toBeCloseTo(1 / 4, 6); // one of 4 entries is 1
    expect(num(parameterAlignmentLoss(g, t, { mode: 'delta', deltaMethod: 'dense' }))).toBeCloseTo(1 / 4, 6);
    expect(num(parameterAlignmentLoss(g, t, { mode: 'factors' }))).toBeCloseTo(1 / 2 + 1 / 2, 6); // MSE(A) + MSE(B)
    // the scaling is part of ΔW and of the compared B: s = 3 → ΔW entry 3 → 9/4; factors: ½ + 9/2
    const g3 = new Map([[Q, delta(tf.tensor2d([[1, 0]]), tf.tensor2d([[1], [0]]), 3)]]);
    expect(num(parameterAlignmentLoss(g3, t, { mode: 'delta' }))).toBeCloseTo(9 / 4, 5);
    expect(num(parameterAlignmentLoss(g3, t, { mode: 'factors' }))).toBeCloseTo(1 / 2 + 9 / 2, 5);
    tf.engine().endScope();
  });

  it('pairs A with A and B with B on a non-square module (the released TAGI code swapped them)', () => {
    tf.engine().startScope();
    // in 3, out 5, r 2: a swapped pairing would not even have matching shapes
    const tA = rand([2, 3], 1);
    const tB = rand([5, 2], 2);
    const same = new Map([[Q, delta(tA, tB, 2)]]);
    expect(num(parameterAlignmentLoss(same, new Map([[Q, delta(tA.clone(), tB.clone(), 2)]]), { mode: 'factors' }))).toBeCloseTo(0, 7);
    const gA = rand([2, 3], 3);
    const mseA = tf.tidy(() => tf.mean(tf.squaredDifference(gA, tA)).dataSync()[0] as number);
    const got = num(parameterAlignmentLoss(new Map([[Q, delta(gA, tB, 2)]]), same, { mode: 'factors' }));
    expect(got).toBeCloseTo(mseA, 6);
    tf.engine().endScope();
  });

  it('in delta mode is invariant to the factorisation and to the rank', () => {
    tf.engine().startScope();
    const A = rand([2, 6], 4);
    const B = rand([4, 2], 5);
    const teacher = new Map([[Q, delta(A, B, 2)]]);
    // B·R, R⁻¹·A with R = [[2, 1], [0, 0.5]] (R⁻¹ = [[0.5, −1], [0, 2]]) gives the same ΔW
    const R = tf.tensor2d([
      [2, 1],
      [0, 0.5],
    ]);
    const Rinv = tf.tensor2d([
      [0.5, -1],
      [0, 2],
    ]);
    const refact = new Map([[Q, delta(tf.matMul(Rinv, A), tf.matMul(B, R), 2)]]);
    expect(num(parameterAlignmentLoss(refact, teacher))).toBeCloseTo(0, 5);
    // rank 4 with two zero components and a different alpha/r: same ΔW (scaling 1 vs 2 → B doubled)
    const A4 = tf.concat([A, tf.zeros([2, 6])], 0);
    const B4 = tf.concat([tf.mul(B, 2), rand([4, 2], 6)], 1);
    const rank4 = new Map([[Q, delta(A4, B4, 1)]]);
    expect(num(parameterAlignmentLoss(rank4, teacher))).toBeCloseTo(0, 5);
    expect(() => parameterAlignmentLoss(rank4, teacher, { mode: 'factors' })).toThrow(/factors mode needs equal ranks/);
    tf.engine().endScope();
  });

  it('gram and dense agree, per module and averaged over modules, shared and per example', () => {
    tf.engine().startScope();
    const g = new Map([
      [Q, delta(rand([3, 8], 7), rand([8, 3], 8), 0.5)],
      [V, delta(rand([4, 3, 8], 9), rand([4, 5, 3], 10), 2)], // per example, batch 4
    ]);
    const t = new Map([
      [Q, delta(rand([2, 8], 11), rand([8, 2], 12), 4)],
      [V, delta(rand([2, 8], 13), rand([5, 2], 14), 1)], // shared teacher broadcast over the batch
    ]);
    const gram = num(parameterAlignmentLoss(g, t));
    const dense = num(parameterAlignmentLoss(g, t, { deltaMethod: 'dense' }));
    expect(gram).toBeCloseTo(dense, 5);
    // explicit: mean over modules, per-example module = mean over the batch
    const manual = tf.tidy(() => {
      const dq = tf.mean(tf.squaredDifference(tf.mul(tf.matMul(g.get(Q)!.B, g.get(Q)!.A), 0.5), tf.mul(tf.matMul(t.get(Q)!.B, t.get(Q)!.A), 4)));
      const tv = tf.matMul(t.get(V)!.B, t.get(V)!.A);
      const per = [0, 1, 2, 3].map((b) =>
        tf.mean(
          tf.squaredDifference(
            tf.mul(tf.matMul(tf.squeeze(tf.slice(g.get(V)!.B, [b, 0, 0], [1, 5, 3]), [0]), tf.squeeze(tf.slice(g.get(V)!.A, [b, 0, 0], [1, 3, 8]), [0])), 2),
            tv,
          ),
        ),
      );
      return (dq.dataSync()[0] as number) / 2 + (tf.mean(tf.stack(per)).dataSync()[0] as number) / 2;
    });
    expect(gram).toBeCloseTo(manual, 5);
    tf.engine().endScope();
  });

  it('has finite-difference gradients w.r.t. the generated factors in both modes', () => {
    const tA = rand([2, 3], 21);
    const tB = rand([4, 2], 22);
    const gA = rand([2, 3], 23);
    const gB = rand([4, 2], 24);
    for (const mode of ['delta', 'factors'] as const) {
      expectNoLeakSync(() =>
        checkGradients(
          (a, b) => parameterAlignmentLoss(new Map([[Q, delta(a as tf.Tensor, b as tf.Tensor, 1.5)]]), new Map([[Q, delta(tA, tB, 2)]]), { mode }),
          [gA, gB],
        ),
      );
    }
    tf.dispose([tA, tB, gA, gB]);
  });

  it('names missing modules and mismatched shapes', () => {
    tf.engine().startScope();
    const t = new Map([
      [Q, delta(rand([2, 3], 1), rand([4, 2], 2), 1)],
      [V, delta(rand([2, 3], 3), rand([4, 2], 4), 1)],
    ]);
    const onlyQ = new Map([[Q, delta(rand([2, 3], 5), rand([4, 2], 6), 1)]]);
    expect(() => parameterAlignmentLoss(onlyQ, t)).toThrow(new RegExp(`missing: ${V.replace(/\./g, '\\.')}`));
    const wrongOut = new Map([
      [Q, delta(rand([2, 3], 5), rand([5, 2], 6), 1)],
      [V, delta(rand([2, 3], 3), rand([4, 2], 4), 1)],
    ]);
    expect(() => parameterAlignmentLoss(wrongOut, t)).toThrow(DistillInputError);
    const badB = new Map([
      [Q, delta(rand([2, 3], 5), rand([4, 3], 6), 1)],
      [V, delta(rand([2, 3], 3), rand([4, 2], 4), 1)],
    ]);
    expect(() => parameterAlignmentLoss(badB, t)).toThrow(/generated\['encoder.block.0.layer.0.SelfAttention.q'\].B/);
    tf.engine().endScope();
  });
});
