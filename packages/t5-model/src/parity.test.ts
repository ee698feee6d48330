// Parity with HF transformers 4.57.6 on the two tiny goldens (copied from ../shared/golden/t5 into
// __fixtures__/t5, see NOTICE), on every backend in TAGI_TEST_BACKENDS.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, testBackends, useBackend } from '@tagi/tensor-core/testing';
import { T5ForConditionalGeneration } from './node.js';
import { generate } from './generate.js';

const fixtures = path.resolve(import.meta.dirname, '..', '__fixtures__', 't5');

interface Inputs {
  input_ids: number[][];
  attention_mask: number[][];
  labels: number[][];
}
interface Expected {
  decoder_input_ids: number[][];
  encoder_last_hidden_state: number[][][];
  logits: number[][][];
  loss: number;
  generate: { sequences: number[][]; scores: number[][][] };
  grads: Record<string, number[] | number[][]>;
}

const read = <T>(dir: string, f: string): T => JSON.parse(fs.readFileSync(path.join(fixtures, dir, f), 'utf8')) as T;

describe.each(testBackends())('HF parity on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe.each([
    ['tiny-relu-tied', 'model.safetensors'],
    ['tiny-relu-tied', 'model.all_keys.safetensors'],
    ['tiny-gated-untied', 'model.safetensors'],
  ])('%s (%s)', (name, file) => {
    let model: T5ForConditionalGeneration;
    const inputs = read<Inputs>(name, 'inputs.json');
    const expected = read<Expected>(name, 'expected.json');
    const tensors = () => ({
      inputIds: tf.tensor2d(inputs.input_ids, undefined, 'int32'),
      attentionMask: tf.tensor2d(inputs.attention_mask, undefined, 'int32'),
      labels: tf.tensor2d(inputs.labels, undefined, 'int32'),
    });

    beforeAll(async () => {
      model = await T5ForConditionalGeneration.fromPretrained(path.join(fixtures, name), { file });
    });
    afterAll(() => model.dispose());

    it('encoder states, logits and loss', () => {
      expectNoLeak(() => {
        const t = tensors();
        const out = model.forward(t);
        expectClose(out.encoderLastHiddenState, expected.encoder_last_hidden_state, { atol: 1e-4, rtol: 0, label: 'encoder' });
        expectClose(out.logits, expected.logits, { atol: 1e-4, rtol: 0, label: 'logits' });
        expect(Math.abs((out.loss as tf.Scalar).dataSync()[0]! - expected.loss)).toBeLessThan(1e-5);
        tf.dispose([out.logits, out.loss, out.encoderLastHiddenState, t.inputIds, t.attentionMask, t.labels]);
      });
    });

    it('gradients of the loss', () => {
      expectNoLeak(() => {
        const t = tensors();
        const params = new Map(model.namedParameters());
        const names = Object.keys(expected.grads);
        const vars = names.map((n) => {
          const v = params.get(n);
          if (!v) throw new Error(`no parameter ${n}`);
          return v;
        });
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(t);
          return out.loss as tf.Scalar;
        }, vars);
        for (const n of names) {
          const g = grads[n] ?? grads[params.get(n)!.name];
          expect(g, n).toBeDefined();
          expectClose(g!, expected.grads[n]!, { atol: 1e-5, rtol: 1e-3, label: `grad ${n}` });
        }
        tf.dispose([value, ...Object.values(grads)]);
        tf.dispose([t.inputIds, t.attentionMask, t.labels]);
      });
    });

    it('greedy generation (with and without the KV cache) equals HF, scores too', async () => {
      const t = tensors();
      const before = tf.memory().numTensors;
      const withCache = await generate(model, t.inputIds, t.attentionMask, { maxNewTokens: 10, outputScores: true });
      const noCache = await generate(model, t.inputIds, t.attentionMask, { maxNewTokens: 10, useCache: false });
      expect(tf.memory().numTensors).toBe(before);
      expect(withCache.sequences).toEqual(expected.generate.sequences);
      expect(noCache.sequences).toEqual(expected.generate.sequences);
      const steps = withCache.scores!;
      steps.forEach((rows, s) =>
        rows.forEach((row, i) => expectClose(row, expected.generate.scores[s]![i]!, { atol: 1e-4, rtol: 0, label: `score ${s}/${i}` })),
      );
      tf.dispose([t.inputIds, t.attentionMask, t.labels]);
    });
  });
});
