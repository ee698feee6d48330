// Training-step cost of the `tiny` T5 that `tagi demo` trains (d_model 64, d_kv 16, 4 heads, d_ff 128
// gated-gelu, 2+2 layers, ≈265 pruned ids, 32 buckets / max distance 64 as the preset). At this size much of
// a step is per-kernel cost, so every row prints the kernels per step (tf.profile; load-independent) beside
// the wall time and the process CPU time per step (medians and spread over timed steps after a warm-up; CPU
// time is the steadier figure on a loaded machine) and the 1-minute load average before → after.
//
// Rows (random weights: cost does not depend on them):
//   full        full fine-tuning: forward with labels, gradients of every parameter (batch 64, src ≈39, tgt 2)
//   lora        frozen base + shared rank-16 LoRA on q, k, v, o (loraObjective's forward), gradients of the factors
//   per-example frozen base + per-example rank-8 factors on q, k, v, o gathered from a [groups, r, in] bank (as
//               @tagi/lora's AdapterBank.select), gradients of the bank (166 groups as the
//               preset's teachers, batch 256)
//   generate    greedy generation with the KV cache, batch 128, 4 new tokens, frozen base
// The hypernetwork finetuning step has its own bench: packages/hypernet/bench/finetune-step.ts.
//
//   npx tsx bench/tiny-steps.ts [--backend tensorflow|wasm|cpu] [--rows full,lora,per-example,generate]
//                               [--steps 12] [--warmup 3] [--profile] [--json [FILE]]
import fs from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { LowRankDelta } from '@tagi/tensor-core';
import { useBackend, type TestBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config, type T5ForConditionalGeneration } from '../src/index.js';

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
const int = (name: string, def: number): number => {
  const v = Number(str(name, String(def)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: expected an integer >= 1, got '${str(name, '')}'`);
  return v;
};

const BACKEND = str('backend', 'tensorflow') as TestBackend;
const ALL_ROWS = ['full', 'lora', 'per-example', 'generate'] as const;
type Row = (typeof ALL_ROWS)[number];
const ROWS = str('rows', ALL_ROWS.join(','))
  .split(',')
  .map((s) => s.trim()) as Row[];
for (const r of ROWS) if (!ALL_ROWS.includes(r)) throw new Error(`--rows: unknown row '${r}' (${ALL_ROWS.join(', ')})`);
const STEPS = int('steps', 12);
const WARMUP = int('warmup', 3);
const PROFILE = flag('profile') !== undefined;
const jsonFlag = flag('json');

const VOCAB = 265;
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
const ATTENTION = /(SelfAttention|EncDecAttention)\.(q|k|v|o)$/;

/** A collated batch as @tagi/lora's `collate` makes it: rows of 20..src tokens ending in eos, right-padded; labels [tok, eos]. */
function batchOf(rows: number, src: number, tgt: number, seed: number) {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648), s);
  const ids = new Int32Array(rows * src);
  const mask = new Float32Array(rows * src);
  for (let i = 0; i < rows; i++) {
    const len = i === 0 ? src : 20 + (next() % (src - 19));
    for (let j = 0; j < len; j++) {
      ids[i * src + j] = j === len - 1 ? 1 : 3 + (next() % (VOCAB - 3));
      mask[i * src + j] = 1;
    }
  }
  const labels = new Int32Array(rows * tgt);
  for (let i = 0; i < rows; i++) for (let j = 0; j < tgt; j++) labels[i * tgt + j] = j === tgt - 1 ? 1 : 3 + (next() % (VOCAB - 3));
  return {
    inputIds: tf.tensor2d(ids, [rows, src], 'int32'),
    attentionMask: tf.tensor2d(mask, [rows, src], 'int32'),
    labels: tf.tensor2d(labels, [rows, tgt], 'int32'),
  };
}
type Batch = ReturnType<typeof batchOf>;
const disposeBatch = (b: Batch) => tf.dispose([b.inputIds, b.attentionMask, b.labels]);

interface Workload {
  label: string;
  /** One step; resolves when its result is on the host. */
  run(): Promise<void> | void;
  dispose(): void;
}

/** forward + gradients of `vars`, then one host read of the loss (the step is done when its result is there). */
function gradStep(model: T5ForConditionalGeneration, b: Batch, vars: tf.Variable[], adapters: () => ReadonlyMap<string, LowRankDelta> | undefined): void {
  const { value, grads } = tf.variableGrads(() => {
    const a = adapters();
    return model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, ...(a ? { adapters: a } : {}) }).loss as tf.Scalar;
  }, vars);
  const g = Object.values(grads);
  // read a gradient too: tfjs-node runs eagerly, this only makes the end of the step explicit
  (g[g.length - 1] as tf.Tensor).dataSync();
  value.dataSync();
  tf.dispose([value, ...g]);
}

function fullFinetune(): Workload {
  const model = createRandomT5(config, 0).train();
  const b = batchOf(64, 39, 2, 1);
  const vars = model.parameters().filter((v) => v.trainable);
  return {
    label: 'full fine-tuning (batch 64, src 39, tgt 2)',
    run: () => gradStep(model, b, vars, () => undefined),
    dispose() {
      disposeBatch(b);
      model.dispose();
    },
  };
}

function sharedLora(): Workload {
  const model = createRandomT5(config, 0).train();
  model.freezeBase();
  const b = batchOf(64, 39, 2, 2);
  const r = 16;
  const adapters = new Map<string, LowRankDelta>();
  const vars: tf.Variable[] = [];
  for (const [p, m] of model.namedModules()) {
    if (!ATTENTION.test(p)) continue;
    const { inFeatures, outFeatures } = m as unknown as { inFeatures: number; outFeatures: number };
    const A = tf.variable(tf.randomNormal([r, inFeatures], 0, 0.1, 'float32', 3));
    const B = tf.variable(tf.randomNormal([outFeatures, r], 0, 0.01, 'float32', 4)); // nonzero: every product does real work
    vars.push(A, B);
    adapters.set(p, { A, B, scaling: 32 / r });
  }
  return {
    label: `shared LoRA r${r} q,k,v,o (${adapters.size} modules, batch 64, src 39, tgt 2)`,
    run: () => gradStep(model, b, vars, () => adapters),
    dispose() {
      disposeBatch(b);
      tf.dispose(vars);
      model.dispose();
    },
  };
}

function perExampleLora(): Workload {
  const model = createRandomT5(config, 0).train();
  model.freezeBase();
  const batch = 256;
  const groups = 166; // the preset's teachers: one per training task of compositional-v2, in one bank
  const r = 8;
  const b = batchOf(batch, 39, 2, 3);
  const bank: { path: string; A: tf.Variable; B: tf.Variable }[] = [];
  for (const [p, m] of model.namedModules()) {
    if (!ATTENTION.test(p)) continue;
    const { inFeatures, outFeatures } = m as unknown as { inFeatures: number; outFeatures: number };
    bank.push({
      path: p,
      A: tf.variable(tf.randomNormal([groups, r, inFeatures], 0, 0.1, 'float32', 5)),
      B: tf.variable(tf.randomNormal([groups, outFeatures, r], 0, 0.01, 'float32', 6)),
    });
  }
  const group = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % groups),
    'int32',
  );
  const vars = bank.flatMap((f) => [f.A, f.B]);
  // AdapterBank.select: a gather of each example's group, inside the tape
  const select = () => new Map(bank.map((f) => [f.path, { A: tf.gather(f.A, group), B: tf.gather(f.B, group), scaling: 16 / r }]));
  return {
    label: `per-example LoRA r${r} q,k,v,o (bank of ${groups}, batch ${batch}, src 39, tgt 2)`,
    run: () => gradStep(model, b, vars, select),
    dispose() {
      disposeBatch(b);
      tf.dispose([group, ...vars]);
      model.dispose();
    },
  };
}

function generation(): Workload {
  const model = createRandomT5(config, 0).eval();
  model.freezeBase();
  const b = batchOf(128, 39, 2, 4);
  return {
    label: 'greedy generation, KV cache (batch 128, src 39, 4 new tokens)',
    // eos -1: no row finishes early, every row makes exactly 4 tokens
    run: async () => void (await model.generate(b.inputIds, b.attentionMask, { maxNewTokens: 4, eosTokenId: -1 })),
    dispose() {
      disposeBatch(b);
      model.dispose();
    },
  };
}

const MAKERS: Record<Row, () => Workload> = { full: fullFinetune, lora: sharedLora, 'per-example': perExampleLora, generate: generation };

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Kernels of one step by name (scopes nest kernels that are listed themselves, so they are skipped). */
async function kernelsOf(w: Workload): Promise<Map<string, { count: number; ms: number }>> {
  const p = await tf.profile(async () => w.run());
  const m = new Map<string, { count: number; ms: number }>();
  for (const k of p.kernels as unknown as { name: string; kernelTimeMs: unknown }[]) {
    if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue;
    const e = m.get(k.name) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms += Number(k.kernelTimeMs) || 0;
    m.set(k.name, e);
  }
  return m;
}

interface RowResult {
  row: Row;
  label: string;
  msPerStep: { median: number; min: number; max: number; all: number[] };
  cpuMsPerStep: { median: number; min: number; max: number };
  kernels: number;
  top?: { kernel: string; count: number; ms: number }[];
  load: { before: number; after: number };
  leaked: number;
}

await useBackend(BACKEND);
const load1 = () => os.loadavg()[0] as number;
console.log(
  `tiny T5 steps on ${tf.getBackend()}: ${WARMUP} warm-up + ${STEPS} timed steps per row; load average at start ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (${os.cpus().length} cpus)`,
);
const results: RowResult[] = [];
for (const row of ROWS) {
  const w = MAKERS[row]();
  try {
    for (let i = 0; i < WARMUP; i++) await w.run();
    const before = tf.memory().numTensors;
    const loadBefore = load1();
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await w.run();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const leaked = tf.memory().numTensors - before;
    const kernels = await kernelsOf(w);
    const total = [...kernels.values()].reduce((s, e) => s + e.count, 0);
    const res: RowResult = {
      row,
      label: w.label,
      msPerStep: { median: median(times), min: Math.min(...times), max: Math.max(...times), all: times.map((t) => Math.round(t * 10) / 10) },
      cpuMsPerStep: { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu) },
      kernels: total,
      ...(PROFILE ? { top: [...kernels].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.count - a.count) } : {}),
      load: { before: loadBefore, after: load1() },
      leaked,
    };
    results.push(res);
    const m = res.msPerStep;
    const c = res.cpuMsPerStep;
    console.log(
      `  ${row.padEnd(12)} ${m.median.toFixed(1).padStart(7)} ms/step (${m.min.toFixed(1)}–${m.max.toFixed(1)})  cpu ${c.median.toFixed(1).padStart(6)} ms (${c.min.toFixed(1)}–${c.max.toFixed(1)})  ${String(total).padStart(5)} kernels/step  load ${res.load.before.toFixed(2)}→${res.load.after.toFixed(2)}${leaked ? `  LEAK ${leaked} tensors/${STEPS} steps` : ''}  ${w.label}`,
    );
    if (res.top)
      for (const k of res.top) console.log(`      ${k.kernel.padEnd(22)} ${String(k.count).padStart(5)} ${k.ms.toFixed(1).padStart(8)} ms (profiled)`);
  } finally {
    w.dispose();
  }
}
if (jsonFlag !== undefined) {
  const text = `${JSON.stringify({ date: new Date().toISOString(), backend: tf.getBackend(), steps: STEPS, warmup: WARMUP, rows: results }, null, 2)}\n`;
  if (jsonFlag === true) console.log(text);
  else fs.writeFileSync(jsonFlag, text);
}
