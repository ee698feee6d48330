import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, expectNoLeakSync, useCpuBackend } from './__fixtures__/gradcheck.js';
import { DistillInputError } from './errors.js';
import { distillKl } from './kl.js';

beforeAll(useCpuBackend);

/** float64 reference: T² · mean over scored tokens of Σ p_t (log p_t − log p_s), p = softmax(z / T). */
function referenceKl(student: number[][][], teacher: number[][][], labels: number[][], T: number): number {
  const logSoftmax = (row: number[]): number[] => {
    const z = row.map((v) => v / T);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    return z.map((v) => v - lse);
  };
  let sum = 0;
  let n = 0;
  student.forEach((seq, b) =>
    seq.forEach((row, t) => {
      if (labels[b]?.[t] === -100) return;
      const ls = logSoftmax(row);
      const lt = logSoftmax(teacher[b]?.[t] as number[]);
      sum += lt.reduce((s, v, i) => s + Math.exp(v) * (v - (ls[i] as number)), 0);
      n++;
    }),
  );
  return n === 0 ? 0 : (T * T * sum) / n;
}

const run = (s: number[][][], t: number[][][], l: number[][], T: number): number =>
  tf.tidy(() => distillKl(tf.tensor3d(s), tf.tensor3d(t), tf.tensor2d(l, undefined, 'int32'), { temperature: T }).dataSync()[0] as number);

describe('distillKl', () => {
  it('matches hand-computed values, including the T² factor', () => {
    // teacher p = (1/2, 1/2), student q = (1/4, 3/4): KL = ½ln2 + ½ln(2/3) = 0.1438410362
    const kl1 = 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3);
    expect(kl1).toBeCloseTo(0.1438410362, 9);
    expect(run([[[0, Math.log(3)]]], [[[0, 0]]], [[1]], 1)).toBeCloseTo(kl1, 5);
    // at T = 2, student logits (0, 2 ln 3) give the same q; the loss is multiplied by T² = 4
    expect(run([[[0, 2 * Math.log(3)]]], [[[0, 0]]], [[1]], 2)).toBeCloseTo(4 * kl1, 5);
  });

  const student = [
    [
      [1, 2, 3, 0],
      [0, 0, 0, 1],
      [5, -5, 0, 2],
    ],
    [
      [0.5, -1, 2, 0],
      [3, 3, -2, 1],
      [1, 1, 1, 1],
    ],
  ];
  const teacher = [
    [
      [0, 1, 4, -1],
      [2, 0, 1, 1],
      [0, 0, 0, 0],
    ],
    [
      [1, 1, 1, 0],
      [-3, 3, 2, 1],
      [9, 1, 1, 1],
    ],
  ];
  const labels = [
    [2, 0, -100],
    [1, 3, -100],
  ];

  it('is the mean over non-padding tokens and ignores logits at padding', () => {
    for (const T of [1, 2, 4.5]) expect(run(student, teacher, labels, T)).toBeCloseTo(referenceKl(student, teacher, labels, T), 5);
    const padChanged = teacher.map((s, b) => s.map((r, t) => (labels[b]?.[t] === -100 ? r.map((v) => -v * 3) : r)));
    expect(run(student, padChanged, labels, 2)).toBeCloseTo(run(student, teacher, labels, 2), 6);
  });

  it('is zero for identical distributions and positive otherwise (never the student against itself)', () => {
    expect(run(student, student, labels, 2)).toBeCloseTo(0, 6);
    expect(run(student, teacher, labels, 2)).toBeGreaterThan(0.1);
  });

  it('accepts an explicit mask instead of labels', () => {
    const mask = labels.map((r) => r.map((y) => (y === -100 ? 0 : 1)));
    const v = tf.tidy(() => distillKl(tf.tensor3d(student), tf.tensor3d(teacher), null, { temperature: 2, mask: tf.tensor2d(mask) }).dataSync()[0]);
    expect(v).toBeCloseTo(referenceKl(student, teacher, labels, 2), 5);
  });

  it('has finite-difference gradients w.r.t. the student logits and none w.r.t. anything else', () => {
    const s = tf.tensor3d(student);
    const t = tf.tensor3d(teacher);
    const l = tf.tensor2d(labels, undefined, 'int32');
    expectNoLeakSync(() => checkGradients((x) => distillKl(x as tf.Tensor, t, l, { temperature: 2 }), [s]));
    tf.dispose([s, t, l]);
  });

  it('rejects mismatched teacher logits, a bad temperature and a missing mask', () => {
    tf.engine().startScope();
    expect(() => distillKl(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 5]), tf.zeros([1, 2], 'int32'))).toThrow(/teacherLogits: expected the shape of studentLogits/);
    expect(() => distillKl(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]), tf.zeros([1, 2], 'int32'), { temperature: 0 })).toThrow(DistillInputError);
    expect(() => distillKl(tf.zeros([1, 2, 4]), tf.zeros([1, 2, 4]), null)).toThrow(/labels/);
    tf.engine().endScope();
  });
});
