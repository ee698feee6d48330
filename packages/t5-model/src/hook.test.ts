// The encoder layer hook: called once per encoder block in order with the block's output and the float
// padding mask; its return value is what the next block (and the final norm) reads; generation passes it through.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { int2d, useBackend, expectNoLeak } from '@tagi/tensor-core/testing';
import { makeT5Config } from './config.js';
import { type EncoderLayerHook, T5InputError, createRandomT5 } from './model.js';
import { generate } from './generate.js';

const config = makeT5Config({ vocabSize: 40, dModel: 16, dKv: 4, numHeads: 4, dFf: 24, numLayers: 3, numDecoderLayers: 2, dropoutRate: 0 });
let model: ReturnType<typeof createRandomT5>;
beforeAll(async () => {
  await useBackend('cpu');
  model = createRandomT5(config, 3);
});
afterAll(() => model.dispose());

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe('encoderLayerHook', () => {
  it('an identity hook changes nothing and sees every block in order with the float mask', () => {
    const seen: [number, number[], number[][]][] = [];
    const hook: EncoderLayerHook = (i, h, m) => {
      seen.push([i, h.shape, m.arraySync()]);
      return h;
    };
    expectNoLeak(() =>
      tf.tidy(() => {
        const ids = int2d([
          [5, 6, 7, 1],
          [8, 1, 0, 0],
        ]);
        const mask = int2d([
          [1, 1, 1, 1],
          [1, 1, 0, 0],
        ]);
        const labels = int2d([
          [3, 4, 1],
          [9, 1, -100],
        ]);
        const a = model.forward({ inputIds: ids, attentionMask: mask, labels });
        const b = model.forward({ inputIds: ids, attentionMask: mask, labels, encoderLayerHook: hook });
        expect(maxAbsDiff(a.logits, b.logits)).toBe(0);
        expect(maxAbsDiff(a.encoderLastHiddenState, b.encoderLastHiddenState)).toBe(0);
      }),
    );
    expect(seen.map((s) => s[0])).toEqual([0, 1, 2]);
    expect(seen[0]?.[1]).toEqual([2, 4, 16]);
    expect(seen[0]?.[2]).toEqual([
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]);
  });

  it('the returned states feed the next block: zeroing after the last block gives the final norm of zeros', () => {
    tf.tidy(() => {
      const ids = int2d([[5, 6, 7, 1]]);
      const hook: EncoderLayerHook = (i, h) => (i === 2 ? tf.zerosLike(h) : h);
      const enc = model.encode(ids, undefined, undefined, undefined, hook);
      expect(tf.max(tf.abs(enc)).dataSync()[0]).toBe(0);
      // a change before the last block changes the output
      const shifted = model.encode(ids, undefined, undefined, undefined, (i, h) => (i === 0 ? tf.add(h, 0.5) : h));
      expect(maxAbsDiff(shifted, model.encode(ids))).toBeGreaterThan(1e-3);
    });
  });

  it('a hook returning the wrong shape is a T5InputError naming the layer', () => {
    tf.tidy(() => {
      const ids = int2d([[5, 6, 1]]);
      expect(() => model.encode(ids, undefined, undefined, undefined, (_i, h) => tf.slice(h, [0, 0, 0], [1, 2, 16]) as tf.Tensor3D)).toThrow(T5InputError);
      expect(() => model.encode(ids, undefined, undefined, undefined, (_i, h) => tf.slice(h, [0, 0, 0], [1, 2, 16]) as tf.Tensor3D)).toThrow(
        /layer 0 must return \[1, 3, 16\]/,
      );
    });
  });

  it('generate passes the hook through: greedy output equals the argmax path of forward with the hook, cache on and off', async () => {
    const hook: EncoderLayerHook = (i, h) => tf.tidy(() => tf.add(h, tf.mul(tf.sin(h), 0.3 * (i + 1))) as tf.Tensor3D);
    const ids = int2d([
      [5, 6, 7, 1],
      [8, 9, 1, 0],
    ]);
    const mask = int2d([
      [1, 1, 1, 1],
      [1, 1, 1, 0],
    ]);
    const before = tf.memory().numTensors;
    const steps = 5;
    const res = await generate(model, ids, mask, { maxNewTokens: steps, encoderLayerHook: hook, eosTokenId: -1, outputScores: true });
    const withCache = res.sequences;
    const noCache = await model.generate(ids, mask, { maxNewTokens: steps, encoderLayerHook: hook, eosTokenId: -1, useCache: false });
    const plain = await generate(model, ids, mask, { maxNewTokens: steps, eosTokenId: -1, outputScores: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(noCache).toEqual(withCache);
    // greedy path by repeated full forward passes with the hook
    const rows: number[][] = [[0], [0]];
    let scoreErr = 0;
    let plainGap = 0;
    for (let t = 0; t < steps; t++) {
      const next = tf.tidy(() => {
        const dec = tf.tensor2d(rows, undefined, 'int32');
        const { logits, encoderLastHiddenState } = model.forward({ inputIds: ids, attentionMask: mask, decoderInputIds: dec, encoderLayerHook: hook });
        encoderLastHiddenState.dispose();
        const step = tf.squeeze(tf.slice(logits, [0, t, 0], [-1, 1, -1]), [1]); // [batch, vocab]
        const data = step.arraySync() as number[][];
        data.forEach((row, r) => {
          row.forEach((x, j) => {
            scoreErr = Math.max(scoreErr, Math.abs(x - (res.scores?.[t]?.[r]?.[j] ?? NaN)));
            plainGap = Math.max(plainGap, Math.abs(x - (plain.scores?.[t]?.[r]?.[j] ?? NaN)));
          });
        });
        return tf.argMax(step, -1).arraySync() as number[];
      });
      next.forEach((n, r) => rows[r]?.push(n));
    }
    expect(withCache).toEqual(rows);
    expect(scoreErr).toBeLessThan(1e-4); // generation's logits are forward's, hook included
    expect(plainGap).toBeGreaterThan(1e-2); // the hook really reached the encoder during generation
    tf.dispose([ids, mask]);
  });
});
