// `pnpm bench` for @tagi/hypernet: adapter generation latency on the t5-small-lm-adapt shape, and the
// per-instance inference cost with a cached adapter against the instruction concatenated into every
// input, measured in one run (wall time on this machine's default backend) beside the FLOPs model of
// @tagi/eval. Random weights: cost does not depend on them.
import * as tf from '@tensorflow/tfjs-core';
import { compareInstructionCost, costConfigFromHf, encoderFlops } from '@tagi/eval';
import { Rng, initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config, t5ConfigToJson } from '@tagi/t5-model';
import { padIds, padLabels } from '../src/batching.js';
import { HyperNetwork } from '../src/hypernet.js';
import { generateAdapter, taskPrefix } from '../src/inference.js';

const INSTRUCTION = Number(process.env['BENCH_INSTRUCTION'] ?? 256); // tokens: a Def+2Pos SNI instruction is ~200-300
const INPUT = Number(process.env['BENCH_INPUT'] ?? 48);
const TARGET = Number(process.env['BENCH_TARGET'] ?? 8);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 4);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 5);
const INSTANCES_PER_TASK = 100; // SNI evaluates (at most) 100 instances per test task

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const report = await initBackend({ backend: (process.env['BENCH_BACKEND'] as 'wasm' | 'cpu' | undefined) ?? 'auto' });
  const config = makeT5Config({
    vocabSize: 32128,
    dModel: 512,
    dKv: 64,
    numHeads: 6,
    dFf: 1024,
    numLayers: 8,
    numDecoderLayers: 8,
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
    dropoutRate: 0,
  });
  const t = performance.now();
  const base = createRandomT5(config, 0);
  base.eval();
  base.setTrainable(false);
  console.log(`backend ${report.backend}; random t5-small-lm-adapt shape built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const hn = new HyperNetwork(base); // paper defaults: rank 32, q/v of all attention, concat fusion
  const hnParams = hn.parameters().reduce((s, v) => s + v.size, 0);
  console.log(`hypernet: ${hn.targetModules.length} target modules, rank ${hn.config.rank}, ${(hnParams / 1e6).toFixed(2)} M parameters`);

  const rng = new Rng(1);
  const ids = (n: number) => [...Array.from({ length: n - 1 }, () => 3 + Math.floor(rng.next() * 31000)), 1];
  const instruction = ids(INSTRUCTION);

  // 1. adapter generation latency (instruction encoding + generator), once per task
  generateAdapter(hn, instruction).dispose(); // warm-up (kernel compilation, buffers)
  const gen: number[] = [];
  const enc: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    gen.push(time(() => generateAdapter(hn, instruction).dispose()));
    enc.push(
      time(() => {
        const x = padIds([instruction], 0);
        tf.dispose([base.encode(x.ids, x.mask), x.ids, x.mask]);
      }),
    );
  }
  console.log(`adapter generation (${INSTRUCTION}-token instruction): median ${median(gen).toFixed(0)} ms, of which instruction encoding ${median(enc).toFixed(0)} ms`);

  // 2. per-instance inference: teacher-forced forward over TARGET tokens for BATCH instances
  const inputs = Array.from({ length: BATCH }, () => ids(INPUT));
  const targets = Array.from({ length: BATCH }, () => ids(TARGET));
  const concatX = padIds(inputs.map((x) => [...instruction.slice(0, -1), ...x]), 0);
  const plainX = padIds(inputs, 0);
  const labels = padLabels(targets);
  const task = generateAdapter(hn, instruction);
  const prefix = taskPrefix(task, BATCH)!;
  const runs = {
    concat: () => tf.tidy(() => void base.forward({ inputIds: concatX.ids, attentionMask: concatX.mask, labels }).logits.dataSync()),
    adapterFusion: () => tf.tidy(() => void base.forward({ inputIds: plainX.ids, attentionMask: plainX.mask, labels, adapters: task.adapter.deltas, encoderPrefix: prefix }).logits.dataSync()),
    adapter: () => tf.tidy(() => void base.forward({ inputIds: plainX.ids, attentionMask: plainX.mask, labels, adapters: task.adapter.deltas }).logits.dataSync()),
    merged: () => tf.tidy(() => void base.forward({ inputIds: plainX.ids, attentionMask: plainX.mask, labels }).logits.dataSync()),
  };
  const times: Record<keyof typeof runs, number[]> = { concat: [], adapterFusion: [], adapter: [], merged: [] };
  for (const k of Object.keys(runs) as (keyof typeof runs)[]) {
    if (k === 'merged') task.adapter.merge(base);
    runs[k](); // warm-up
    if (k === 'merged') task.adapter.unmerge(base);
  }
  for (let i = 0; i < REPEATS; i++) {
    // interleaved so that load from other processes hits every method alike
    for (const k of Object.keys(runs) as (keyof typeof runs)[]) {
      if (k === 'merged') task.adapter.merge(base);
      times[k].push(time(runs[k]) / BATCH);
      if (k === 'merged') task.adapter.unmerge(base);
    }
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof runs, number>;
  const amortised = (perInstance: number) => median(gen) / INSTANCES_PER_TASK + perInstance;
  console.log(`\nper instance (input ${INPUT}, instruction ${INSTRUCTION}, target ${TARGET} tokens, batch ${BATCH}, median of ${REPEATS}):`);
  console.log(`  instruction concatenated (Tk-Instruct):     ${m.concat.toFixed(1)} ms`);
  console.log(`  cached adapter + concat fusion (TAGI):      ${m.adapterFusion.toFixed(1)} ms  → ×${(m.adapterFusion / m.concat).toFixed(2)} (×${(amortised(m.adapterFusion) / m.concat).toFixed(2)} with generation amortised over ${INSTANCES_PER_TASK} instances)`);
  console.log(`  cached adapter, no fusion (low-rank path):  ${m.adapter.toFixed(1)} ms  → ×${(m.adapter / m.concat).toFixed(2)}`);
  console.log(`  adapter merged into the weights:            ${m.merged.toFixed(1)} ms  → ×${(m.merged / m.concat).toFixed(2)} (×${(amortised(m.merged) / m.concat).toFixed(2)} amortised)`);

  // FLOPs model (@tagi/eval) for the same lengths; hypernet FLOPs = instruction encoding + generator MLP
  const cost = costConfigFromHf(t5ConfigToJson(config));
  const H = hn.config.hiddenDim;
  const r = hn.config.rank;
  const generatorFlops = 2 * (512 * H + hn.targetModules.length * (hn.config.moduleEmbeddingDim * H + H * r * (512 + 384)));
  const lengths = { instruction: INSTRUCTION, input: INPUT, target: TARGET };
  const hypernetFlops = encoderFlops(cost, INSTRUCTION) + generatorFlops;
  const fused = compareInstructionCost(cost, lengths, { hypernetFlops, instances: INSTANCES_PER_TASK, fusion: true });
  const plain = compareInstructionCost(cost, lengths, { hypernetFlops, instances: INSTANCES_PER_TASK, fusion: false });
  console.log(`\nFLOPs model: concatenated ${(fused.concatenated / 1e9).toFixed(2)} GFLOP/instance; TAGI with fusion ×${fused.relative.toFixed(2)}, merged without fusion ×${plain.relative.toFixed(2)} (amortised over ${INSTANCES_PER_TASK}; paper: ×0.39 on SNI)`);
  task.dispose();
  tf.dispose([concatX.ids, concatX.mask, plainX.ids, plainX.mask, labels, prefix.states, prefix.mask]);
  hn.dispose();
  base.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
