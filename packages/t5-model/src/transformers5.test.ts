// Both transformers generations, read and written exactly: the transformers-5 goldens (copied from
// ../shared/golden/t5-transformers5 into __fixtures__, see NOTICE) load with their logits and greedy
// output; what we save carries a config whose every field has the JSON type transformers 5's T5Config
// declares (fixture dumped from transformers 5.18 by scripts/dump_t5config_fields.py) and that
// transformers 4's single `tie_word_embeddings` rule reads as the same model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '@tagi/tensor-core';
import { expectClose, testBackends, useBackend } from '@tagi/tensor-core/testing';
import { hfHeadLayout, makeT5Config, parseT5Config, stringifyT5Config, T5_FLOAT_FIELDS, type T5Config } from './config.js';
import { createRandomT5 } from './model.js';
import { T5ForConditionalGeneration, type T5FileWarning } from './node.js';

const fixtures = path.resolve(import.meta.dirname, '..', '__fixtures__');
const goldenDir = (name: string) => path.join(fixtures, 't5-transformers5', name);
interface Inputs {
  input_ids: number[][];
  attention_mask: number[][];
  decoder_input_ids: number[][];
}
interface Expected {
  logits: number[][][];
  greedy_sequences: number[][];
}
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 't5-transformers5-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function logitsOf(model: T5ForConditionalGeneration, inputs: Inputs): tf.Tensor3D {
  return tf.tidy(() => {
    const out = model.forward({
      inputIds: tf.tensor2d(inputs.input_ids, undefined, 'int32'),
      attentionMask: tf.tensor2d(inputs.attention_mask, undefined, 'int32'),
      decoderInputIds: tf.tensor2d(inputs.decoder_input_ids, undefined, 'int32'),
    });
    tf.dispose(out.encoderLastHiddenState);
    return out.logits;
  });
}

async function greedy(model: T5ForConditionalGeneration, inputs: Inputs, useCache: boolean): Promise<number[][]> {
  const ids = tf.tensor2d(inputs.input_ids, undefined, 'int32');
  const mask = tf.tensor2d(inputs.attention_mask, undefined, 'int32');
  try {
    return await model.generate(ids, mask, { maxNewTokens: 12, useCache });
  } finally {
    tf.dispose([ids, mask]);
  }
}

