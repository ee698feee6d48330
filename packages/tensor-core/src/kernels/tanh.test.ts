import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../gradients.js';
import { Rng } from '../rng.js';
import { checkGradients, expectClose, expectNoLeak, useBackend } from '../testing.js';
import { replacedWasmKernels, withStockWasmKernels } from './index.js';

describe('wasm Tanh by a rational approximation', () => {
  beforeAll(() => useBackend('wasm'));

  it('is registered', () => {
    expect(replacedWasmKernels()).toContain('Tanh');
  });

  it('matches float64 tanh within 2.5e-7 relative over ±[1e-30, 30], as the stock kernel does within 2e-7', () => {
    const vals: number[] = [];
    for (let e = -30; e <= Math.log10(30); e += 0.002) vals.push(10 ** e, -(10 ** e));
    for (let v = -10; v <= 10; v += 1 / 512) vals.push(v); // a dense grid
    for (const b of [4e-4, 7.90531110763549805]) for (const d of [-1e-6, 0, 1e-6]) vals.push(b + d, -(b + d)); // the branch boundaries
    const x = tf.tensor(Float32Array.from(vals));
    const xs = x.dataSync();
    const worst = (y: tf.Tensor) => {
      const ys = y.dataSync();
      let w = 0;
      xs.forEach((v, i) => {
        if (v === 0) expect(ys[i]).toBe(0);
        else w = Math.max(w, Math.abs((ys[i] as number) - Math.tanh(v)) / Math.abs(Math.tanh(v)));
      });
      return w;
    };
    expectNoLeak(() => {
      const ours = tf.tanh(x);
      const stock = withStockWasmKernels(() => tf.tanh(x));
      expect(worst(ours)).toBeLessThan(2.5e-7);
      expect(worst(stock)).toBeLessThan(2e-7);
      expectClose(ours, stock, { atol: 0, rtol: 4e-7 });
      tf.dispose([ours, stock]);
    });
    x.dispose();
  });

  it('is exact at ±0, ±Infinity, NaN and keeps shape; empty tensors work', () => {
    const x = tf.tensor([
      [0, -0, Infinity],
      [-Infinity, NaN, 1e-45],
    ]);
    const y = tf.tanh(x);
    const v = Array.from(y.dataSync());
    expect(y.shape).toEqual([2, 3]);
    expect(Object.is(v[0], 0) && Object.is(v[1], -0)).toBe(true);
    expect(v.slice(2, 5)).toEqual([1, -1, NaN]);
    expect(v[5]).toBe(Math.fround(1e-45));
    expect(tf.tanh(tf.zeros([0, 3])).shape).toEqual([0, 3]);
    tf.dispose([x, y]);
  });

  it('gives the gradient of the stock kernel (tolerance-equal) and of finite differences', () => {
    const rng = new Rng(3);
    const x = tf.tensor(rng.normalArray(4 * 7), [4, 7]);
    const w = tf.tensor(rng.normalArray(4 * 7), [4, 7]);
    const f = (t: tf.Tensor) => tf.mul(tf.tanh(tf.mul(t, 1.5)), w);
    const grad = () =>
      tf.tidy(() =>
        Array.from(
          tf
            .grad((t: tf.Tensor) => tf.sum(f(t)))(x)
            .dataSync(),
        ),
      );
    const stock = withStockWasmKernels(grad);
    const ours = expectNoLeak(grad);
    expectClose(ours, stock, { atol: 1e-6, rtol: 1e-6 });
    expectNoLeak(() => checkGradients(f, [x]));
    tf.dispose([x, w]);
  });

  it('is correct when its allocations grow the wasm heap', () => {
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    const n = Math.ceil(heapBytes() / 4);
    const x = tf.tensor(
      Float32Array.from({ length: n }, (_, i) => ((i % 2001) - 1000) / 100),
      [n],
    );
    const before = heapBytes();
    const y = tf.tanh(x);
    const grew = heapBytes() > before;
    const ys = y.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i += 997) worst = Math.max(worst, Math.abs((ys[i] as number) - Math.tanh(((i % 2001) - 1000) / 100)));
    tf.dispose([x, y]);
    expect(grew, 'the test did not make the heap grow; enlarge the input').toBe(true);
    expect(worst).toBeLessThan(1e-7);
  });
});
