import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../gradients.js';
import { Rng } from '../rng.js';
import { expectClose, expectNoLeak, useBackend } from '../testing.js';

// Reference: a plain loop in float64.
function segmentSum(x: number[][], ids: number[], n: number): number[][] {
  const out = Array.from({ length: n }, () => new Array<number>(x[0]?.length ?? 0).fill(0));
  ids.forEach((s, i) => {
    if (s < 0 || s >= n) return;
    (x[i] as number[]).forEach((v, j) => ((out[s] as number[])[j] = ((out[s] as number[])[j] as number) + v));
  });
  return out;
}

describe('UnsortedSegmentSum on wasm', () => {
  beforeAll(() => useBackend('wasm'));

  it('is registered and matches a float64 loop, dropping out-of-range ids', () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    const rng = new Rng(1);
    const x = Array.from({ length: 6 }, () => Array.from(rng.normalArray(3)));
    const ids = [2, 0, 2, 4, -1, 9];
    expectNoLeak(() =>
      tf.tidy(() => {
        const y = tf.unsortedSegmentSum(tf.tensor2d(x), tf.tensor1d(ids, 'int32'), 5);
        expect(y.shape).toEqual([5, 3]);
        expectClose(y, segmentSum(x, ids, 5), { atol: 1e-6 });
        const yi = tf.unsortedSegmentSum(
          tf.tensor2d(
            [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
            undefined,
            'int32',
          ),
          tf.tensor1d([1, 1, 0], 'int32'),
          2,
        );
        expect(yi.dtype).toBe('int32');
        expect(yi.arraySync()).toEqual([
          [5, 6],
          [4, 6],
        ]);
      }),
    );
  });

  it('lets gradients flow through gather with multi-dimensional indices', () => {
    const rng = new Rng(2);
    const table = tf.tensor(rng.normalArray(10 * 4), [10, 4]);
    const ids = tf.tensor2d(
      [
        [3, 3, 0],
        [9, 3, 1],
      ],
      undefined,
      'int32',
    );
    const r = tf.tensor(rng.normalArray(2 * 3 * 4), [2, 3, 4]);
    expectNoLeak(() =>
      tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), r)))(table);
        const rv = r.arraySync() as number[][][];
        const flatIds = (ids.arraySync() as number[][]).flat();
        const flatR = rv.flat();
        expectClose(g, segmentSum(flatR, flatIds, 10), { atol: 1e-6 });
      }),
    );
    tf.dispose([table, ids, r]);
  });
});
