// Cost of one stage-3 finetuning step of the hypernetwork on the `tiny` T5 that `tagi demo` trains (d_model 64,
// d_kv 16, 4 heads, d_ff 128 gated-gelu, 2+2 layers, ≈265 pruned ids, frozen), with the demo's hypernetwork
// (rank 16, alpha 32, hidden 64, concat fusion, targets q, k, v, o) and loss (L_ce + 1·L_kl + 0.1·L_ins,
// T = 2, alignment on ΔW, the concat teacher's logits cached). A step here is what `fit` differentiates: the
// objective's `loss` under tf.variableGrads over the hypernetwork's parameters (batch 64 = 8 tasks × 8
// examples, student input ≈8 tokens, instruction ≈21 tokens). Batches are built before timing (the
// teacher forward lives in `batch()`, outside the tape, and is cached per example after its first use).
// Prints wall and process CPU ms per step (medians and spread over timed steps after a warm-up; CPU time is
// the steadier figure on a loaded machine), kernels per step (tf.profile; load-independent) and the load average. The base model's own rows: packages/t5-model/bench/tiny-steps.ts.
//
//   npx tsx --tsconfig tsconfig.json bench/finetune-step.ts [--backend tensorflow|wasm|cpu] [--steps 12] [--warmup 3] [--profile] [--json [FILE]]
import fs from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { type LowRankDelta, Rng } from '@tagi/tensor-core';
import { useBackend, type TestBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { HyperNetwork } from '../src/hypernet.js';
import { type FinetuneBatch, type FinetuneTask, finetuneObjective } from '../src/training.js';

function flag(name: string): string | true | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = process.argv[i + 1];
  return next === undefined || next.startsWith('--') ? true : next;
}
const str = (name: string, def: string): string => {
  const v = flag(name);
  return typeof v === 'string' ? v : def;
};
const BACKEND = str('backend', 'tensorflow') as TestBackend;
const STEPS = Number(str('steps', '12'));
const WARMUP = Number(str('warmup', '3'));
const PROFILE = flag('profile') !== undefined;
const jsonFlag = flag('json');

const VOCAB = 265;
const TASKS = 16;
const EXAMPLES_PER_TASK = 8; // few: the teacher-logit cache is warm after the warm-up
const config = makeT5Config({
  vocabSize: VOCAB,
  dModel: 64,
  dKv: 16,
  numHeads: 4,
  dFf: 128,
  numLayers: 2,
  numDecoderLayers: 2,
  feedForwardProj: 'gated-gelu',
  relativeAttentionNumBuckets: 32,
  relativeAttentionMaxDistance: 64,
  dropoutRate: 0,
  tieWordEmbeddings: false,
  padTokenId: 0,
  eosTokenId: 1,
  decoderStartTokenId: 0,
});

