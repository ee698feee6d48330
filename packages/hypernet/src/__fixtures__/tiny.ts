// Test fixtures: a tiny random T5 (HF layout, gated-gelu, untied) on the cpu backend.
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { useBackend } from '@tagi/tensor-core/testing';

export async function useCpu(): Promise<void> {
  await useBackend('cpu');
}

export function tinyT5(seed = 1, overrides: Parameters<typeof makeT5Config>[0] = {}): T5ForConditionalGeneration {
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
    ...overrides,
  });
  const model = createRandomT5(config, seed);
  model.eval();
  model.setTrainable(false);
  return model;
}
