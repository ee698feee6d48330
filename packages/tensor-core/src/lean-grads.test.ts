// leanVariableGrads: the value and gradients of tf.variableGrads (same tape, same gradient functions), with
// less alive at the end of the backward, and nothing left behind.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { leanVariableGrads } from './lean-grads.js';
import { recompute } from './recompute.js';
import { expectNoLeak, testBackends, useBackend } from './testing.js';

describe.each(testBackends())('leanVariableGrads on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // a small residual network with a shared weight (used twice), an unused variable and a recomputed block
  const setup = () => {
    const W = tf.variable(tf.randomNormal([6, 6], 0, 0.4, 'float32', 1));
    const U = tf.variable(tf.randomNormal([6, 3], 0, 0.4, 'float32', 2));
    const unused = tf.variable(tf.zeros([2]));
    const x = tf.randomNormal([5, 6], 0, 1, 'float32', 3);
    const f = () =>
      tf.tidy(() => {
        let h: tf.Tensor = x;
        for (let i = 0; i < 2; i++) h = tf.add(h, tf.tanh(tf.matMul(h, W)));
        h = recompute((a: tf.Tensor) => tf.add(a, tf.sigmoid(tf.matMul(a, W))), [h], [W]);
        const logits = tf.matMul(h, U);
        return tf.mean(tf.sum(tf.square(tf.softmax(logits)), 1)) as tf.Scalar;
      });
    return { vars: [W, U, unused], f, dispose: () => tf.dispose([W, U, unused, x]) };
  };

  it('equals tf.variableGrads', () => {
    const s = setup();
    const a = tf.variableGrads(s.f, s.vars);
    const b = leanVariableGrads(s.f, s.vars);
    expect(Object.keys(b.grads).sort()).toEqual(Object.keys(a.grads).sort()); // the unused variable is absent from both
    expect(b.value.dataSync()[0]).toBe(a.value.dataSync()[0]);
    for (const k of Object.keys(a.grads)) expect(Array.from(b.grads[k]!.dataSync())).toEqual(Array.from(a.grads[k]!.dataSync()));
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
    s.dispose();
  });

  it('leaks nothing, and defers to tf.variableGrads inside another gradient computation', () => {
    const s = setup();
    expectNoLeak(() => {
      const r = leanVariableGrads(s.f, s.vars);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    });
    // second order: d/dW of the sum of the inner gradient of W
    const W = s.vars[0] as tf.Variable;
    const outer = tf.variableGrads(() => tf.sum(leanVariableGrads(s.f, [W]).grads[W.name] as tf.Tensor) as tf.Scalar, [W]);
    expect(Number.isFinite(outer.value.dataSync()[0])).toBe(true);
    tf.dispose([outer.value, ...Object.values(outer.grads)]);
    s.dispose();
  });
});
