import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import './gradients.js';
import { checkGradients, expectClose, expectNoLeak, testBackends, useBackend } from './testing.js';

describe('testing helpers', () => {
  beforeAll(() => useBackend('cpu'));
  const saved = process.env['TAGI_TEST_BACKENDS'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TAGI_TEST_BACKENDS'];
    else process.env['TAGI_TEST_BACKENDS'] = saved;
  });

  it('expectClose passes within atol + rtol·|expected| and reports the worst element otherwise', () => {
    tf.tidy(() => {
      expect(Math.abs(expectClose(tf.tensor1d([1, 2.00001]), [1, 2], { atol: 2e-5 }) - 1e-5)).toBeLessThan(1e-7); // float32 rounding of 2.00001
      expectClose([100.5], [100], { atol: 0, rtol: 0.01 });
      expectClose([Number.NaN, Infinity], [Number.NaN, Infinity]);
      expect(() => expectClose(tf.tensor1d([1, 2.5, 3]), [1, 2, 3], { atol: 0.1, rtol: 0 })).toThrow(/index 1: got 2\.5, expected 2/);
      expect(() => expectClose(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(/shape \[2, 3\] differs from expected \[3, 2\]/);
      expect(() => expectClose([1, 2], [1])).toThrow(/2 values, expected 1/);
      expect(() => expectClose([Number.NaN], [0])).toThrow(/got NaN, expected 0/);
      expect(() => expectClose([Infinity], [1e30])).toThrow(/index 0/);
    });
  });

  it('checkGradients accepts a correct gradient and catches a wrong one', () => {
    const x = tf.tensor1d([0.3, -1.2, 2]);
    expectNoLeak(() => {
      const r = checkGradients((t) => tf.mul(tf.sin(t), tf.square(t)), [x]);
      expect(r.checked).toBe(3);
      expect(r.maxAbsError).toBeLessThan(1e-2);
      const wrong = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
        save([t]);
        return { value: tf.square(t), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(s as tf.Tensor, 2.1)) };
      }) as unknown as Parameters<typeof tf.customGrad>[0]);
      expect(() => checkGradients((t) => wrong(t), [x])).toThrow(/element \d+: analytic .* finite difference/);
    });
    x.dispose();
  });

  it('expectNoLeak detects a leaked tensor, sync and async', async () => {
    let kept: tf.Tensor | undefined;
    expect(() =>
      expectNoLeak(() => {
        kept = tf.ones([2]);
      }),
    ).toThrow(/1 tensor\(s\) leaked/);
    kept?.dispose();
    await expect(
      expectNoLeak(async () => {
        kept = tf.ones([2]);
        await Promise.resolve();
      }),
    ).rejects.toThrow(/1 tensor\(s\) leaked/);
    kept?.dispose();
    expect(expectNoLeak(() => tf.tidy(() => tf.sum(tf.ones([3])).dataSync()[0]))).toBe(3);
  });

  it('testBackends reads TAGI_TEST_BACKENDS (default cpu,wasm) and rejects unknown names', () => {
    delete process.env['TAGI_TEST_BACKENDS'];
    expect(testBackends()).toEqual(['cpu', 'wasm']);
    process.env['TAGI_TEST_BACKENDS'] = ' tensorflow , cpu';
    expect(testBackends()).toEqual(['tensorflow', 'cpu']);
    process.env['TAGI_TEST_BACKENDS'] = 'cpu,webgl';
    expect(() => testBackends()).toThrow(/unknown backend 'webgl'/);
  });
});