await useBackend(BACKEND);
const base = createRandomT5(config, 0).eval();
base.freezeBase();
const hn = new HyperNetwork(
  base,
  { rank: 16, loraAlpha: 32, hiddenDim: 64, moduleEmbeddingDim: 16, fusion: 'concat', targets: ['q', 'k', 'v', 'o'], maxInstructionLength: 64 },
  { seed: 1 },
);
const rng = new Rng(7);
const word = () => 3 + Math.floor(rng.next() * (VOCAB - 3));
const ids = (n: number) => [...Array.from({ length: n - 1 }, word), 1];
// per-task LoRA teachers (rank 8 on q, k, v, o) for the alignment term
const teacherTensors: tf.Tensor[] = [];
const tasks: FinetuneTask[] = Array.from({ length: TASKS }, (_, t) => {
  const instructionIds = ids(18 + (t % 6));
  const teacherAdapters = new Map<string, LowRankDelta>();
  for (const m of hn.targetModules) {
    const A = tf.randomNormal([8, m.inFeatures], 0, 0.1, 'float32', 10 * t + 1);
    const B = tf.randomNormal([m.outFeatures, 8], 0, 0.1, 'float32', 10 * t + 2);
    teacherTensors.push(A, B);
    teacherAdapters.set(m.path, { A, B, scaling: 2 });
  }
  return {
    taskId: `task-${t}`,
    instructionIds,
    teacherAdapters,
    examples: Array.from({ length: EXAMPLES_PER_TASK }, (_, i) => {
      const input = ids(5 + ((t + i) % 6));
      return { id: `t${t}-e${i}`, inputIds: input, labelIds: ids(2 + (i % 2)), teacherInputIds: [...instructionIds.slice(0, -1), ...input] };
    }),
  };
});
const objective = finetuneObjective({
  hypernet: hn,
  tasks,
  batchSize: 64,
  tasksPerBatch: 8,
  seed: 3,
  loss: { lambdaKl: 1, lambdaIns: 0.1, temperature: 2, alignment: 'delta' },
  teacher: { sources: ['concat'], concatModel: base, cache: true },
});
const vars = [...objective.params.values()];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function step(b: FinetuneBatch): void {
  const { value, grads } = tf.variableGrads(() => objective.loss(b, { step: 0, micro: 0 }).loss, vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

console.log(
  `hypernet finetune step on ${tf.getBackend()} (16 tasks, 8 per batch, batch 64): ${WARMUP} warm-up + ${STEPS} timed steps; load average at start ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (${os.cpus().length} cpus)`,
);
// every example's teacher logits cached first (2 passes over the tasks), so batches cost the same
const batches = Array.from({ length: WARMUP + STEPS + 1 }, (_, s) => objective.batch({ step: s, micro: 0 }));
const kernelBatch = batches.pop() as FinetuneBatch;
for (const b of batches.slice(0, WARMUP)) step(b);
const before = tf.memory().numTensors;
const loadBefore = os.loadavg()[0] as number;
const times: number[] = [];
const cpu: number[] = [];
for (const b of batches.slice(WARMUP)) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  step(b);
  times.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}
const leaked = tf.memory().numTensors - before;
const p = await tf.profile(() => step(kernelBatch));
const kernels = new Map<string, number>();
for (const k of p.kernels as unknown as { name: string }[]) {
  if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue;
  kernels.set(k.name, (kernels.get(k.name) ?? 0) + 1);
}
const total = [...kernels.values()].reduce((s, n) => s + n, 0);
const result = {
  median: median(times),
  min: Math.min(...times),
  max: Math.max(...times),
  cpuMedian: median(cpu),
  cpuMin: Math.min(...cpu),
  cpuMax: Math.max(...cpu),
  kernels: total,
  load: { before: loadBefore, after: os.loadavg()[0] as number },
  leaked,
};
console.log(
  `  hypernet-ft   ${result.median.toFixed(1).padStart(7)} ms/step (${result.min.toFixed(1)}–${result.max.toFixed(1)})  cpu ${result.cpuMedian.toFixed(1).padStart(6)} ms (${result.cpuMin.toFixed(1)}–${result.cpuMax.toFixed(1)})  ${String(total).padStart(5)} kernels/step  load ${result.load.before.toFixed(2)}→${result.load.after.toFixed(2)}${leaked ? `  LEAK ${leaked} tensors/${STEPS} steps` : ''}`,
);
if (PROFILE) for (const [k, n] of [...kernels].sort((a, b) => b[1] - a[1])) console.log(`      ${k.padEnd(22)} ${String(n).padStart(5)}`);
if (jsonFlag !== undefined) {
  const text = `${JSON.stringify({ date: new Date().toISOString(), backend: tf.getBackend(), steps: STEPS, warmup: WARMUP, rows: [{ row: 'hypernet-ft', ...result, all: times }] }, null, 2)}\n`;
  if (jsonFlag === true) console.log(text);
  else fs.writeFileSync(jsonFlag, text);
}
for (const b of [...batches, kernelBatch]) objective.release?.(b);
objective.dispose();
tf.dispose(teacherTensors);
hn.dispose();
base.dispose();
