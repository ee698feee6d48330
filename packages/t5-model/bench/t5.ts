// `pnpm bench`: a t5-small-lm-adapt-shaped model (random weights) on each available backend —
// forward, training step with a frozen base and rank-8 deltas on q and v, generation with and
// without the KV cache — and the same forward and training step in PyTorch + transformers + peft
// (bench/pytorch_peer.py) when that stack is importable, printed as ours/PyTorch ratios.
// Env: TAGI_BENCH_BACKENDS (default 'tensorflow,wasm'), TAGI_BENCH_PYTHON (default python3),
//      TAGI_BENCH_ITERS (timed iterations, default 2).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { LowRankDelta } from '@tagi/tensor-core';
import { useBackend, type TestBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config } from '../src/index.js';

const BATCH = Number(process.env['TAGI_BENCH_BATCH'] ?? 8);
const SRC = 256;
const TGT = 64;
const RANK = 8;
const GEN_TOKENS = 16;
const ITERS = Number(process.env['TAGI_BENCH_ITERS'] ?? 2);
const here = path.dirname(fileURLToPath(import.meta.url));

// t5-small-lm-adapt (= t5-v1_1-small) shape, with 8+8 layers
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

function randomIds(rows: number, cols: number, seed: number): number[][] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648), s);
  return Array.from({ length: rows }, () => [...Array.from({ length: cols - 1 }, () => 3 + (next() % 32000)), 1]);
}

async function time(fn: () => Promise<void> | void, iters: number): Promise<number> {
  await fn(); // warm-up (kernel compilation, allocation)
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await fn();
  return (performance.now() - t0) / 1000 / iters;
}

interface Figures { forward: number; train: number; genCache: number; genNoCache: number; micro: number }

async function benchBackend(name: TestBackend): Promise<Figures> {
  await useBackend(name);
  const model = createRandomT5(config, 0).eval();
  model.freezeBase();
  const inputIds = tf.tensor2d(randomIds(BATCH, SRC, 1), undefined, 'int32');
  const attentionMask = tf.onesLike(inputIds) as tf.Tensor2D;
  const labels = tf.tensor2d(randomIds(BATCH, TGT, 2), undefined, 'int32');
  const tokens = BATCH * (SRC + TGT);

  const fwd = await time(() => {
    tf.tidy(() => model.forward({ inputIds, attentionMask, labels }).loss!.dataSync());
  }, ITERS);

  // peft-style rank-8 deltas on q and v of every attention module (B starts at zero as in LoRA)
  const inner = config.numHeads * config.dKv;
  const vars: tf.Variable[] = [];
  const adapters = new Map<string, LowRankDelta>();
  for (const [p] of model.namedModules()) {
    if (!/(SelfAttention|EncDecAttention)\.(q|v)$/.test(p)) continue;
    const A = tf.variable(tf.randomNormal([RANK, config.dModel], 0, 0.02));
    const B = tf.variable(tf.zeros([inner, RANK]));
    vars.push(A, B);
    adapters.set(p, { A, B, scaling: 16 / RANK });
  }
  // One optimizer step over the whole batch of 8. On wasm the tape of a batch of 8 does not fit the
  // 2 GB wasm heap, so the step accumulates gradients over micro-batches (same tokens, same update).
  const micro = Number(process.env['TAGI_BENCH_MICRO'] ?? (name === 'wasm' ? 2 : BATCH));
  const slices = Array.from({ length: BATCH / micro }, (_, i) => ({
    inputIds: tf.slice(inputIds, [i * micro, 0], [micro, SRC]) as tf.Tensor2D,
    attentionMask: tf.slice(attentionMask, [i * micro, 0], [micro, SRC]) as tf.Tensor2D,
    labels: tf.slice(labels, [i * micro, 0], [micro, TGT]) as tf.Tensor2D,
  }));
  const opt = tf.train.adam(1e-4);
  const train = await time(() => {
    let acc: tf.Tensor[] | undefined;
    for (const sl of slices) {
      const { value, grads } = tf.variableGrads(() => model.forward({ ...sl, adapters }).loss!, vars);
      value.dataSync();
      value.dispose();
      const g = vars.map((v) => grads[v.name] as tf.Tensor);
      if (!acc) acc = g;
      else {
        const next = acc.map((a, i) => tf.add(a, g[i] as tf.Tensor));
        tf.dispose([...acc, ...g]);
        acc = next;
      }
    }
    const named: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (named[v.name] = tf.div(acc![i] as tf.Tensor, slices.length)));
    opt.applyGradients(named as unknown as Parameters<typeof opt.applyGradients>[0]);
    tf.dispose([...acc!, ...Object.values(named)]);
  }, ITERS);
  for (const sl of slices) tf.dispose([sl.inputIds, sl.attentionMask, sl.labels]);

  const genOpts = { maxNewTokens: GEN_TOKENS, eosTokenId: -1 }; // never finish early: every row makes GEN_TOKENS tokens
  const genCache = await time(async () => void (await model.generate(inputIds, attentionMask, genOpts)), 1);
  const genNoCache = await time(async () => void (await model.generate(inputIds, attentionMask, { ...genOpts, useCache: false })), 1);

  opt.dispose();
  tf.dispose([inputIds, attentionMask, labels, ...vars]);
  model.dispose();
  const genTokens = BATCH * GEN_TOKENS;
  return { forward: tokens / fwd, train: tokens / train, genCache: genTokens / genCache, genNoCache: genTokens / genNoCache, micro };
}

