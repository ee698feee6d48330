// `bmm` on wasm: tfjs's batched kernel against a loop of plain 2-D products, for the batched products of
// a t5-small-shaped model (6 heads, d_kv 64; 256 source / 64 target tokens) in forward, backward and
// cached decoding, and of per-example LoRA (rank 32). Strategies are interleaved repetition by repetition;
// each figure is the median of the repetitions (CPU time of this process, which contention on a shared
// machine inflates less than wall time) with the range, and the load average is printed.
//   npx tsx bench/bmm.ts            env: TAGI_BENCH_REPS (default 7), TAGI_BENCH_HEADS (batch × heads list)
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { type BmmStrategy, bmmStrategy, withBmmStrategy, bmm } from '../src/linear.js';
import { useBackend } from '../src/testing.js';

interface Shape {
  what: string;
  m: number;
  k: number;
  n: number;
}

// [m, k]·[k, n] per batch element, non-transposed (bmm materialises the transposes first)
const SHAPES: Shape[] = [
  { what: 'enc scores Q·Kᵀ; enc dP = dy·Vᵀ', m: 256, k: 64, n: 256 },
  { what: 'enc context P·V; enc dQ, dK, dV', m: 256, k: 256, n: 64 },
  { what: 'dec self scores / context, all grads', m: 64, k: 64, n: 64 },
  { what: 'cross scores Q·Kᵀ; cross dP', m: 64, k: 64, n: 256 },
  { what: 'cross context P·V; cross dQ', m: 64, k: 256, n: 64 },
  { what: 'cross dK, dV', m: 256, k: 64, n: 64 },
  { what: 'decode step scores (64 cached)', m: 1, k: 64, n: 64 },
  { what: 'decode step cross scores', m: 1, k: 64, n: 256 },
  { what: 'decode step cross context', m: 1, k: 256, n: 64 },
  { what: 'per-example LoRA x·Aᵀ', m: 256, k: 512, n: 32 },
  { what: 'per-example LoRA (xA)·Bᵀ', m: 256, k: 32, n: 384 },
  { what: 'per-example LoRA dA = dyᵀ·x', m: 32, k: 256, n: 512 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

function cpuMs(f: () => void, inner: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < inner; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / inner;
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const reps = Number(process.env['TAGI_BENCH_REPS'] ?? 7);
  const batches = (process.env['TAGI_BENCH_HEADS'] ?? '6,12,48').split(',').map(Number);
  console.log(
    `bmm on wasm: median CPU ms per product over ${reps} interleaved repetitions [min–max]; load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(`${'batch'.padStart(5)} ${'[m,k]·[k,n]'.padEnd(16)} ${'batched'.padStart(20)} ${'loop'.padStart(20)}  faster  chosen  (${'what'})`);
  for (const batch of batches) {
    for (const s of SHAPES) {
      const a = tf.randomNormal([batch, s.m, s.k]);
      const b = tf.randomNormal([batch, s.k, s.n]);
      const run = (st: BmmStrategy) => () => withBmmStrategy(st, () => tf.tidy(() => void bmm(a, b).dataSync()));
      const macs = batch * s.m * s.k * s.n;
      const inner = Math.max(1, Math.min(20, Math.round(2e7 / macs))); // ~tens of ms per sample
      const t: Record<BmmStrategy, number[]> = { batched: [], loop: [] };
      for (const st of ['batched', 'loop'] as const) cpuMs(run(st), inner); // warm-up
      for (let r = 0; r < reps; r++) for (const st of ['batched', 'loop'] as const) t[st].push(cpuMs(run(st), inner));
      const fmt = (xs: number[]) => `${median(xs).toFixed(2)} [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`.padStart(20);
      const faster = median(t.loop) < median(t.batched) ? 'loop' : 'batched';
      const chosen = bmmStrategy(batch, s.m, s.k, s.n);
      console.log(
        `${String(batch).padStart(5)} ${`[${s.m},${s.k}]·[${s.k},${s.n}]`.padEnd(16)} ${fmt(t.batched)} ${fmt(t.loop)}  ${faster.padEnd(7)} ${chosen.padEnd(7)} (${s.what})`,
      );
      tf.dispose([a, b]);
    }
  }
  console.log(
    `load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

await main();
