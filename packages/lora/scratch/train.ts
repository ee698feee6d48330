import * as tf from '@tensorflow/tfjs-core';
import { embeddedSuite } from '@tagi/datasets';
import { loadDefaultT5Tokenizer } from '@tagi/t5-model/node';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { useBackend } from '@tagi/tensor-core/testing';
import { trainLoraTeacher } from '../src/node.js';
import { loraConfig } from '../src/config.js';
await useBackend((process.env.B as 'wasm') ?? 'wasm');
const s = embeddedSuite({ trainInstances: 8 });
const recs = s.train.slice(0, 2).flatMap((t) => t.instances.slice(0, 3).map((i) => ({ input: `${t.definition[0]} ${i.input}`, output: i.outputs[0]! })));
const tok = loadDefaultT5Tokenizer();
const model = createRandomT5(makeT5Config({ vocabSize: 32128, dModel: 32, dKv: 8, numHeads: 4, dFf: 64, numLayers: 2, numDecoderLayers: 2, feedForwardProj: 'gated-gelu', tieWordEmbeddings: false, dropoutRate: 0 }), 0);
const t0 = Date.now();
const before = tf.memory().numTensors;
const res = await trainLoraTeacher({ model, tokenizer: tok, records: recs, loraConfig: loraConfig({ r: 8, loraAlpha: 16, targetModules: ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'] }), steps: Number(process.env.S ?? 80), batchSize: 6, lr: Number(process.env.LR ?? 1e-2), schedule: 'constant', seed: 1, onLog: (e) => { if (e.step % 10 === 0) console.log(e.step, e.loss.toFixed(3), e.gradNorm.toFixed(2)); } });
console.log('ms', Date.now() - t0, 'after train', tf.memory().numTensors - before, 'adapter', res.adapter.size * 2);
model.eval();
for (const r of recs) {
  const ids = tf.tensor2d([tok.encode(r.input)], undefined, 'int32');
  const out = await model.generate(ids, undefined, { maxNewTokens: 5, adapters: res.adapter.deltas });
  console.log(JSON.stringify(r.output), JSON.stringify(tok.decode(out[0]!, { skipSpecialTokens: true })));
  ids.dispose();
}
res.adapter.dispose();
console.log('leak', tf.memory().numTensors - before);
