// The cross-entropy carries its own gradient (softmax − onehot): checked against central finite differences
// on every backend, with ignored (-100) positions, and its value against the per-token log-likelihoods.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, expectNoLeak, testBackends, useBackend, int2d } from '@tagi/tensor-core/testing';
import { crossEntropy, labelLogProbs } from './loss.js';

describe.each(testBackends())('crossEntropy on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  const labels = () =>
    int2d([
      [1, 2, -100],
      [0, 6, 3],
    ]);

  it('value: mean of −log p(label) over labels ≠ -100', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        const logits = tf.randomNormal([2, 3, 7], 0, 2, 'float32', 4) as tf.Tensor3D;
        const { logp, mask } = labelLogProbs(logits, labels());
        const want = -tf.sum(logp).dataSync()[0]! / tf.sum(mask).dataSync()[0]!;
        expect(tf.sum(mask).dataSync()[0]).toBe(5);
        expect(crossEntropy(logits, labels()).dataSync()[0]).toBeCloseTo(want, 5);
      }),
    );
  });

  it('gradient equals finite differences (ignored positions get exactly 0)', () => {
    const logits = tf.randomNormal([2, 3, 7], 0, 2, 'float32', 5);
    const l = labels();
    const res = checkGradients((x) => crossEntropy(x as tf.Tensor3D, l), [logits], { eps: 1e-2, atol: 2e-4, rtol: 1e-2 });
    expect(res.checked).toBe(42);
    const g = tf.grad((x: tf.Tensor) => crossEntropy(x as tf.Tensor3D, l))(logits);
    const row = Array.from(g.arraySync() as number[][][])[0]![2]!; // [batch 0, position 2] has label -100
    expect(row.every((v) => v === 0)).toBe(true);
    tf.dispose([logits, l, g]);
  });

  it('a scaled upstream gradient scales the result (dy is used, not assumed 1)', () => {
    tf.tidy(() => {
      const logits = tf.randomNormal([2, 3, 7], 0, 1, 'float32', 6);
      const l = labels();
      const g1 = tf.grad((x: tf.Tensor) => crossEntropy(x as tf.Tensor3D, l))(logits);
      const g3 = tf.grad((x: tf.Tensor) => tf.mul(crossEntropy(x as tf.Tensor3D, l), 3))(logits);
      expect(tf.max(tf.abs(tf.sub(tf.mul(g1, 3), g3))).dataSync()[0]).toBeLessThan(1e-6);
    });
  });
});