describe.each(testBackends())('transformers 5 checkpoints on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  describe.each([
    // [dir, separate head expected, warning codes expected]
    ['resaved-untied', true, ['lm-head-kept-separate']],
    ['native-v11', false, []],
  ] as const)('%s', (name, separate, codes) => {
    const inputs = readJson<Inputs>(path.join(goldenDir(name), 'inputs.json'));
    const expected = readJson<Expected>(path.join(goldenDir(name), 'expected.json'));
    let model: T5ForConditionalGeneration;
    const warnings: T5FileWarning[] = [];
    beforeAll(async () => {
      model = await T5ForConditionalGeneration.fromPretrained(goldenDir(name), { onWarning: (w) => warnings.push(w) });
    });
    afterAll(() => model.dispose());

    it('builds the head transformers 5 builds (file decides the head, scale_decoder_outputs the rescaling)', () => {
      expect(model.lm_head !== undefined).toBe(separate);
      expect(model.config.tieWordEmbeddings).toBe(!separate);
      expect(model.config.scaleDecoderOutputs).toBe(false);
      expect(warnings.map((w) => w.code)).toEqual(codes);
      for (const w of warnings) expect(w.message).toMatch(/tie_word_embeddings: true.*lm_head\.weight/);
    });

    it('logits within 1e-4 of transformers 5.18, greedy equal with and without the cache', async () => {
      const before = tf.memory().numTensors;
      const logits = logitsOf(model, inputs);
      expectClose(logits, expected.logits, { atol: 1e-4, rtol: 0, label: `${name} logits` });
      logits.dispose();
      expect(await greedy(model, inputs, true)).toEqual(expected.greedy_sequences);
      expect(await greedy(model, inputs, false)).toEqual(expected.greedy_sequences);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('saved and reloaded: same head, same logits; the file is laid out for transformers 4 and 5', async () => {
      const out = path.join(tmp, `${backend}-${name}`);
      await model.savePretrained(out);
      const back = await T5ForConditionalGeneration.fromPretrained(out, { onWarning: (w) => expect.fail(w.message) });
      expect(back.config).toEqual(model.config);
      expect(back.lm_head !== undefined).toBe(separate);
      const a = logitsOf(model, inputs);
      const b = logitsOf(back, inputs);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([a, b]);
      back.dispose();
      const json = readJson<Record<string, unknown>>(path.join(out, 'config.json'));
      const keys = [...parseSafetensors(new Uint8Array(fs.readFileSync(path.join(out, 'model.safetensors')))).tensors.entries()];
      // transformers 4 cannot say "tied head without rescaling": it gets tie false and an lm_head equal to shared
      expect(json['tie_word_embeddings']).toBe(false);
      expect(json['scale_decoder_outputs']).toBe(false);
      const file = new Map(keys);
      expect(file.has('lm_head.weight')).toBe(true);
      const same = Array.from(file.get('lm_head.weight')!.dataSync()).every((x, i) => x === file.get('shared.weight')!.dataSync()[i]);
      expect(same).toBe(!separate);
      tf.dispose(keys.map(([, t]) => t));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The written config.json, token by token: JSON.parse cannot tell `1` from `1.0`, Python can.

type JsonKind = 'int' | 'float' | 'string' | 'bool' | 'null' | 'array' | 'object';

/** Top-level keys of a JSON object text with the kind of each value literal (numbers: int vs float). */
function topLevelKinds(text: string): Map<string, JsonKind> {
  let i = 0;
  const ws = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const str = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) throw new Error(`string expected at ${i}`);
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (): JsonKind => {
    ws();
    const c = text[i];
    if (c === '"') return (str(), 'string');
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) return (i++, c === '{' ? 'object' : 'array');
      for (;;) {
        if (c === '{') {
          ws();
          str();
          ws();
          i++; // ':'
        }
        value();
        ws();
        if (text[i++] === close) return c === '{' ? 'object' : 'array';
      }
    }
    const m = /^(true|false|null|-?\d+(\.\d+)?([eE][-+]?\d+)?)/.exec(text.slice(i));
    if (!m) throw new Error(`value expected at ${i}: ${text.slice(i, i + 20)}`);
    i += m[0].length;
    if (m[1] === 'true' || m[1] === 'false') return 'bool';
    if (m[1] === 'null') return 'null';
    return m[2] || m[3] ? 'float' : 'int';
  };
  const kinds = new Map<string, JsonKind>();
  ws();
  if (text[i++] !== '{') throw new Error('object expected');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    ws();
    i++; // ':'
    kinds.set(key, value());
    ws();
    if (text[i] === ',') i++;
  }
  return kinds;
}

/** JSON kinds a Python annotation accepts under huggingface_hub's `@strict` (no int for float). */
function acceptedKinds(pyType: string): Set<JsonKind> {
  const out = new Set<JsonKind>();
  // split on top-level '|' only (Literal[...] and dict[...] contain commas, not pipes)
  for (const alt of pyType.split('|').map((s) => s.trim())) {
    if (alt === 'int') out.add('int');
    else if (alt === 'float') out.add('float');
    else if (alt === 'bool') out.add('bool');
    else if (alt === 'str' || alt.startsWith('Literal[')) out.add('string');
    else if (alt === 'None') out.add('null');
    else if (alt.startsWith('list[')) out.add('array');
    else if (alt.startsWith('dict[')) out.add('object');
    else if (alt !== 'torch.dtype') throw new Error(`unmapped Python type '${alt}' in '${pyType}'`);
  }
  return out;
}

const fieldList = readJson<{ source: string; fields: { name: string; type: string }[] }>(path.join(fixtures, 'transformers5', 't5config-fields.json'));

describe('config.json we write', () => {
  const small = { vocabSize: 40, dModel: 8, dKv: 2, numHeads: 2, dFf: 8, numLayers: 1, relativeAttentionNumBuckets: 4 };
  const configs: [string, T5Config][] = [
    ['defaults (v1.0: tied, rescaled)', makeT5Config(small)],
    [
      'v1.1 untied, dropout 0, initializer 1',
      makeT5Config({ ...small, feedForwardProj: 'gated-gelu', tieWordEmbeddings: false, dropoutRate: 0, initializerFactor: 1 }),
    ],
    [
      'tied without rescaling (transformers 5 v1.1)',
      makeT5Config({ ...small, feedForwardProj: 'gated-gelu', scaleDecoderOutputs: false, layerNormEpsilon: 1e-6 }),
    ],
    ['separate head, rescaled', makeT5Config({ ...small, tieWordEmbeddings: false, scaleDecoderOutputs: true, initializerFactor: 2 })],
    ['read from the transformers 4 golden', parseT5Config(readJson(path.join(fixtures, 't5', 'tiny-gated-untied', 'config.json')))],
    ['read from a transformers 5 golden', parseT5Config(readJson(path.join(goldenDir('native-v11'), 'config.json')))],
  ];

  it('the field list fixture is transformers 5 T5Config (28 typed fields, floats among them)', () => {
    expect(fieldList.source).toMatch(/^transformers 5\.\d+/);
    expect(fieldList.fields.length).toBe(28);
    // the writer's float set is exactly the fields whose type admits float
    expect(new Set(fieldList.fields.filter((f) => acceptedKinds(f.type).has('float')).map((f) => f.name))).toEqual(T5_FLOAT_FIELDS);
  });

  it.each(configs)('%s: every typed field has a JSON type transformers 5 accepts', (_label, c) => {
    const kinds = topLevelKinds(stringifyT5Config(c));
    const checked = fieldList.fields.filter((f) => kinds.has(f.name));
    expect(checked.map((f) => f.name)).toEqual(
      expect.arrayContaining(['d_model', 'dropout_rate', 'layer_norm_epsilon', 'initializer_factor', 'vocab_size', 'eos_token_id']),
    );
    for (const f of checked) expect([f.name, acceptedKinds(f.type).has(kinds.get(f.name)!)]).toEqual([f.name, true]);
    expect(kinds.get('initializer_factor')).toBe('float');
  });

  it.each(configs)('%s: parses back to the same config; transformers 4 rules read the same head and scaling', (_label, c) => {
    const text = stringifyT5Config(c);
    const json = JSON.parse(text) as Record<string, unknown>;
    const { extra: _e1, ...back } = parseT5Config(json);
    const { extra: _e2, ...orig } = c;
    const layout = hfHeadLayout(c);
    // what we re-read equals the model except where transformers 4 forces a head copy into the file
    expect(back).toEqual({ ...orig, tieWordEmbeddings: layout.tieWordEmbeddings });
    // transformers 4: tie_word_embeddings true = head is shared and rescaled; false = own lm_head, no rescaling
    const v4Tie = json['tie_word_embeddings'] !== false;
    if (layout.transformers4) {
      expect(v4Tie).toBe(c.scaleDecoderOutputs);
      expect(layout.lmHeadInFile === 'none').toBe(v4Tie);
    }
    // transformers 5: scale_decoder_outputs present, head decided by the file
    expect(json['scale_decoder_outputs']).toBe(c.scaleDecoderOutputs);
    expect(json['dtype']).toBe('float32');
  });

  it('a model saved with a separate head and rescaling warns that transformers 4 cannot load it', async () => {
    await useBackend('cpu');
    const m = createRandomT5(makeT5Config({ ...small, tieWordEmbeddings: false, scaleDecoderOutputs: true }), 1);
    const warnings: T5FileWarning[] = [];
    const { saveT5 } = await import('./node.js');
    await saveT5(m, path.join(tmp, 'sep-scaled'), { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).toEqual(['not-transformers4']);
    const back = await T5ForConditionalGeneration.fromPretrained(path.join(tmp, 'sep-scaled'));
    expect(back.config.scaleDecoderOutputs).toBe(true);
    expect(back.lm_head).toBeDefined();
    m.dispose();
    back.dispose();
  });

  it('config untied but no lm_head.weight in the file: tied to shared, with a warning naming both', async () => {
    await useBackend('cpu');
    const src = path.join(fixtures, 't5', 'tiny-gated-untied');
    const tensors = parseSafetensors(new Uint8Array(fs.readFileSync(path.join(src, 'model.safetensors')))).tensors;
    tensors.get('lm_head.weight')!.dispose();
    tensors.delete('lm_head.weight');
    const d = path.join(tmp, 'untied-no-head');
    fs.mkdirSync(d);
    fs.copyFileSync(path.join(src, 'config.json'), path.join(d, 'config.json'));
    fs.writeFileSync(path.join(d, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
    tf.dispose([...tensors.values()]);
    const warnings: T5FileWarning[] = [];
    const m = await T5ForConditionalGeneration.fromPretrained(d, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).toEqual(['lm-head-tied-to-shared']);
    expect(warnings[0]!.message).toMatch(/tie_word_embeddings: false.*no lm_head\.weight/);
    expect(m.lm_head).toBeUndefined();
    expect(m.config.scaleDecoderOutputs).toBe(false);
    m.dispose();
  });
});
