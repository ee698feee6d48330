// Throughput of the fast products against tfjs's plain path, on every backend available here.
// Run: pnpm bench (from packages/tensor-core). Prints GFLOP/s; figures go in the README.
import * as tf from '@tensorflow/tfjs-core';
import { bmm, linear } from '../src/index.js';
import { useBackend } from '../src/testing.js';

type Case = { name: string; flops: number; run: () => void };

function time(c: Case, reps: number): number {
  c.run(); // warm-up (kernel setup, weight packing)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) c.run();
  const s = (performance.now() - t0) / 1000 / reps;
  return c.flops / s / 1e9;
}

function cases(backend: string): Case[] {
  // the pure-JS cpu backend is ~100× slower than wasm: an eighth of the rows and one repetition keep its run short
  const [n, inF, outF] = backend === 'cpu' ? [512, 512, 2048] : [4096, 512, 2048];
  const x = tf.randomNormal([n, inF]);
  const w = tf.randomNormal([outF, inF], 0, 0.05);
  const dy = tf.randomNormal([n, outF]);
  const linFlops = 6 * n * inF * outF; // forward + dx + dW
  // Attention-shaped: batch 8 × 8 heads, 256 positions, head dim 64: scores = Q·Kᵀ, out = P·V.
  const [bh, len, dk] = backend === 'cpu' ? [16, 256, 64] : [64, 256, 64];
  const q = tf.randomNormal([bh, len, dk]);
  const k = tf.randomNormal([bh, len, dk]);
  const v = tf.randomNormal([bh, len, dk]);
  const attFlops = 3 * (2 * bh * len * len * dk) * 2; // two products, each forward + two gradients
  // forward, then the backward pass seeded with the cotangent dy (no extra loss ops in the timing)
  const fwdBwd = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor, cot: tf.Tensor) => () =>
    tf.tidy(() => {
      const g = tf.grads((aa: tf.Tensor, bb: tf.Tensor) => f(aa, bb))([a, b], cot);
      for (const t of g) t.dataSync();
    });
  const attention = (mm: (a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean) => tf.Tensor) => () =>
    tf.tidy(() => {
      const g = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => tf.sum(mm(mm(qq, kk, false, true), vv, false, false)))([q, k, v]);
      for (const t of g) t.dataSync();
    });
  return [
    { name: `linear fwd+bwd x[${n},${inF}]·W[${outF},${inF}]ᵀ ours (linear)`, flops: linFlops, run: fwdBwd((a, b) => linear(a, b), x, w, dy) },
    {
      name: `linear fwd+bwd x[${n},${inF}]·W[${outF},${inF}]ᵀ tfjs matMul(transposeB)`,
      flops: linFlops,
      run: fwdBwd((a, b) => tf.matMul(a, b, false, true), x, w, dy),
    },
    { name: `attention fwd+bwd [${bh},${len},${dk}] softmax-free QKᵀ·V ours (bmm)`, flops: attFlops, run: attention(bmm) },
    {
      name: `attention fwd+bwd [${bh},${len},${dk}] softmax-free QKᵀ·V tfjs matMul`,
      flops: attFlops,
      run: attention((a, b, tA, tB) => tf.matMul(a, b, tA, tB)),
    },
  ];
}

async function main(): Promise<void> {
  const wanted = (process.env['TAGI_BENCH_BACKENDS'] ?? 'wasm,cpu,tensorflow').split(',').map((s) => s.trim());
  const reps = Number(process.env['TAGI_BENCH_REPS'] ?? 2);
  for (const backend of wanted) {
    try {
      await useBackend(backend as 'cpu' | 'wasm' | 'tensorflow');
    } catch (e) {
      console.log(`${backend}: unavailable (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
      continue;
    }
    const cs = cases(backend);
    for (const c of cs) {
      const gflops = time(c, backend === 'cpu' ? 1 : reps);
      console.log(`${backend.padEnd(10)} ${c.name.padEnd(66)} ${gflops.toFixed(2).padStart(7)} GFLOP/s`);
    }
    tf.disposeVariables();
    tf.engine().reset();
  }
}

await main();
