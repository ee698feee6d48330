// What the LoRA objectives share with the rest of TAGI-TS: the one LoRA default (peft's, in
// LORA_CONFIG_DEFAULTS) when no config is given, and the tokens a batch counts for throughput
// (source + target, as the hypernetwork's objectives count them).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { loraBankObjective } from './bank.js';
import { LORA_CONFIG_DEFAULTS, loraConfig } from './config.js';
import { type TokenizedExample, collate, disposeBatch, loraObjective, processedTokens } from './teacher.js';

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
    const bank = loraBankObjective({ model, examples: examples.map((e, i) => ({ ...e, group: i % 2 })), groups: 2, padId: 0, config: loraConfig({ r: 2 }), batchSize: 3 });
    for (const o of [single, bank] as const) {
      const batch = o.batch({ step: 0, micro: 0 });
      expect(o.tokens?.(batch as never)).toBe(16);
      o.release?.(batch as never);
    }
    single.adapter.dispose();
    bank.bank.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
