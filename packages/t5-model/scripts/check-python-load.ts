// Does transformers (Python) load what we save, with equal logits? Not part of the test suite (the
// product and its tests never need Python): a developer check against the reference stack.
// For each head layout (v1.0 tied + rescaled, v1.1 untied, transformers-5 v1.1 = tied without rescaling,
// a transformers-5 re-saved untied file, a separate head with rescaling) it loads or builds the model,
// saves it with savePretrained, records our logits and greedy output, then runs
// scripts/check_transformers_load.py (transformers' from_pretrained on the same directories) and prints
// the largest logit difference per case.
// Run: npx tsx scripts/check-python-load.ts [--python /work/venv/bin/python] [--keep DIR]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config } from '../src/index.js';
import { T5ForConditionalGeneration, saveT5 } from '../src/node.js';
import type { T5ForConditionalGeneration as BaseT5 } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', '__fixtures__');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const python = arg('--python') ?? process.env['TAGI_PYTHON'] ?? (fs.existsSync('/work/venv/bin/python') ? '/work/venv/bin/python' : 'python3');
const out = arg('--keep') ?? fs.mkdtempSync(path.join(os.tmpdir(), 't5-python-load-'));

const inputs = JSON.parse(fs.readFileSync(path.join(fixtures, 't5-transformers5', 'native-v11', 'inputs.json'), 'utf8')) as {
  input_ids: number[][];
  attention_mask: number[][];
  decoder_input_ids: number[][];
};

async function record(name: string, model: BaseT5): Promise<void> {
  const dir = path.join(out, name);
  model.eval(); // random models start in training mode (dropout)
  await saveT5(model, dir);
  // the golden inputs folded into this case's vocabulary (the v1.0 golden has 256 ids)
  const v = model.config.vocabSize;
  const x = {
    ...inputs,
    input_ids: inputs.input_ids.map((r) => r.map((id) => id % v)),
    decoder_input_ids: inputs.decoder_input_ids.map((r) => r.map((id) => id % v)),
  };
  const ids = tf.tensor2d(x.input_ids, undefined, 'int32');
  const mask = tf.tensor2d(x.attention_mask, undefined, 'int32');
  const dec = tf.tensor2d(x.decoder_input_ids, undefined, 'int32');
  const logits = tf.tidy(() => model.forward({ inputIds: ids, attentionMask: mask, decoderInputIds: dec }).logits.arraySync());
  const greedy = await model.generate(ids, mask, { maxNewTokens: 12 });
  tf.dispose([ids, mask, dec]);
  fs.writeFileSync(
    path.join(dir, 'ours.json'),
    JSON.stringify({ inputs: x, logits, greedy_sequences: greedy, has_lm_head: model.lm_head !== undefined, scale: model.config.scaleDecoderOutputs }),
  );
  model.dispose();
}

await initBackend({ backend: 'cpu' });
await record('v10-tied', await T5ForConditionalGeneration.fromPretrained(path.join(fixtures, 't5', 'tiny-relu-tied')));
await record('v11-untied', await T5ForConditionalGeneration.fromPretrained(path.join(fixtures, 't5', 'tiny-gated-untied')));
await record('t5v5-native-v11', await T5ForConditionalGeneration.fromPretrained(path.join(fixtures, 't5-transformers5', 'native-v11')));
await record('t5v5-resaved-untied', await T5ForConditionalGeneration.fromPretrained(path.join(fixtures, 't5-transformers5', 'resaved-untied')));
const small = {
  vocabSize: 300,
  dModel: 32,
  dKv: 8,
  numHeads: 4,
  dFf: 48,
  numLayers: 2,
  relativeAttentionNumBuckets: 8,
  relativeAttentionMaxDistance: 20,
  dropoutRate: 0.1,
  initializerFactor: 1,
};
await record('random-separate-scaled', createRandomT5(makeT5Config({ ...small, tieWordEmbeddings: false, scaleDecoderOutputs: true }), 7));
await record('random-tied-unscaled', createRandomT5(makeT5Config({ ...small, feedForwardProj: 'gated-silu', scaleDecoderOutputs: false }), 8));

console.log(`saved to ${out}; loading with ${python}`);
try {
  execFileSync(python, [path.join(here, 'check_transformers_load.py'), out], { stdio: 'inherit' });
} finally {
  if (!arg('--keep')) fs.rmSync(out, { recursive: true, force: true });
}
