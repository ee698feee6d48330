// What the LoRA objectives share with the rest of TAGI-TS: the one LoRA default (peft's, in
// LORA_CONFIG_DEFAULTS) when no config is given, and the tokens a batch counts for throughput
// (source + target, as the hypernetwork's objectives count them).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, fit } from '@tagi/tensor-core';
import { useBackend } from '@tagi/tensor-core/testing';
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { loraBankObjective } from './bank.js';
import { LORA_CONFIG_DEFAULTS, loraConfig } from './config.js';
import { type TokenizedExample, collate, disposeBatch, loraObjective, processedTokens, splitExamples } from './teacher.js';

let model: T5ForConditionalGeneration;
beforeAll(async () => {
  await useBackend('cpu');
  model = createRandomT5(makeT5Config({ vocabSize: 16, dModel: 8, dKv: 4, numHeads: 2, dFf: 8, numLayers: 1, numDecoderLayers: 1, dropoutRate: 0 }), 0);
});
afterAll(() => model.dispose());

const examples: TokenizedExample[] = [
  { input: [3, 4, 5, 1], target: [6, 1] },
  { input: [7, 1], target: [8, 9, 10, 1] },
  { input: [11, 12, 1], target: [1] },
];

describe('LoRA objectives', () => {
  it("default to peft's LoRA config (r 8, alpha 8, dropout 0 on T5's q, v), the one in LORA_CONFIG_DEFAULTS", () => {
    expect(LORA_CONFIG_DEFAULTS).toMatchObject({ r: 8, loraAlpha: 8, loraDropout: 0, targetModules: null });
    const o = loraObjective({ model, examples, padId: 0 });
    try {
      expect(o.adapter.config).toEqual(loraConfig());
      expect(o.adapter.scaling).toBe(1);
      expect(o.adapter.paths.map((p) => p.split('.').pop())).toEqual(['q', 'v', 'q', 'v', 'q', 'v']);
    } finally {
      o.adapter.dispose();
    }
  });

  it('count the tokens a batch makes the model process: source + target, padding excluded', () => {
    const b = collate(examples, 0);
    try {
      expect(b.tokens).toBe(7); // target tokens: still the weight of the batch's mean loss
      expect(b.inputTokens).toBe(9);
      expect(processedTokens(b)).toBe(16);
      expect(b.inputIds.shape).toEqual([3, 4]); // padding is not counted: 3 × 4 source positions hold 9 tokens
    } finally {
      disposeBatch(b);
    }
    const before = tf.memory().numTensors;
    const single = loraObjective({ model, examples, padId: 0, config: loraConfig({ r: 2 }), batchSize: 3 });
    const bank = loraBankObjective({
      model,
      examples: examples.map((e, i) => ({ ...e, group: i % 2 })),
      groups: 2,
      padId: 0,
      config: loraConfig({ r: 2 }),
      batchSize: 3,
    });
    for (const o of [single, bank] as const) {
      const batch = o.batch({ step: 0, micro: 0 });
      expect(o.tokens?.(batch as never)).toBe(16);
      o.release?.(batch as never);
    }
    single.adapter.dispose();
    bank.bank.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("split a batch into parts whose token shares add the parts' losses up to the batch's", () => {
    const parts = splitExamples(examples, 0, 2);
    try {
      expect(parts.map((p) => [p.start, p.rows, p.batch.tokens, p.batch.inputTokens])).toEqual([
        [0, 2, 6, 6],
        [2, 1, 1, 3],
      ]);
      expect(parts.map((p) => p.weight)).toEqual([6 / 7, 1 / 7]);
      const whole = collate(examples, 0);
      const loss = (b: typeof whole) =>
        tf.tidy(() => (model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels }).loss as tf.Scalar).dataSync()[0] as number);
      expect(Math.abs(parts.reduce((a, p) => a + p.weight * loss(p.batch), 0) - loss(whole))).toBeLessThan(1e-6);
      disposeBatch(whole);
    } finally {
      for (const p of parts) disposeBatch(p.batch);
    }
    expect(() => splitExamples(examples, 0, 0)).toThrow(/microBatchSize/);
  });

  it.each([1, 2])("train with fit's microBatchSize %i exactly as with the whole batch (single adapter and bank)", async (size) => {
    const before = tf.memory().numTensors;
    const train = async (kind: 'single' | 'bank', micro: number | undefined) => {
      const config = loraConfig({ r: 2, targetModules: ['q', 'k', 'v', 'o'] });
      const o =
        kind === 'single'
          ? loraObjective({ model, examples, padId: 0, config, batchSize: 3, seed: 5 })
          : loraBankObjective({ model, examples: examples.map((e, i) => ({ ...e, group: i % 2 })), groups: 2, padId: 0, config, batchSize: 3, seed: 5 });
      const params = new Map(o.params);
      const optimizer = new AdamW(params, { lr: 1e-2 });
      await fit({ ...o, name: `split-${kind}`, params, optimizer, steps: 3, maxGradNorm: 1, ...(micro !== undefined ? { microBatchSize: micro } : {}) });
      const weights = [...params].map(([k, v]) => [k, Array.from(v.dataSync())] as const);
      optimizer.dispose();
      if ('bank' in o) o.bank.dispose();
      else o.adapter.dispose();
      return weights;
    };
    for (const kind of ['single', 'bank'] as const) {
      const whole = await train(kind, undefined);
      const split = await train(kind, size);
      let worst = 0;
      let moved = 0;
      whole.forEach(([k, w], i) => {
        expect(split[i]?.[0]).toBe(k);
        w.forEach((x, j) => {
          worst = Math.max(worst, Math.abs(x - (split[i]?.[1][j] as number)));
          if (k.includes('lora_B')) moved = Math.max(moved, Math.abs(x));
        });
      });
      expect(worst).toBeLessThan(1e-5);
      expect(moved).toBeGreaterThan(1e-3); // the LoRA B factors left zero: the comparison is between trained adapters
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
