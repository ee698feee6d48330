// recompute: the same value and the same gradients as running the function plainly, through chains of
// recomputed calls, inputs that are intermediates of the surrounding computation, and variables read directly.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { recompute } from './recompute.js';
import { expectNoLeak, testBackends, useBackend } from './testing.js';

describe.each(testBackends())('recompute on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // a residual "block": x + tanh((x·W) ⊙ gate) with W read directly and gate an input
  const block = (W: tf.Variable) => (x: tf.Tensor, gate: tf.Tensor) => tf.add(x, tf.tanh(tf.mul(tf.matMul(x, W), gate)));

  it('gives the plain gradients for variables, read directly or through intermediate inputs', () => {
    const W1 = tf.variable(tf.randomNormal([4, 4], 0, 0.5, 'float32', 1));
    const W2 = tf.variable(tf.randomNormal([4, 4], 0, 0.5, 'float32', 2));
    const V = tf.variable(tf.randomNormal([4], 1, 0.2, 'float32', 3));
    const x0 = tf.randomNormal([3, 4], 0, 1, 'float32', 4);
    const loss = (useRecompute: boolean) => () =>
      tf.tidy(() => {
        const gate = tf.sigmoid(V); // an intermediate: gone by the backward unless kept
        const h0 = tf.mul(x0, 2);
        const run = (W: tf.Variable, x: tf.Tensor) => (useRecompute ? recompute(block(W), [x, gate], [W]) : block(W)(x, gate));
        const h2 = run(W2, run(W1, h0));
        return tf.sum(tf.square(h2)) as tf.Scalar;
      });
    const vars = [W1, W2, V];
    const plain = tf.variableGrads(loss(false), vars);
    const before = tf.memory().numTensors;
    const re = tf.variableGrads(loss(true), vars);
    expect(tf.memory().numTensors).toBe(before + 4); // value + 3 gradients: nothing else left behind
    expect(Math.abs((re.value.dataSync()[0] as number) - (plain.value.dataSync()[0] as number))).toBeLessThan(1e-5);
    for (const v of vars) {
      const a = plain.grads[v.name]!.dataSync();
      const b = re.grads[v.name]!.dataSync();
      let worst = 0;
      a.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - (b[i] as number)))));
      expect(worst).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(a).map(Math.abs))).toBeGreaterThan(1e-3);
    }
    tf.dispose([plain.value, re.value, ...Object.values(plain.grads), ...Object.values(re.grads), W1, W2, V, x0]);
  });

  it('without a tape is the function itself, and leaks nothing either way', () => {
    const W = tf.variable(tf.randomNormal([4, 4], 0, 0.5, 'float32', 5));
    const x = tf.randomNormal([2, 4], 0, 1, 'float32', 6);
    const gate = tf.ones([1, 4]);
    expectNoLeak(() => tf.tidy(() => void recompute(block(W), [x, gate], [W]).dataSync()));
    const a = tf.tidy(() => recompute(block(W), [x, gate], [W]));
    const b = tf.tidy(() => block(W)(x, gate));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(recompute(block(W), [x, gate], [W])) as tf.Scalar, [W]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([a, b, W, x, gate]);
  });
});
