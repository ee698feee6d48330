import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@tagi/tensor-core';
import { int2d, useBackend, expectNoLeak } from '@tagi/tensor-core/testing';
import { makeT5Config } from './config.js';
import { createRandomT5, relativePositionBucket, shiftRightTensor } from './model.js';

const fixtures = path.resolve(import.meta.dirname, '..', '__fixtures__', 't5');

beforeAll(async () => {
  await useBackend('cpu');
});

describe('relativePositionBucket', () => {
  const golden = JSON.parse(fs.readFileSync(path.join(fixtures, 'buckets.json'), 'utf8')) as {
    relative_positions: number[];
    cases: { num_buckets: number; max_distance: number; bidirectional: boolean; buckets: number[] }[];
  };
  it.each(golden.cases.map((c) => [`${c.num_buckets}/${c.max_distance}/${c.bidirectional ? 'bi' : 'causal'}`, c] as const))('equals HF for %s', (_l, c) => {
    const got = golden.relative_positions.map((r) => relativePositionBucket(r, c.bidirectional, c.num_buckets, c.max_distance));
    expect(got).toEqual(c.buckets);
  });
});

describe('random model, dropout, shapes', () => {
  const config = makeT5Config({
    vocabSize: 50,
    dModel: 16,
    dKv: 4,
    numHeads: 4,
    dFf: 24,
    numLayers: 2,
    numDecoderLayers: 1,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 16,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
    dropoutRate: 0.2,
  });

  it('HF names, block-0-only position bias, seeded and reproducible with the HF init scales', () => {
    const a = createRandomT5(config, 1);
    const b = createRandomT5(config, 1);
    const names = a.namedParameters().map(([n]) => n);
    expect(names).toContain('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight');
    expect(names).toContain('decoder.block.0.layer.1.EncDecAttention.o.weight');
    expect(names).toContain('encoder.block.1.layer.1.DenseReluDense.wi_1.weight');
    expect(names).toContain('lm_head.weight');
    expect(names.filter((n) => n.includes('relative_attention_bias'))).toHaveLength(2);
    expect(names.filter((n) => n.startsWith('decoder.block.'))).toHaveLength(1 * (4 + 1 + 1 + 4 + 1 + 3 + 1));
    const sa = a.stateDict();
    for (const [k, v] of b.stateDict()) expect(Array.from(v.dataSync()), k).toEqual(Array.from(sa.get(k)!.dataSync()));
    const q = sa.get('encoder.block.0.layer.0.SelfAttention.q.weight')!;
    const std = Math.sqrt(tf.tidy(() => tf.mean(tf.square(q)).dataSync()[0]!));
    expect(std).toBeGreaterThan(0.7 * (16 * 4) ** -0.5);
    expect(std).toBeLessThan(1.3 * (16 * 4) ** -0.5);
    a.dispose();
    b.dispose();
  });

  it('dropout acts only in training mode, reproducibly with a seeded Rng', () => {
    const m = createRandomT5(config, 2);
    const inputIds = int2d([[3, 4, 5, 1]]);
    const labels = int2d([[6, 7, 1]]);
    const run = (rng?: Rng) => tf.tidy(() => Array.from(m.forward({ inputIds, labels, rng }).logits.dataSync()));
    m.eval();
    expect(run()).toEqual(run());
    m.train();
    const t1 = run(new Rng(5));
    expect(run(new Rng(5))).toEqual(t1);
    expect(run(new Rng(6))).not.toEqual(t1);
    m.eval();
    expect(run()).not.toEqual(t1);
    tf.dispose([inputIds, labels]);
    m.dispose();
  });

  it('training-step gradients w.r.t. low-rank deltas only, leak-free', () => {
    const m = createRandomT5(config, 3).freezeBase();
    const inputIds = int2d([
      [3, 4, 5, 1],
      [7, 1, 0, 0],
    ]);
    const attentionMask = int2d([
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]);
    const labels = int2d([
      [6, 7, 1],
      [9, 1, -100],
    ]);
    const A = tf.variable(tf.randomNormal([2, 16], 0, 0.1, 'float32', 1));
    const B = tf.variable(tf.randomNormal([16, 2], 0, 0.1, 'float32', 2));
    const adapters = new Map([['decoder.block.0.layer.0.SelfAttention.q', { A, B, scaling: 2 }]]);
    expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => m.forward({ inputIds, attentionMask, labels, adapters }).loss!);
      expect(Object.keys(grads).sort()).toEqual([A.name, B.name].sort());
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([inputIds, attentionMask, labels, A, B]);
    m.dispose();
  });

  it('shiftRightTensor matches HF _shift_right', () => {
    const l = int2d([
      [5, 6, 1, -100],
      [7, 1, -100, -100],
    ]);
    const s = shiftRightTensor(l, 0, 0);
    expect(s.arraySync()).toEqual([
      [0, 5, 6, 1],
      [0, 7, 1, 0],
    ]);
    tf.dispose([l, s]);
  });
});
