// Merged serving (config eval.serving 'merged', what the demo's time column measures) must give the
// outputs of the unmerged path it replaces: a generated adapter added into the base weights once, then the
// plain forward with the fusion's instruction states, versus the adapter applied beside the weights.
import * as tf from '@tensorflow/tfjs-core';
import { HyperNetwork, generateAdapter, taskForwardArgs, taskHook, taskPrefix } from '@tagi/hypernet';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { useBackend, int2d } from '@tagi/tensor-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await useBackend('cpu');
});

function base() {
  const config = makeT5Config({
    vocabSize: 64,
    dModel: 32,
    dKv: 8,
    numHeads: 4,
    dFf: 48,
    numLayers: 2,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 16,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
    dropoutRate: 0,
  });
  const model = createRandomT5(config, 3);
  model.eval();
  model.setTrainable(false);
  return model;
}

const weights = (m: ReturnType<typeof base>) => new Map(m.namedParameters().map(([k, v]) => [k, v.dataSync().slice()]));

describe('merged serving of a generated adapter', () => {
  for (const fusion of ['concat', 'cross-attention', 'none'] as const) {
    it(`${fusion} fusion: logits within 1e-4 of the unmerged adapter, and the weights restored bit for bit`, () => {
      const model = base();
      // a B head initialised away from zero, so the generated adapter changes the logits
      const hn = new HyperNetwork(model, { rank: 4, hiddenDim: 16, moduleEmbeddingDim: 8, fusion, targets: ['q', 'k', 'v', 'o'], bHeadInitStd: 0.05 });
      const before = weights(model);
      const task = generateAdapter(hn, [5, 9, 12, 7, 1]);
      const ids = int2d([
        [3, 4, 5, 1],
        [6, 8, 1, 0],
      ]);
      const mask = int2d([
        [1, 1, 1, 1],
        [1, 1, 1, 0],
      ]);
      const labels = int2d([
        [10, 11, 1],
        [12, 1, 0],
      ]);
      const plain = tf.tidy(() => model.forward({ inputIds: ids, attentionMask: mask, labels }).logits.arraySync() as number[][][]);
      const unmerged = tf.tidy(
        () => model.forward({ inputIds: ids, attentionMask: mask, labels, ...taskForwardArgs(task, 2) }).logits.arraySync() as number[][][],
      );
      task.adapter.merge(model, { restorable: true });
      const merged = tf.tidy(() => {
        const prefix = taskPrefix(task, 2);
        const hook = taskHook(task);
        return model
          .forward({ inputIds: ids, attentionMask: mask, labels, ...(prefix ? { encoderPrefix: prefix } : {}), ...(hook ? { encoderLayerHook: hook } : {}) })
          .logits.arraySync() as number[][][];
      });
      task.adapter.unmerge(model);
      const maxDiff = (a: number[][][], b: number[][][]) => Math.max(...a.flat(2).map((x, i) => Math.abs(x - (b.flat(2)[i] as number))));
      expect(maxDiff(unmerged, plain)).toBeGreaterThan(1e-3); // the adapter does something
      expect(maxDiff(merged, unmerged)).toBeLessThan(1e-4);
      for (const [k, v] of weights(model)) expect(Array.from(v), k).toEqual(Array.from(before.get(k) as Float32Array));
      tf.dispose([ids, mask, labels]);
      task.dispose();
      hn.dispose();
      model.dispose();
    });
  }
});
