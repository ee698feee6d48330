// Where the tensor memory of a LoRA training step goes (tfjs's own accounting, tf.profile): the live tensor
// bytes at the step's peak, the forward's share (what the tape keeps alive until the backward ends), and the
// kernels that created the bytes alive at the peak, grouped by kernel name with their output shapes.
//
//   npx tsx bench/train-memory.ts [--shape t5-small-lm-adapt|small] [--backend tensorflow] [--micro N] [--recompute] [--tfjs-grads]
// (--tfjs-grads: tf.variableGrads, which keeps every saved tensor and gradient to the end of the backward)
import * as tf from '@tensorflow/tfjs-core';
import { leanVariableGrads, type LowRankDelta } from '@tagi/tensor-core';
import { useBackend, type TestBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config } from '../src/index.js';
import { flag, RANK, SHAPES, str, type ShapeName } from './shapes.js';

const shapeName = str('shape', 't5-small-lm-adapt') as ShapeName;
const shape = SHAPES[shapeName];
await useBackend(str('backend', 'tensorflow') as TestBackend);
const micro = Number(str('micro', String(shape.batch)));
const config = makeT5Config({
  vocabSize: shape.vocab,
  dModel: shape.dModel,
  dKv: shape.dKv,
  numHeads: shape.numHeads,
  dFf: shape.dFf,
  numLayers: shape.layers,
  numDecoderLayers: shape.layers,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0,
});
const model = createRandomT5(config, 0).eval();
model.freezeBase();
if (flag('recompute') !== undefined) model.setRecomputeBlocks(true);
const ids = (rows: number, cols: number) =>
  tf.tensor2d(
    Array.from({ length: rows * cols }, (_, i) => 3 + ((i * 7919) % 32000)),
    [rows, cols],
    'int32',
  );
const inputIds = ids(micro, shape.src);
const attentionMask = tf.onesLike(inputIds) as tf.Tensor2D;
const labels = ids(micro, shape.tgt);
const adapters = new Map<string, LowRankDelta>();
const vars: tf.Variable[] = [];
for (const [p] of model.namedModules()) {
  if (!/(SelfAttention|EncDecAttention)\.(q|v)$/.test(p)) continue;
  const A = tf.variable(tf.randomNormal([RANK, config.dModel], 0, 0.02));
  const B = tf.variable(tf.randomNormal([config.numHeads * config.dKv, RANK], 0, 0.02));
  vars.push(A, B);
  adapters.set(p, { A, B, scaling: 16 / RANK });
}
const MB = (b: number) => (b / 2 ** 20).toFixed(1);
const base = tf.memory().numBytes;
// tf.profile hands back one engine-owned object per call (the next call overwrites it): copy what is read
const fwdPeak = (await tf.profile(() => tf.tidy(() => void model.forward({ inputIds, attentionMask, labels, adapters }).loss!.dataSync()))).peakBytes;
const rssAfterForward = process.resourceUsage().maxRSS / 1024;
const step = await tf.profile(() => {
  const f = () => model.forward({ inputIds, attentionMask, labels, adapters }).loss!;
  const { value, grads } = flag('tfjs-grads') !== undefined ? tf.variableGrads(f, vars) : leanVariableGrads(f, vars);
  tf.dispose([value, ...Object.values(grads)]);
});
console.log(`${shapeName}, batch ${micro}: weights and inputs ${MB(base)} MB`);
console.log(`forward without a tape: live tensor bytes peak at ${MB(fwdPeak)} MB; peak RSS so far ${Math.round(rssAfterForward)} MB`);
console.log(
  `training step${flag('recompute') !== undefined ? ' (blocks recomputed)' : ''}: live tensor bytes peak at ${MB(step.peakBytes)} MB; ${step.kernels.length} kernels`,
);
// the peak's kernel index; bytes created before it, by kernel name (what the tape holds at the peak)
const kernels = step.kernels as unknown as { name: string; bytesAdded: number; totalBytesSnapshot: number; outputShapes: number[][] }[];
let at = 0;
kernels.forEach((k, i) => (k.totalBytesSnapshot > (kernels[at] as (typeof kernels)[number]).totalBytesSnapshot ? (at = i) : 0));
const firstGrad = kernels.findIndex((k, i) => i > 0 && k.totalBytesSnapshot < (kernels[i - 1] as (typeof kernels)[number]).totalBytesSnapshot);
console.log(`peak at kernel ${at} of ${kernels.length} (first drop of live bytes at kernel ${firstGrad})`);
const groups = new Map<string, { bytes: number; count: number; shapes: Map<string, number> }>();
for (const k of kernels.slice(0, at + 1)) {
  const g = groups.get(k.name) ?? { bytes: 0, count: 0, shapes: new Map() };
  g.bytes += k.bytesAdded;
  g.count++;
  const s = JSON.stringify(k.outputShapes);
  g.shapes.set(s, (g.shapes.get(s) ?? 0) + k.bytesAdded);
  groups.set(k.name, g);
}
for (const [name, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 16)) {
  const top = [...g.shapes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([s, b]) => `${s} ${MB(b)}`)
    .join('; ');
  console.log(`  ${name.padEnd(20)} ${String(g.count).padStart(5)} calls ${MB(g.bytes).padStart(9)} MB   ${top}`);
}
console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
