// fastMatMul against tf.matMul (values, gradients, finite differences) for every transpose combination, for
// 2-D products and batched ones on both sides of the size at which tfjs-node switches TensorFlow ops.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastMatMul } from './native-product.js';
import { Rng } from './rng.js';
import { checkGradients, expectClose, expectNoLeak, testBackends, useBackend } from './testing.js';

const randn = (rng: Rng, shape: number[]) => tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);

describe.each(testBackends())('fastMatMul on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // [batch axes, m, k, n]: 2-D; batched below and above 2^20 multiply-adds
  const cases: [number[], number, number, number][] = [
    [[], 5, 7, 3],
    [[4, 3], 2, 16, 5],
    [[6], 64, 48, 128],
  ];
  it.each(cases)("batch %j, [%i, %i]·[%i, %i]: values and gradients equal tf.matMul's, all transpose flags", (lead, m, k, n) => {
    const rng = new Rng(m * 31 + n);
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randn(rng, [...lead, ...(tA ? [k, m] : [m, k])]);
        const b = randn(rng, [...lead, ...(tB ? [n, k] : [k, n])]);
        const w = randn(rng, [...lead, m, n]);
        expectNoLeak(() =>
          tf.tidy(() => {
            expectClose(fastMatMul(a, b, tA, tB), tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB), { atol: 1e-4, rtol: 1e-5 });
            const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(fastMatMul(x, y, tA, tB), w)))([a, b]);
            const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, tA, tB), w)))([a, b]);
            ours.forEach((g, i) => expectClose(g, ref[i] as tf.Tensor, { atol: 1e-4, rtol: 1e-5 }));
          }),
        );
        tf.dispose([a, b, w]);
      }
    }
  });

  it('gradients agree with finite differences (a small product, transposed operands)', () => {
    const rng = new Rng(3);
    const a = randn(rng, [2, 4, 3]);
    const b = randn(rng, [2, 5, 4]);
    expectNoLeak(() => checkGradients((x, y) => fastMatMul(x as tf.Tensor, y as tf.Tensor, true, true), [a, b]));
    tf.dispose([a, b]);
  });

  it('falls back to tf.matMul for broadcast batch axes', () => {
    tf.tidy(() => {
      const y = fastMatMul(tf.ones([2, 3, 4]), tf.ones([1, 4, 5]));
      expect(y.shape).toEqual([2, 3, 5]);
      expectClose(y, tf.fill([2, 3, 5], 4));
    });
  });
});
