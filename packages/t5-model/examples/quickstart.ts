// Runnable in seconds on CPU: prune the T5 vocabulary to a small corpus, build a seeded random T5 on
// it, save and reload it as an HF directory, generate with beam search and score two candidate answers.
// Run: npx tsx examples/quickstart.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@tagi/tensor-core';
import { PrunedTokenizer, buildVocabMap, createRandomT5, makeT5Config, padBatch } from '../src/index.js';
import { T5ForConditionalGeneration, loadDefaultT5Tokenizer, loadVocabMap, savePretrained } from '../src/node.js';

export async function quickstart(): Promise<{ generated: string[]; scores: number[] }> {
  const base = loadDefaultT5Tokenizer();
  const corpus = ['Is the sentiment positive? I loved this film.', 'yes', 'no'];
  const map = buildVocabMap(
    corpus.map((t) => base.encode(t)),
    { originalVocabSize: 32128 },
  );
  const tok = new PrunedTokenizer(base, map);
  const config = makeT5Config({
    vocabSize: map.size,
    dModel: 32,
    dKv: 8,
    numHeads: 4,
    dFf: 64,
    numLayers: 2,
    relativeAttentionNumBuckets: 8,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 't5-quickstart-'));
  const random = createRandomT5(config, 42);
  await savePretrained(random, dir, { vocabMap: map });
  random.dispose();

  const model = await T5ForConditionalGeneration.fromPretrained(dir);
  const pruned = new PrunedTokenizer(base, (await loadVocabMap(dir))!);
  const src = padBatch([pruned.encode(corpus[0]!)], pruned.padTokenId);
  const ids = tf.tensor2d(src.inputIds, undefined, 'int32');
  const mask = tf.tensor2d(src.attentionMask, undefined, 'int32');
  const out = await model.generate(ids, mask, { maxNewTokens: 5, numBeams: 2 });
  // rank classification: the same input twice, one candidate answer per row
  const both = tf.concat([ids, ids]) as tf.Tensor2D;
  const bothMask = tf.concat([mask, mask]) as tf.Tensor2D;
  const yes = tok.encode('yes');
  const no = tok.encode('no');
  const width = Math.max(yes.length, no.length);
  const labels = tf.tensor2d(
    [yes, no].map((r) => [...r, ...new Array<number>(width - r.length).fill(-100)]),
    undefined,
    'int32',
  );
  const scored = await model.scoreTargets({ inputIds: both, attentionMask: bothMask, labels });
  tf.dispose([ids, mask, both, bothMask, labels]);
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  return { generated: pruned.decodeBatch(out), scores: scored.mean };
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  await initBackend({ backend: 'cpu' });
  console.log(await quickstart());
}
