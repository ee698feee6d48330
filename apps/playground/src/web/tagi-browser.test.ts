// The in-page loader's model building, run in Node on the cpu backend (the page itself is tested in
// Chromium by test/in-page.test.ts): a T5 rebuilt from safetensors bytes equals the model written.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, parseSafetensors, serializeSafetensors } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config, t5ConfigToJson } from '@tagi/t5-model';
import { beforeAll, describe, expect, it } from 'vitest';
import { InPageError, t5FromTensors } from './tagi-browser';

const config = makeT5Config({
  vocabSize: 64,
  dModel: 8,
  dKv: 4,
  numHeads: 2,
  dFf: 16,
  numLayers: 1,
  relativeAttentionNumBuckets: 8,
  relativeAttentionMaxDistance: 16,
});

function logitsOf(model: ReturnType<typeof createRandomT5>): Float32Array {
  const logits = tf.tidy(() => {
    const inputIds = tf.tensor2d([[5, 6, 7, 1]], [1, 4], 'int32');
    const decoderInputIds = tf.tensor2d([[0, 9, 3]], [1, 3], 'int32');
    return model.forward({ inputIds, decoderInputIds }).logits; // [1, 3, vocab]
  });
  const data = logits.dataSync() as Float32Array;
  logits.dispose();
  return data;
}

describe('t5FromTensors', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('rebuilds the model from safetensors bytes: the same logits, no leaked tensors', () => {
    const original = createRandomT5(config, 3).eval(); // no dropout: compare deterministic forwards
    const bytes = serializeSafetensors(new Map(original.namedParameters()));
    const expected = logitsOf(original);
    original.dispose();
    const before = tf.memory().numTensors;
    const rebuilt = t5FromTensors(t5ConfigToJson(config), parseSafetensors(bytes).tensors, 'config.json');
    expect(Array.from(logitsOf(rebuilt))).toEqual(Array.from(expected));
    rebuilt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts the embedding under an alias key that HF writes for tied embeddings', () => {
    const original = createRandomT5(config, 4).eval();
    const params = new Map(original.namedParameters().map(([k, v]) => [k === 'shared.weight' ? 'encoder.embed_tokens.weight' : k, v as tf.Tensor]));
    const bytes = serializeSafetensors(params);
    const expected = logitsOf(original);
    original.dispose();
    const rebuilt = t5FromTensors(t5ConfigToJson(config), parseSafetensors(bytes).tensors, 'config.json');
    expect(Array.from(logitsOf(rebuilt))).toEqual(Array.from(expected));
    rebuilt.dispose();
  });

  it('refuses missing keys, wrong shapes and a bad config, naming them, without leaking', () => {
    const original = createRandomT5(config, 5);
    const params = new Map(original.namedParameters().map(([k, v]) => [k, v as tf.Tensor]));
    const withoutQ = new Map(params);
    withoutQ.delete('encoder.block.0.layer.0.SelfAttention.q.weight');
    const missingBytes = serializeSafetensors(withoutQ);
    const wrong = new Map(params);
    wrong.set('decoder.final_layer_norm.weight', tf.zeros([3]));
    const wrongBytes = serializeSafetensors(wrong);
    const goodBytes = serializeSafetensors(params);
    tf.dispose(wrong.get('decoder.final_layer_norm.weight')!);
    original.dispose();
    const before = tf.memory().numTensors;
    expect(() => t5FromTensors(t5ConfigToJson(config), parseSafetensors(missingBytes).tensors, '/f/config.json')).toThrow(InPageError);
    expect(() => t5FromTensors(t5ConfigToJson(config), parseSafetensors(missingBytes).tensors, '/f/config.json')).toThrow(
      /^\/f\/config\.json: .*missing keys: encoder\.block\.0\.layer\.0\.SelfAttention\.q\.weight/,
    );
    expect(() => t5FromTensors(t5ConfigToJson(config), parseSafetensors(wrongBytes).tensors, 'c')).toThrow(
      /decoder\.final_layer_norm\.weight \(expected \[8\], got \[3\]\)/,
    );
    expect(() => t5FromTensors({ ...t5ConfigToJson(config), d_model: 'wide' }, parseSafetensors(goodBytes).tensors, 'c')).toThrow(/d_model/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
