// tfjs-node: TensorFlow's MatMul, BatchMatMulV2 and BatchMatMulV3 on the product shapes of a tiny T5 step,
// called directly on the backend. This is where the table in src/native-product.ts (and its
// SMALL_BATCHED_MACS threshold) comes from; rerun it after a libtensorflow upgrade or on other hardware.
// Ops are interleaved repetition by repetition; each figure is the 25th percentile over repetitions of the
// mean µs per call (a shared machine inflates the upper percentiles), and the load average is printed.
//   npx tsx --tsconfig tsconfig.json bench/native-products.ts     env: TAGI_BENCH_REPS (default 25)
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/testing.js';

await useBackend('tensorflow');
const be = tf.backend() as unknown as {
  executeSingleOutput(n: string, a: unknown[], i: tf.Tensor[]): tf.Tensor;
  binding: { TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_FLOAT: number };
};
const { TF_ATTR_BOOL: bool, TF_ATTR_TYPE: type, TF_FLOAT: float } = be.binding;
const flag = (name: string, value: boolean) => ({ name, type: bool, value });
type Op = (a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean) => tf.Tensor;
const OPS: Record<string, Op> = {
  MatMul: (a, b, ta, tb) => be.executeSingleOutput('MatMul', [{ name: 'T', type, value: float }, flag('transpose_a', ta), flag('transpose_b', tb)], [a, b]),
  V2: (a, b, ta, tb) => be.executeSingleOutput('BatchMatMulV2', [{ name: 'T', type, value: float }, flag('adj_x', ta), flag('adj_y', tb)], [a, b]),
  V3: (a, b, ta, tb) =>
    be.executeSingleOutput(
      'BatchMatMulV3',
      [{ name: 'Ta', type, value: float }, { name: 'Tb', type, value: float }, { name: 'Tout', type, value: float }, flag('adj_x', ta), flag('adj_y', tb)],
      [a, b],
    ),
};
const REPS = Number(process.env['TAGI_BENCH_REPS'] ?? 25);
const CALLS = 40;

function quartile(fs: (() => tf.Tensor)[]): number[] {
  for (const f of fs) for (let i = 0; i < 20; i++) tf.dispose(f());
  const ts = fs.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++) {
    fs.forEach((f, k) => {
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) tf.dispose(f());
      ts[k]!.push(((performance.now() - t0) / CALLS) * 1000);
    });
  }
  return ts.map((t) => t.sort((x, y) => x - y)[Math.floor(t.length / 4)] as number);
}

// [a shape, b shape, transposeA, transposeB]: 2-D linears, then the batched products of attention and LoRA
const CASES: [number[], number[], boolean, boolean][] = [
  [[128, 64], [64, 64], false, true],
  [[2496, 64], [64, 64], false, true],
  [[2496, 64], [2496, 64], true, false],
  [[64, 4, 2, 2], [64, 4, 2, 16], false, false],
  [[8, 24, 64], [8, 64, 16], false, false],
  [[8, 80, 64], [8, 16, 64], false, true],
  [[128, 4, 1, 16], [128, 4, 39, 16], false, true],
  [[256, 2, 64], [256, 8, 64], false, true],
  [[256, 4, 2, 16], [256, 4, 39, 16], false, true],
  [[64, 39, 64], [64, 16, 64], false, true],
  [[64, 4, 39, 16], [64, 4, 39, 16], false, true],
];
const load0 = os.loadavg()[0] as number;
console.log(`native products on tfjs-node, µs per call (25th percentile of ${REPS} repetitions × ${CALLS} calls)`);
for (const [sa, sb, ta, tb] of CASES) {
  const a = tf.randomNormal(sa);
  const b = tf.randomNormal(sb);
  const r = sa.length;
  const m = sa[ta ? r - 1 : r - 2] as number;
  const k = sa[ta ? r - 2 : r - 1] as number;
  const n = sb[tb ? r - 2 : r - 1] as number;
  const macs = sa.slice(0, -2).reduce((p, q) => p * q, 1) * m * k * n;
  const names = Object.keys(OPS).filter((o) => (r === 2 ? o !== 'V3' : o !== 'MatMul'));
  const t = quartile(names.map((o) => () => OPS[o]!(a, b, ta, tb)));
  const label = `[${sa}]${ta ? 'ᵀ' : ''}·[${sb}]${tb ? 'ᵀ' : ''}`;
  console.log(`  ${label.padEnd(34)} ${`(${(macs / 1e6).toFixed(2)} M)`.padStart(10)}  ${names.map((o, i) => `${o} ${t[i]!.toFixed(0)}`).join('  ')}`);
  tf.dispose([a, b]);
}
console.log(`load ${load0.toFixed(2)}→${(os.loadavg()[0] as number).toFixed(2)}`);
