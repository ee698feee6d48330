// A forward pass, its loss and its backward pass read nothing back to the host: ids are validated where
// batches are made (collator, checkIds), not inside forward. Host reads are counted at every door a
// caller or an op definition can use: the Tensor methods (dataSync/data/arraySync/array/bufferSync/buffer)
// and the engine's readSync/read that they all go through. (Backends' own kernels read their storage
// through backend.readSync, e.g. wasm's slice, without leaving the device's memory; those are not counted.)
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, type LowRankDelta } from '@tagi/tensor-core';
import { testBackends, useBackend, int2d } from '@tagi/tensor-core/testing';
import { makeT5Config } from './config.js';
import { createRandomT5, type T5ForConditionalGeneration } from './model.js';

type Patchable = Record<string, (...args: unknown[]) => unknown>;

/** Runs fn and returns the host reads it made, by door. */
function hostReads(fn: () => void): string[] {
  const reads: string[] = [];
  const restore: (() => void)[] = [];
  const patch = (target: Patchable, name: string, label: string) => {
    const original = target[name];
    if (typeof original !== 'function') throw new Error(`cannot count ${label}: no such method`);
    target[name] = function (this: unknown, ...args: unknown[]) {
      reads.push(label);
      return original.apply(this, args);
    };
    restore.push(() => {
      target[name] = original;
    });
  };
  const proto = tf.Tensor.prototype as unknown as Patchable;
  for (const m of ['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer']) patch(proto, m, `Tensor.${m}`);
  const engine = tf.engine() as unknown as Patchable;
  for (const m of ['readSync', 'read']) patch(engine, m, `engine.${m}`);
  try {
    fn();
  } finally {
    for (const r of restore.reverse()) r();
  }
  return reads;
}

const config = makeT5Config({
  vocabSize: 64,
  dModel: 16,
  dKv: 4,
  numHeads: 2,
  dFf: 24,
  numLayers: 2,
  numDecoderLayers: 2,
  relativeAttentionNumBuckets: 8,
  relativeAttentionMaxDistance: 16,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0.1,
});

describe.each(testBackends())('host reads on %s', (backend) => {
  let model: T5ForConditionalGeneration;
  let batch: { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D; labels: tf.Tensor2D };
  let A: tf.Variable;
  let B: tf.Variable;
  let adapters: Map<string, LowRankDelta>;
  beforeAll(async () => {
    await useBackend(backend);
    model = createRandomT5(config, 5);
    batch = {
      inputIds: int2d([
        [3, 4, 5, 1],
        [7, 1, 0, 0],
      ]),
      attentionMask: int2d([
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ]),
      labels: int2d([
        [6, 7, 1],
        [9, 1, -100],
      ]),
    };
    A = tf.variable(tf.randomNormal([4, 16], 0, 0.1, 'float32', 1));
    B = tf.variable(tf.randomNormal([8, 4], 0, 0.1, 'float32', 2));
    adapters = new Map([
      ['encoder.block.0.layer.0.SelfAttention.q', { A, B, scaling: 2 }],
      ['decoder.block.1.layer.1.EncDecAttention.q', { A, B, scaling: 2 }],
    ]);
  });
  afterAll(() => {
    model.dispose();
    tf.dispose([batch.inputIds, batch.attentionMask, batch.labels, A, B]);
  });

  it('the counter sees a read (it can fail)', () => {
    const reads = hostReads(() => void tf.tidy(() => model.forward(batch).loss!.dataSync()));
    expect(reads.length).toBeGreaterThan(0);
  });

  it('forward with loss (eval mode, adapters, encoder prefix): no host read', () => {
    model.eval();
    const reads = hostReads(() =>
      tf.tidy(() => {
        const prefix = { states: tf.ones([2, 3, 16]) as tf.Tensor3D, mask: tf.ones([2, 3], 'int32') as tf.Tensor2D };
        model.forward({ ...batch, adapters, encoderPrefix: prefix });
      }),
    );
    expect(reads).toEqual([]);
  });

  it('training step, frozen base + low-rank deltas, dropout on: forward, loss and backward make no host read', () => {
    model.train().freezeBase();
    try {
      const reads = hostReads(() => {
        const { value, grads } = tf.variableGrads(() => model.forward({ ...batch, adapters, rng: new Rng(3) }).loss!, [A, B]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      expect(reads).toEqual([]);
    } finally {
      model.unfreezeBase().eval();
    }
  });

  it('training step of the whole model (base pretraining): no host read', () => {
    model.train();
    try {
      const reads = hostReads(() => {
        const { value, grads } = tf.variableGrads(() => model.forward(batch).loss!);
        expect(Object.keys(grads).length).toBe(model.parameters().length);
        tf.dispose([value, ...Object.values(grads)]);
      });
      expect(reads).toEqual([]);
    } finally {
      model.eval();
    }
  });
});
