// LoRA training step vs full fine-tuning on the t5-small-lm-adapt shape (random weights):
// tokens/s and tensor memory. `pnpm bench` (env: BENCH_STEPS timed steps, default 2; BENCH_BACKEND).
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, initBackend, Rng } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config, type T5ForConditionalGeneration } from '@tagi/t5-model';
import { AdapterSet } from '../src/adapter-set.js';
import { loraConfig } from '../src/config.js';

const backend = (process.env['BENCH_BACKEND'] ?? 'wasm') as 'wasm' | 'cpu' | 'auto';
const steps = Number(process.env['BENCH_STEPS'] ?? 2);
const batch = Number(process.env['BENCH_BATCH'] ?? 8);
// A batch of 8×256 tokens does not fit in the wasm heap in one pass (measured: "memory access out
// of bounds" at micro-batch 8 and 2; one sample keeps ≈815 MB of activations for the backward), so the
// batch is split into micro-batches of this size
// whose gradients are accumulated before one AdamW step, as a user on this backend would do.
const micro = Number(process.env['BENCH_MICRO'] ?? 1);
const srcLen = 256;
const tgtLen = 64;

const report = await initBackend({ backend });
// BENCH_TINY=1: a small shape to smoke-test the script itself
const tiny = process.env['BENCH_TINY'] === '1';
const config = makeT5Config({
  vocabSize: tiny ? 512 : 32128,
  dModel: tiny ? 32 : 512,
  dKv: tiny ? 8 : 64,
  numHeads: tiny ? 2 : 6,
  dFf: tiny ? 64 : 1024,
  numLayers: tiny ? 1 : 8,
  numDecoderLayers: tiny ? 1 : 8,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0,
});
const mb = (b: number) => (b / 2 ** 20).toFixed(2);
// Size of the wasm module's linear memory (grows, never shrinks): what actually runs out.
function wasmHeapBytes(): number {
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return be.wasm?.HEAPU8?.byteLength ?? 0;
}

function makeBatch(seed: number, n: number) {
  const rng = new Rng(seed);
  const ids = new Int32Array(n * srcLen).map(() => 2 + rng.int(config.vocabSize - 2));
  const labels = new Int32Array(n * tgtLen).map(() => 2 + rng.int(config.vocabSize - 2));
  return {
    inputIds: tf.tensor2d(ids, [n, srcLen], 'int32'),
    attentionMask: tf.ones([n, srcLen], 'int32') as tf.Tensor2D,
    labels: tf.tensor2d(labels, [n, tgtLen], 'int32'),
  };
}

interface Row {
  name: string;
  trainable: number;
  msPerStep: number;
  cpuMsPerStep: number;
  tokensPerSec: number;
  stateMB: string;
  peakMB: string;
  persistentMB: string;
}

