import { describe, expect, it } from 'vitest';
import { parseT5Config, T5ConfigError, t5ConfigToJson, parseFeedForwardProj } from './config.js';

describe('parseT5Config', () => {
  it('reads an HF v1.0 file (no tie_word_embeddings => tied, num_decoder_layers from num_layers)', () => {
    const c = parseT5Config({ vocab_size: 256, d_model: 32, num_layers: 3, feed_forward_proj: 'relu', foo: 1 });
    expect(c.tieWordEmbeddings).toBe(true);
    expect(c.scaleDecoderOutputs).toBe(true);
    expect(c.numDecoderLayers).toBe(3);
    expect(c.denseActFn).toBe('relu');
    expect(c.isGatedAct).toBe(false);
    expect(c.extra).toEqual({ foo: 1 });
  });

  it.each([
    // [file fields, scaleDecoderOutputs]: transformers 5's explicit flag wins; absent, transformers 4's rule
    [{}, true],
    [{ tie_word_embeddings: false }, false],
    [{ tie_word_embeddings: true, scale_decoder_outputs: false }, false],
    [{ tie_word_embeddings: false, scale_decoder_outputs: true }, true],
  ] as const)('scale_decoder_outputs for %j is %s', (fields, scale) => {
    expect(parseT5Config(fields).scaleDecoderOutputs).toBe(scale);
    expect(() => parseT5Config({ scale_decoder_outputs: 1 })).toThrow(/scale_decoder_outputs: expected a boolean/);
  });

  it.each([
    ['relu', 'relu', false],
    ['gated-gelu', 'gelu_new', true],
    ['gated-silu', 'silu', true],
    ['gelu_new', 'gelu_new', false],
    ['gated-gelu_new', 'gelu_new', true],
    ['gelu', 'gelu', false],
  ] as const)('feed_forward_proj %s -> %s gated=%s', (proj, act, gated) => {
    expect(parseFeedForwardProj(proj)).toEqual({ act, gated });
    const c = parseT5Config({ feed_forward_proj: proj });
    expect(c.denseActFn).toBe(act);
    expect(c.isGatedAct).toBe(gated);
  });

  it.each(['gated-gelu-new', 'foo-gelu', 'swishy', 'gated-'])('rejects feed_forward_proj %s', (proj) => {
    expect(() => parseT5Config({ feed_forward_proj: proj })).toThrow(/feed_forward_proj/);
  });

  it('names every bad field in one error', () => {
    let err: unknown;
    try {
      parseT5Config({ d_model: -1, num_heads: 2.5, tie_word_embeddings: 'yes', feed_forward_proj: 'bogus', vocab_size: 10, eos_token_id: 12 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(T5ConfigError);
    const p = (err as T5ConfigError).problems.join('\n');
    for (const key of ['d_model', 'num_heads', 'tie_word_embeddings', 'feed_forward_proj', 'eos_token_id']) expect(p).toContain(key);
    expect(() => parseT5Config([1])).toThrow(T5ConfigError);
  });

  it('round-trips through the writer with sorted keys and unknown keys kept', () => {
    const src = {
      vocab_size: 300,
      d_model: 48,
      num_layers: 3,
      num_decoder_layers: 2,
      feed_forward_proj: 'gated-gelu',
      tie_word_embeddings: false,
      transformers_version: '4.57.6',
    };
    const c = parseT5Config(src);
    const json = t5ConfigToJson(c);
    expect(Object.keys(json)).toEqual(Object.keys(json).sort());
    expect(json['transformers_version']).toBe('4.57.6');
    expect(parseT5Config(json)).toEqual(
      c.extra['model_type'] === undefined
        ? { ...c, extra: { ...c.extra, architectures: ['T5ForConditionalGeneration'], dtype: 'float32', is_encoder_decoder: true, model_type: 't5' } }
        : c,
    );
  });
});
