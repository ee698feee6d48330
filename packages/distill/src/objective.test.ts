import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, expectNoLeakSync, useCpuBackend } from './__fixtures__/gradcheck.js';
import { parameterAlignmentLoss } from './alignment.js';
import { maskedCrossEntropy } from './cross-entropy.js';
import { DistillInputError } from './errors.js';
import { distillKl } from './kl.js';
import { readLossTerms, resolveTagiLossConfig, tagiLoss } from './objective.js';

beforeAll(useCpuBackend);

const Q = 'encoder.block.0.layer.0.SelfAttention.q';

describe('tagiLoss', () => {
  const student = [
    [
      [1, 2, 3],
      [0, 0, 0],
      [5, -5, 0],
    ],
  ];
  const teacher = [
    [
      [0, 1, 4],
      [2, 0, 1],
      [1, 1, 1],
    ],
  ];
  const labels = [[2, 0, -100]];

  it('is L_ce + λ1·L_kl + λ2·L_ins and reports every term', () => {
    expectNoLeakSync(() =>
      tf.tidy(() => {
        const s = tf.tensor3d(student);
        const t = tf.tensor3d(teacher);
        const l = tf.tensor2d(labels, undefined, 'int32');
        const gen = new Map([[Q, { A: tf.tensor2d([[1, 0, 2]]), B: tf.tensor2d([[1], [2], [0]]), scaling: 1 }]]);
        const tea = new Map([[Q, { A: tf.tensor2d([[0, 1, 0]]), B: tf.tensor2d([[1], [0], [1]]), scaling: 2 }]]);
        const v = readLossTerms(
          tagiLoss({ studentLogits: s, labels: l, teacherLogits: t, generated: gen, teacherAdapters: tea }, { lambdaKl: 0.7, lambdaIns: 0.3, temperature: 3 }),
        );
        const ce = maskedCrossEntropy(s, l).dataSync()[0] as number;
        const kl = distillKl(s, t, l, { temperature: 3 }).dataSync()[0] as number;
        const ins = parameterAlignmentLoss(gen, tea).dataSync()[0] as number;
        expect(v.ce).toBeCloseTo(ce, 6);
        expect(v.kl).toBeCloseTo(kl, 6);
        expect(v.ins).toBeCloseTo(ins, 6);
        expect(v.loss).toBeCloseTo(ce + 0.7 * kl + 0.3 * ins, 5);
        expect(kl).toBeGreaterThan(0);
        expect(ins).toBeGreaterThan(0);
      }),
    );
  });

  it('skips disabled terms (null), and refuses an enabled term without its inputs', () => {
    tf.engine().startScope();
    const s = tf.tensor3d(student);
    const l = tf.tensor2d(labels, undefined, 'int32');
    const v = readLossTerms(tagiLoss({ studentLogits: s, labels: l }, { lambdaKl: 0 }));
    expect(v.kl).toBeNull();
    expect(v.ins).toBeNull();
    expect(v.loss).toBeCloseTo(v.ce, 7);
    expect(() => tagiLoss({ studentLogits: s, labels: l }, { lambdaKl: 1 })).toThrow(/teacherLogits/);
    expect(() => tagiLoss({ studentLogits: s, labels: l, teacherLogits: s }, { lambdaIns: 1 })).toThrow(/generated/);
    expect(() => resolveTagiLossConfig({ lambdaKl: -1 })).toThrow(DistillInputError);
    expect(() => resolveTagiLossConfig({ alignment: 'AB' as 'delta' })).toThrow(/alignment/);
    tf.engine().endScope();
  });

  it('has finite-difference gradients through all three terms', () => {
    const s = tf.tensor3d(student);
    const t = tf.tensor3d(teacher);
    const l = tf.tensor2d(labels, undefined, 'int32');
    const tA = tf.tensor2d([[0, 1, 0]]);
    const tB = tf.tensor2d([[1], [0], [1]]);
    const gA = tf.tensor2d([[0.3, -0.2, 0.5]]);
    const gB = tf.tensor2d([[0.1], [0.4], [-0.3]]);
    expectNoLeakSync(() =>
      checkGradients(
        (x, a, b) => {
          const terms = tagiLoss(
            {
              studentLogits: x as tf.Tensor,
              labels: l,
              teacherLogits: t,
              generated: new Map([[Q, { A: a as tf.Tensor, B: b as tf.Tensor, scaling: 1 }]]),
              teacherAdapters: new Map([[Q, { A: tA, B: tB, scaling: 1 }]]),
            },
            { lambdaKl: 0.5, lambdaIns: 2 },
          );
          terms.ce.dispose();
          terms.kl?.dispose();
          terms.ins?.dispose();
          return terms.loss;
        },
        [s, gA, gB],
      ),
    );
    tf.dispose([s, t, l, tA, tB, gA, gB]);
  });
});
