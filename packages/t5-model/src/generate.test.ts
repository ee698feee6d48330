// Beam search against HF transformers (beam.json written by scripts/make_beam_golden.py), KV cache
// on/off equality, leak-freedom, scoring consistency.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, useBackend } from '@tagi/tensor-core/testing';
import { T5ForConditionalGeneration } from './node.js';
import { crossEntropy } from './loss.js';

const fixtures = path.resolve(import.meta.dirname, '..', '__fixtures__', 't5');

interface BeamCase {
  num_beams: number;
  length_penalty: number;
  early_stopping: boolean | 'never';
  max_new_tokens: number;
  sequences: number[][];
}

describe.each(testBackends())('generation on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe.each(['tiny-relu-tied', 'tiny-gated-untied'])('%s', (name) => {
    let model: T5ForConditionalGeneration;
    const inputs = JSON.parse(fs.readFileSync(path.join(fixtures, name, 'inputs.json'), 'utf8')) as {
      input_ids: number[][];
      attention_mask: number[][];
      labels: number[][];
    };
    const beam = JSON.parse(fs.readFileSync(path.join(fixtures, name, 'beam.json'), 'utf8')) as { cases: BeamCase[] };
    let ids: tf.Tensor2D;
    let mask: tf.Tensor2D;
    beforeAll(async () => {
      model = await T5ForConditionalGeneration.fromPretrained(path.join(fixtures, name));
      ids = tf.tensor2d(inputs.input_ids, undefined, 'int32');
      mask = tf.tensor2d(inputs.attention_mask, undefined, 'int32');
    });
    afterAll(() => {
      model.dispose();
      tf.dispose([ids, mask]);
    });

    it.each(beam.cases.map((c) => [`beams ${c.num_beams} lp ${c.length_penalty} es ${String(c.early_stopping)} max ${c.max_new_tokens}`, c] as const))(
      'beam search equals HF: %s',
      async (_label, c) => {
        const before = tf.memory().numTensors;
        const opts = { numBeams: c.num_beams, lengthPenalty: c.length_penalty, earlyStopping: c.early_stopping, maxNewTokens: c.max_new_tokens };
        const withCache = await model.generate(ids, mask, opts);
        const noCache = await model.generate(ids, mask, { ...opts, useCache: false });
        expect(tf.memory().numTensors).toBe(before);
        expect(withCache).toEqual(c.sequences);
        expect(noCache).toEqual(c.sequences);
      },
    );

    it('scoreTargets: sum and mean log-likelihood agree with the loss, batched equals one by one', async () => {
      const labels = tf.tensor2d(inputs.labels, undefined, 'int32');
      const before = tf.memory().numTensors;
      const s = await model.scoreTargets({ inputIds: ids, attentionMask: mask, labels });
      expect(tf.memory().numTensors).toBe(before);
      const counts = inputs.labels.map((r) => r.filter((v) => v !== -100).length);
      expect(s.tokens).toEqual(counts);
      const loss = tf.tidy(() => crossEntropy(model.forward({ inputIds: ids, attentionMask: mask, labels }).logits, labels).dataSync()[0]!);
      const total = s.sum.reduce((a, b) => a + b, 0);
      expect(-total / (counts[0]! + counts[1]!)).toBeCloseTo(loss, 5);
      for (let i = 0; i < 2; i++) {
        expect(s.mean[i]).toBeCloseTo(s.sum[i]! / counts[i]!, 6);
        const n = counts[i]!;
        const one = tf.tidy(() => ({
          inputIds: tf.tensor2d([inputs.input_ids[i]!], undefined, 'int32'),
          attentionMask: tf.tensor2d([inputs.attention_mask[i]!], undefined, 'int32'),
          labels: tf.tensor2d([inputs.labels[i]!.slice(0, n)], undefined, 'int32'),
        }));
        const r = await model.scoreTargets(one);
        expect(r.sum[0]).toBeCloseTo(s.sum[i]!, 4);
        tf.dispose([one.inputIds, one.attentionMask, one.labels]);
      }
      labels.dispose();
    });
  });
});