async function run(
  name: string,
  model: T5ForConditionalGeneration,
  params: Map<string, tf.Variable>,
  adapters?: AdapterSet,
  withOptimizer = true,
): Promise<Row> {
  const opt = withOptimizer ? new AdamW(params, { lr: 1e-4, weightDecay: 0 }) : undefined;
  const nMicro = Math.ceil(batch / micro);
  const bs = Array.from({ length: nMicro }, (_, i) => makeBatch(i + 1, Math.min(micro, batch - i * micro)));
  const vars = [...params.values()];
  const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
  let peak = 0;
  const step = (micros = bs) => {
    let acc: Map<string, tf.Tensor> | undefined;
    for (const b of micros) {
      const { value, grads } = tf.variableGrads(() => {
        const loss = model.forward({ ...b, adapters: adapters?.deltas }).loss as tf.Scalar;
        peak = Math.max(peak, tf.memory().numBytes); // activations kept for the backward pass
        return loss;
      }, vars);
      peak = Math.max(peak, tf.memory().numBytes); // + gradients
      value.dataSync();
      value.dispose();
      if (process.env['BENCH_VERBOSE'] === '1')
        console.error(`  micro-batch done: ${mb(tf.memory().numBytes)} MB live, peak ${mb(peak)} MB, wasm heap ${mb(wasmHeapBytes())} MB`);
      if (acc === undefined) acc = new Map(Object.entries(grads).map(([k, t]) => [nameOf.get(k) as string, t]));
      else {
        for (const [k, t] of Object.entries(grads)) {
          const n = nameOf.get(k) as string;
          const prev = acc.get(n) as tf.Tensor;
          acc.set(n, tf.add(prev, t));
          tf.dispose([prev, t]);
        }
      }
    }
    const g = acc as Map<string, tf.Tensor>;
    for (const [k, t] of g) {
      g.set(k, tf.div(t, micros.length));
      t.dispose();
    }
    peak = Math.max(peak, tf.memory().numBytes);
    opt?.step(g);
    tf.dispose([...g.values()]);
  };
  const base = tf.memory().numBytes;
  // warm-up on one micro-batch (kernels, optimiser state)
  step(bs.slice(0, 1));
  const persistent = tf.memory().numBytes - base; // optimiser moments (+ leftovers of the warm-up)
  // CPU time beside wall time: wasm runs on one thread here, so CPU ms/step is the work done and moves
  // far less than wall time when other jobs share the cores
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const ms = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
  const trainable = vars.reduce((a, v) => a + v.size, 0);
  opt?.dispose();
  for (const b of bs) tf.dispose([b.inputIds, b.attentionMask, b.labels]);
  return {
    name,
    trainable,
    msPerStep: Math.round(ms),
    cpuMsPerStep: Math.round(cpuMs),
    tokensPerSec: Math.round((batch * (srcLen + tgtLen)) / (ms / 1000)),
    stateMB: mb(tf.memory().numBytes),
    peakMB: mb(peak),
    persistentMB: mb(persistent),
  };
}

console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(
      ' ',
    )} at start; backend ${report.backend}; ${tiny ? 'TINY smoke shape' : 't5-small-lm-adapt shape'} (d_model 512, 8+8 layers, 6 heads, d_ff 1024, gated-gelu, vocab 32128, random); batch ${batch} (micro-batches of ${micro}, gradients accumulated), ${srcLen}/${tgtLen} tokens; ${steps} timed steps after a one-micro-batch warm-up`,
);
const model = createRandomT5(config, 0);
model.train();
const modelMB = mb(tf.memory().numBytes);
const baseParams = model.namedParameters().reduce((a, [, v]) => a + v.size, 0);
console.log(`model: ${baseParams.toLocaleString('en')} parameters, ${modelMB} MB of tensors`);

const header =
  '| run | trainable params | ms/step | CPU ms/step | tokens/s | peak live tensor MB (model incl.) | optimiser state MB |\n|---|---:|---:|---:|---:|---:|---:|';
const line = (r: Row) =>
  `| ${r.name} | ${r.trainable.toLocaleString('en')} | ${r.msPerStep} | ${r.cpuMsPerStep} | ${r.tokensPerSec} | ${r.peakMB} | ${r.persistentMB} |`;
const lines: string[] = [];
async function attempt(name: string, f: () => Promise<Row>): Promise<void> {
  try {
    const r = await f();
    lines.push(line(r));
  } catch (e) {
    // wasm32's linear memory is capped at 4 GB; report instead of dying so the other rows print
    lines.push(`| ${name} | – | failed: ${(e as Error).message.split('\n')[0]} (wasm heap ${mb(wasmHeapBytes())} MB) | | | |`);
  }
  console.error(lines.at(-1));
}

const adapter = AdapterSet.create(model, loraConfig({ r: 8, loraAlpha: 16 }), { seed: 0 });
await attempt('LoRA r=8 on q,v (base frozen) + AdamW', () => run('LoRA r=8 on q,v (base frozen) + AdamW', model, adapter.namedVariables(), adapter));
adapter.dispose();
if (process.env['BENCH_SKIP_FULL'] !== '1') {
  const all = new Map(model.namedParameters());
  await attempt('full fine-tuning: gradients of all weights, no optimiser', () =>
    run('full fine-tuning: gradients of all weights, no optimiser', model, all, undefined, false),
  );
  await attempt('full fine-tuning + AdamW', () => run('full fine-tuning + AdamW', model, all));
}
console.log(
  `\n${header}\n${lines.join('\n')}\nload average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end`,
);
model.dispose();