function pytorchPeer(): { forward: number; train: number; threads: number; versions: string } | undefined {
  const py = process.env['TAGI_BENCH_PYTHON'] ?? 'python3';
  try {
    execFileSync(py, ['-c', 'import torch, transformers, peft'], { stdio: 'ignore' });
  } catch {
    console.log(`PyTorch peer skipped: '${py} -c "import torch, transformers, peft"' failed (set TAGI_BENCH_PYTHON)`);
    return undefined;
  }
  const out = execFileSync(py, [path.join(here, 'pytorch_peer.py'), '--batch', String(BATCH), '--src', String(SRC), '--tgt', String(TGT), '--rank', String(RANK), '--iters', String(ITERS)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = out.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as { forward: number; train: number; threads: number; versions: string };
}

const fmt = (x: number) => x.toFixed(1).padStart(9);
const requested = (process.env['TAGI_BENCH_BACKENDS'] ?? 'tensorflow,wasm').split(',').map((s) => s.trim()) as TestBackend[];
console.log(`t5 bench: d_model 512, 8+8 layers, 6 heads, d_kv 64, d_ff 1024, gated-gelu, vocab 32128; batch ${BATCH}, src ${SRC}, tgt ${TGT}; ${ITERS} timed iterations`);
const results: [string, Figures][] = [];
for (const b of requested) {
  try {
    const t0 = performance.now();
    results.push([b, await benchBackend(b)]);
    console.log(`  ${b}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } catch (e) {
    console.log(`  ${b}: unavailable (${(e as Error).message.split("\n")[0]})`);
    if (process.env["TAGI_BENCH_DEBUG"]) console.log((e as Error).stack);
  }
}
console.log('\nbackend        forward tok/s   train tok/s   gen tok/s (cache)   gen tok/s (no cache)');
for (const [b, f] of results) console.log(`${b.padEnd(12)} ${fmt(f.forward)}      ${fmt(f.train)}     ${fmt(f.genCache)}           ${fmt(f.genNoCache)}${f.micro < BATCH ? `   (train: ${BATCH / f.micro} micro-batches of ${f.micro})` : ''}`);
let peer: ReturnType<typeof pytorchPeer>;
try {
  peer = pytorchPeer();
} catch (e) {
  console.log(`PyTorch peer failed: ${(e as Error).message.split('\n')[0]}`);
}
if (peer) {
  console.log(`${'pytorch'.padEnd(12)} ${fmt(peer.forward)}      ${fmt(peer.train)}     (torch ${peer.versions}, ${peer.threads} threads)`);
  for (const [b, f] of results) console.log(`ours/PyTorch on ${b}: forward ×${(f.forward / peer.forward).toFixed(3)}, train step ×${(f.train / peer.train).toFixed(3)}`);
}
