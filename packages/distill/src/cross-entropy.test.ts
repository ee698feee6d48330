import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, expectNoLeakSync, useCpuBackend } from './__fixtures__/gradcheck.js';
import { DistillInputError } from './errors.js';
import { checkLabelIds, maskedCrossEntropy } from './cross-entropy.js';
import { distillKl } from './kl.js';

beforeAll(useCpuBackend);

/** Reference in float64: −log softmax(row)[label], mean over labels ≠ ignore. */
function referenceCe(logits: number[][][], labels: number[][], ignore = -100): number {
  let sum = 0;
  let n = 0;
  logits.forEach((seq, b) =>
    seq.forEach((row, t) => {
      const y = labels[b]?.[t] as number;
      if (y === ignore) return;
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      sum += lse - (row[y] as number);
      n++;
    }),
  );
  return n === 0 ? 0 : sum / n;
}

describe('maskedCrossEntropy', () => {
  const logits = [
    [
      [1, 2, 3],
      [0, 0, 0],
      [5, -5, 0],
    ],
    [
      [0.5, -1, 2],
      [3, 3, -2],
      [1, 1, 1],
    ],
  ];
  const labels = [
    [2, 0, -100],
    [1, -100, -100],
  ];

  it('matches a hand-computed value: mean over the non-ignored tokens only', () => {
    // row (1,2,3)->2: log(e+e²+e³)−3 = 0.4076059644; row (0,0,0)->0: log 3 = 1.0986122887;
    // row (0.5,−1,2)->1: log(e^0.5+e^-1+e^2)+1 = 3.2395152...
    const hand = (0.4076059644 + 1.0986122887 + (Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2)) + 1)) / 3;
    expect(hand).toBeCloseTo(referenceCe(logits, labels), 9);
    const got = expectNoLeakSync(() => tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(labels, undefined, 'int32')).dataSync()[0]));
    expect(got).toBeCloseTo(hand, 5);
  });

  it('ignores whatever the logits hold at ignored positions', () => {
    const changed = logits.map((s, b) => s.map((r, t) => (labels[b]?.[t] === -100 ? r.map((v) => v * 7 - 3) : r)));
    const a = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(labels, undefined, 'int32')).dataSync()[0]);
    const b = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(changed), tf.tensor2d(labels, undefined, 'int32')).dataSync()[0]);
    expect(b).toBeCloseTo(a as number, 6);
  });

  it('gives 0 (not NaN) when every label is ignored, and honours a custom ignoreIndex', () => {
    const v = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.fill([2, 3], -100, 'int32')).dataSync()[0]);
    expect(v).toBe(0);
    const custom = labels.map((r) => r.map((y) => (y === -100 ? 0 : y)));
    const w = tf.tidy(() => maskedCrossEntropy(tf.tensor3d(logits), tf.tensor2d(custom, undefined, 'int32'), { ignoreIndex: 0 }).dataSync()[0]);
    expect(w).toBeCloseTo(referenceCe(logits, custom, 0), 5);
  });

  it('reads nothing back from the device (the loss runs inside the training tape every step)', () => {
    const x = tf.tensor3d(logits);
    const y = tf.tensor2d(labels, undefined, 'int32');
    const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const names = ['data', 'dataSync', 'array', 'arraySync', 'bytes'];
    const orig = names.map((n) => proto[n]);
    let reads = 0;
    names.forEach((n, i) => {
      proto[n] = function (this: unknown, ...a: unknown[]) {
        reads++;
        return (orig[i] as (...a: unknown[]) => unknown).apply(this, a);
      };
    });
    let loss: tf.Scalar | undefined;
    try {
      loss = tf.tidy(() => tf.add(maskedCrossEntropy(x, y), distillKl(x, tf.mul(x, 0.5), y)) as tf.Scalar);
    } finally {
      names.forEach((n, i) => (proto[n] = orig[i] as (...a: unknown[]) => unknown));
    }
    expect(reads).toBe(0);
    tf.dispose([x, y, loss as tf.Scalar]);
  });

  it('has finite-difference gradients', () => {
    const x = tf.tensor3d(logits);
    const y = tf.tensor2d(labels, undefined, 'int32');
    expectNoLeakSync(() => checkGradients((l) => maskedCrossEntropy(l as tf.Tensor, y), [x]));
    tf.dispose([x, y]);
  });

  it.each([
    ['labels of the wrong shape', () => maskedCrossEntropy(tf.zeros([2, 3, 3]), tf.zeros([2, 4], 'int32')), 'labels'],
    ['float labels', () => maskedCrossEntropy(tf.zeros([2, 3, 3]), tf.zeros([2, 3])), 'labels'],
    ['an id outside the vocabulary (checked where ids are made)', () => checkLabelIds([1, -100, 2, 3], 2, 3), 'labels[1, 1]'],
    ['2-D logits', () => maskedCrossEntropy(tf.zeros([2, 3]), tf.zeros([2, 3], 'int32')), 'logits'],
  ])('rejects %s with a DistillInputError naming the argument', (_, fn, argument) => {
    tf.engine().startScope();
    try {
      expect(fn).toThrow(DistillInputError);
      try {
        fn();
      } catch (e) {
        expect((e as DistillInputError).argument).toBe(argument);
      }
    } finally {
      tf.engine().endScope();
    }
  });
});
