// What the LoRA objectives share with the rest of TAGI-TS: the one LoRA default (peft's, in
// LORA_CONFIG_DEFAULTS) when no config is given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { LORA_CONFIG_DEFAULTS, loraConfig } from './config.js';
import { type TokenizedExample, loraObjective } from './teacher.js';

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
});
