// What serving one task costs, concatenation against a generated adapter, where compute (not the cost of
// launching kernels) decides: the t5-small-lm-adapt shape (random weights), a "Def + 2 Pos" instruction of
// --instruction tokens, --instances inputs of --input tokens, greedy decoding of --new tokens, batches of
// --batch. Timed per instance, each method served task-major as a deployment serves one task:
//
//   concatenation   the instruction-concatenated model (its LoRA merged: the plain forward) on instruction + input
//   tagi-merged     the adapter generated once from the instruction, merged into the weights, the plain forward
//                   on the input alone with the instruction's states as the encoder prefix (concat fusion)
//   tagi-unmerged   the same adapter applied beside the weights (x·Wᵀ + s·(x·Aᵀ)·Bᵀ)
//
// The rounds alternate the methods (A B C A B C …) so a change in load hits all alike; the load average is
// printed before and after. The tiny demo model cannot show this: at 0.3 M parameters every method is bound
// by per-kernel overhead, and the per-task batches of merged serving cost more calls than the
// concatenated model's cross-task batches (DEMO-RESULTS.md).
//
//   pnpm --filter @tagi/trainer bench:serving [-- --backend=tensorflow --instruction=256 --input=64 --instances=32 --batch=16 --new=8 --rounds=2]
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { HyperNetwork, generateAdapter, taskPrefix } from '@tagi/hypernet';
import { createRandomT5, generate, makeT5Config } from '@tagi/t5-model';
import { initBackend } from '@tagi/tensor-core';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const backend = arg('backend', 'tensorflow');
const insLen = Number(arg('instruction', '256'));
const inLen = Number(arg('input', '64'));
const instances = Number(arg('instances', '32'));
const batch = Number(arg('batch', '16'));
const newTokens = Number(arg('new', '8'));
const rounds = Number(arg('rounds', '2'));
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const report = await initBackend({ backend: backend as 'tensorflow' });
console.log(`backend: ${report.backend}; load average before: ${load()}`);
console.log(
  `t5-small-lm-adapt shape (random weights), instruction ${insLen} tokens, input ${inLen}, ${instances} instances, batch ${batch}, ${newTokens} new tokens (greedy)`,
);

const config = makeT5Config({
  vocabSize: 32128,
  dModel: 512,
  dKv: 64,
  numHeads: 6,
  dFf: 1024,
  numLayers: 8,
  numDecoderLayers: 8,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0,
});
const model = createRandomT5(config, 1);
model.eval();
model.setTrainable(false);
// the LM-adapt presets' hypernetwork: rank 32 on q and v, concat fusion
const hn = new HyperNetwork(
  model,
  { rank: 32, loraAlpha: 32, hiddenDim: 256, moduleEmbeddingDim: 64, fusion: 'concat', targets: ['q', 'v'], maxInstructionLength: insLen, bHeadInitStd: 0.01 },
  { seed: 2 },
);

const ids = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + seed * 104729) % 30000));
const instruction = [...ids(insLen - 1, 0), 1];
const inputs = Array.from({ length: instances }, (_, k) => [...ids(inLen - 1, k + 1), 1]);

async function decodeBatches(rows: number[][], prefixOf: (n: number) => ReturnType<typeof taskPrefix>): Promise<void> {
  for (let i = 0; i < rows.length; i += batch) {
    const chunk = rows.slice(i, i + batch);
    const x = tf.tensor2d(chunk, undefined, 'int32');
    const mask = tf.onesLike(x);
    const prefix = prefixOf(chunk.length);
    const r = await generate(model, x, mask, { maxNewTokens: newTokens, numBeams: 1, ...(prefix ? { encoderPrefix: prefix } : {}) });
    if (r.sequences.length !== chunk.length) throw new Error('generate returned the wrong number of rows');
    tf.dispose([x, mask]);
    if (prefix) tf.dispose([prefix.states, prefix.mask]);
  }
}

const methods: Record<string, () => Promise<void>> = {
  concatenation: () =>
    decodeBatches(
      inputs.map((x) => [...instruction.slice(0, -1), ...x]),
      () => undefined,
    ),
  'tagi-merged': async () => {
    const task = generateAdapter(hn, instruction);
    task.adapter.merge(model, { restorable: true });
    try {
      await decodeBatches(inputs, (n) => taskPrefix(task, n));
    } finally {
      task.adapter.unmerge(model);
      task.dispose();
    }
  },
  'tagi-unmerged': async () => {
    const task = generateAdapter(hn, instruction);
    try {
      for (let i = 0; i < inputs.length; i += batch) {
        const chunk = inputs.slice(i, i + batch);
        const x = tf.tensor2d(chunk, undefined, 'int32');
        const mask = tf.onesLike(x);
        const prefix = taskPrefix(task, chunk.length);
        await generate(model, x, mask, { maxNewTokens: newTokens, numBeams: 1, adapters: task.adapter.deltas, ...(prefix ? { encoderPrefix: prefix } : {}) });
        tf.dispose([x, mask]);
        if (prefix) tf.dispose([prefix.states, prefix.mask]);
      }
    } finally {
      task.dispose();
    }
  },
};

// one untimed pass of each (kernel selection, allocator warm-up)
for (const f of Object.values(methods)) await f();
const times: Record<string, number[]> = Object.fromEntries(Object.keys(methods).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(methods)) {
    const t0 = performance.now();
    await f();
    (times[name] as number[]).push((performance.now() - t0) / instances);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ref = median(times['concatenation'] as number[]);
console.log('| method | ms / instance (median of rounds) | rounds | Rel. time |');
console.log('|---|---:|---|---:|');
for (const [name, xs] of Object.entries(times))
  console.log(`| ${name} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')} | ×${(median(xs) / ref).toFixed(2)} |`);
console.log(`load average after: ${load()}`);
hn.dispose();
model.dispose();
