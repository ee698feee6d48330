// Micro-batching a seq2seq batch: `splitSeq2SeqBatch`'s parts, run through tensor-core `fit` with
// `microBatchSize`, give the update of the whole batch (full fine-tuning of a tiny T5, rows with different
// target lengths so token shares differ from row shares).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, fit, type FitOptions } from '@tagi/tensor-core';
import { expectNoLeak, testBackends, useBackend } from '@tagi/tensor-core/testing';
import { makeT5Config } from './config.js';
import { splitSeq2SeqBatch } from './loss.js';
import { createRandomT5 } from './model.js';

const config = makeT5Config({
  vocabSize: 40,
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
  dropoutRate: 0,
});

interface Batch {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  labels: tf.Tensor2D;
}

/** 5 rows; sources of 3–7 tokens, targets of 1–5 (the rest -100), row 4 scores nothing. */
function makeBatch(step: number): Batch {
  const src = [7, 3, 5, 6, 4];
  const tgt = [5, 1, 3, 2, 0];
  const S = 7;
  const T = 5;
  const id = (r: number, c: number) => 2 + ((r * 7 + c * 3 + step * 5) % 37);
  return {
    inputIds: tf.tensor2d(
      src.flatMap((n, r) => Array.from({ length: S }, (_, c) => (c < n ? id(r, c) : 0))),
      [5, S],
      'int32',
    ),
    attentionMask: tf.tensor2d(
      src.flatMap((n) => Array.from({ length: S }, (_, c) => (c < n ? 1 : 0))),
      [5, S],
      'int32',
    ),
    labels: tf.tensor2d(
      tgt.flatMap((n, r) => Array.from({ length: T }, (_, c) => (c < n ? id(r + 1, c) : -100))),
      [5, T],
      'int32',
    ),
  };
}

describe.each(testBackends())('splitSeq2SeqBatch on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('shares are scored tokens over the batch’s; the weighted losses add up to the whole loss', () => {
    const model = createRandomT5(config, 3).eval();
    const b = makeBatch(0);
    const parts = splitSeq2SeqBatch(b, 2);
    expect(parts.map((p) => [p.start, p.rows, p.tokens])).toEqual([
      [0, 2, 6],
      [2, 2, 5],
      [4, 1, 0],
    ]);
    expect(parts.map((p) => p.weight)).toEqual([6 / 11, 5 / 11, 0]);
    const loss = (x: Batch) => tf.tidy(() => (model.forward(x).loss as tf.Scalar).dataSync()[0] as number);
    const sum = parts.reduce((a, p) => a + p.weight * loss(p), 0);
    expect(Math.abs(sum - loss(b))).toBeLessThan(1e-5);
    tf.dispose([b.inputIds, b.attentionMask, b.labels, ...parts.flatMap((p) => [p.inputIds, p.attentionMask, p.labels])]);
    model.dispose();
  });

  it.each([1, 2, 4])('fit with microBatchSize %i updates every weight as the whole batch does', async (size) => {
    const run = async (micro: number | undefined) => {
      const model = createRandomT5(config, 4).train();
      const params = new Map(model.namedParameters());
      const opt = new AdamW(params, { lr: 1e-2 });
      const o: FitOptions<Batch> = {
        name: 'split',
        params,
        optimizer: opt,
        steps: 3,
        maxGradNorm: 1,
        batch: ({ step }) => makeBatch(step),
        loss: (x) => ({ loss: model.forward(x).loss as tf.Scalar }),
        release: (x) => tf.dispose([x.inputIds, x.attentionMask, x.labels]),
        split: (x, n) => splitSeq2SeqBatch(x, n).map((p) => ({ batch: p, weight: p.weight })),
        ...(micro !== undefined ? { microBatchSize: micro } : {}),
      };
      const losses: number[] = [];
      await fit({ ...o, onStep: (r) => void losses.push(r.loss) });
      const weights = new Map([...params].map(([k, v]) => [k, Array.from(v.dataSync())]));
      opt.dispose();
      model.dispose();
      return { weights, losses };
    };
    const whole = await run(undefined);
    const split = await run(size);
    let worst = 0;
    for (const [k, w] of whole.weights) w.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - ((split.weights.get(k) as number[])[i] as number)))));
    expect(worst).toBeLessThan(1e-5);
    whole.losses.forEach((l, i) => expect(Math.abs(l - (split.losses[i] as number))).toBeLessThan(1e-5));
    // the updates moved the weights (the comparison is not between two untouched models)
    const start = createRandomT5(config, 4);
    const moved = Math.max(
      ...start
        .namedParameters()
        .map(([k, v]) => Math.max(...Array.from(v.dataSync()).map((x, i) => Math.abs(x - ((whole.weights.get(k) as number[])[i] as number))))),
    );
    start.dispose();
    expect(moved).toBeGreaterThan(1e-3);
  });

  it('is leak-free and checks its arguments', () => {
    const b = makeBatch(1);
    expectNoLeak(() => tf.dispose(splitSeq2SeqBatch(b, 3).flatMap((p) => [p.inputIds, p.attentionMask, p.labels])));
    expect(() => splitSeq2SeqBatch(b, 0)).toThrow('size must be an integer >= 1');
    tf.dispose([b.inputIds, b.attentionMask, b.labels]);
  });
});
