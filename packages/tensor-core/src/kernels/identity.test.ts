import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../gradients.js';
import { Rng } from '../rng.js';
import { expectNoLeak, useBackend } from '../testing.js';
import { replacedWasmKernels, withStockWasmKernels } from './index.js';

const dataBuffers = () => tf.backend().numDataIds();

describe('wasm Identity and Cast share buffers instead of copying', () => {
  beforeAll(() => useBackend('wasm'));

  it('are registered', () => {
    expect(replacedWasmKernels()).toEqual(expect.arrayContaining(['Identity', 'Cast']));
  });

  it('clone shares the buffer, outlives its source, and frees it with the last reference', () => {
    const before = dataBuffers();
    const x = tf.tensor([
      [1.5, -2],
      [3, 4],
    ]);
    const c = tf.clone(x);
    expect(dataBuffers()).toBe(before + 1); // one buffer, two tensors
    x.dispose();
    expect(c.arraySync()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    c.dispose();
    expect(dataBuffers()).toBe(before);
    // the stock kernel copied
    const y = tf.tensor([1, 2, 3]);
    const d = withStockWasmKernels(() => tf.clone(y));
    expect(dataBuffers()).toBe(before + 2);
    tf.dispose([y, d]);
    expect(dataBuffers()).toBe(before);
  });

  it('a clone of a variable keeps the old values after assign', () => {
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const c = tf.clone(v);
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, c]);
  });

  it('training steps give bit-identical losses and gradients to the stock kernels, without leaks', () => {
    const rng = new Rng(9);
    const x = tf.tensor(rng.normalArray(6 * 5), [6, 5]);
    const w0 = rng.normalArray(5 * 4);
    const run = () => {
      const w = tf.tidy(() => tf.variable(tf.tensor(w0, [5, 4])));
      const out: number[][] = [];
      for (let step = 0; step < 3; step++) {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sigmoid(tf.matMul(tf.softmax(x), w)))) as tf.Scalar, [w]);
        const g = grads[w.name] as tf.Tensor;
        out.push([value.dataSync()[0] as number, ...Array.from(g.dataSync())]);
        tf.tidy(() => w.assign(tf.sub(w, tf.mul(g, 0.5))));
        tf.dispose([value, g]);
      }
      w.dispose();
      return out;
    };
    const before = dataBuffers();
    const stock = withStockWasmKernels(run);
    const ours = expectNoLeak(run);
    expect(ours).toEqual(stock);
    expect(dataBuffers()).toBe(before);
    x.dispose();
  });

  it('Cast to the same dtype shares; to bool gives x ≠ 0 as the cpu backend does; other casts are unchanged', () => {
    const before = dataBuffers();
    expectNoLeak(() =>
      tf.tidy(() => {
        const f = tf.tensor([0, -0, 1, 2, 256, 0.5, -1, NaN, Infinity, -3.7, 3.7]);
        const i = tf.tensor([0, 1, 256, -3, 512], undefined, 'int32');
        const same = tf.cast(f, 'float32');
        expect(dataBuffers()).toBe(before + 2);
        expect(Array.from(same.dataSync())).toEqual(Array.from(f.dataSync()));
        expect(Array.from(tf.cast(f, 'bool').dataSync())).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        expect(Array.from(tf.cast(i, 'bool').dataSync())).toEqual([0, 1, 1, 1, 1]);
        // the stock kernel wraps to bool modulo 256
        expect(Array.from(withStockWasmKernels(() => tf.cast(i, 'bool')).dataSync())).toEqual([0, 1, 0, 253, 0]);
        // delegated casts: the stock kernel's values
        const pairs: [tf.Tensor, tf.DataType][] = [
          [f, 'int32'],
          [i, 'float32'],
          [tf.cast(f, 'bool'), 'float32'],
          [tf.cast(i, 'bool'), 'int32'],
        ];
        for (const [t, dtype] of pairs) {
          const ours = tf.cast(t, dtype);
          const stock = withStockWasmKernels(() => tf.cast(t, dtype));
          expect(ours.dtype).toBe(dtype);
          expect(Array.from(ours.dataSync())).toEqual(Array.from(stock.dataSync()));
        }
      }),
    );
    expect(dataBuffers()).toBe(before);
  });
});
