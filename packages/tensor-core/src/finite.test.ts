import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NonFiniteError, assertFinite, findNonFinite } from './finite.js';
import { Linear } from './layers.js';
import { Module } from './module.js';
import { Rng } from './rng.js';
import { expectNoLeak, testBackends, useBackend } from './testing.js';

describe.each(testBackends())('assertFinite on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('passes finite weights and names the first tensor holding NaN or Inf, with counts', () => {
    const good = tf.tensor2d([
      [1, -2],
      [3e30, 0],
    ]);
    const bad = tf.tensor1d([0, Number.NaN, Number.POSITIVE_INFINITY, Number.NaN]);
    const ids = tf.tensor1d([1, 2], 'int32');
    const negInf = tf.fill([3], Number.NEGATIVE_INFINITY);
    expectNoLeak(() => {
      expect(() =>
        assertFinite(
          [
            ['a.weight', good],
            ['ids', ids],
          ],
          'model.safetensors',
        ),
      ).not.toThrow();
      let err: unknown;
      try {
        assertFinite(
          new Map<string, tf.Tensor>([
            ['a.weight', good],
            ['b.weight', bad],
          ]),
          '/m/model.safetensors',
        );
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NonFiniteError);
      expect(err).toMatchObject({ source: '/m/model.safetensors', tensor: 'b.weight', nan: 2, inf: 1 });
      expect((err as Error).message).toBe("/m/model.safetensors: tensor 'b.weight' holds non-finite values (NaN: 2, ±Inf: 1): corrupt or diverged weights");
      expect(() => assertFinite([['neg', negInf]], 'x')).toThrow(/'neg' holds non-finite values \(NaN: 0, ±Inf: 3\)/);
    });
    tf.dispose([good, bad, ids, negInf]);
  });

  it('names a Module by its parameter names and a DeltaMap by <path>.lora_A / .lora_B', () => {
    class Block extends Module {
      readonly q: Linear;
      constructor() {
        super();
        this.q = this.registerModule('q', new Linear(3, 2, { bias: false, rng: new Rng(1) }));
      }
    }
    const block = new Block();
    expect(findNonFinite(block)).toBeUndefined();
    const A = tf.tensor2d([[0, 1, 2]]); // [r, in]
    const B = tf.tensor2d([[1], [Number.NaN]]); // [out, r]
    const deltas = new Map([['encoder.block.0.q', { A, B, scaling: 2 }]]);
    const inf = tf.fill([2, 3], Number.POSITIVE_INFINITY);
    block.q.weight.assign(inf);
    expectNoLeak(() => {
      expect(findNonFinite(deltas)).toEqual({ tensor: 'encoder.block.0.q.lora_B', nan: 1, inf: 0 });
      expect(() => assertFinite(block, 'block.safetensors')).toThrow("block.safetensors: tensor 'q.weight' holds non-finite values (NaN: 0, ±Inf: 6)");
    });
    tf.dispose([A, B, inf]);
    block.dispose();
  });
});
