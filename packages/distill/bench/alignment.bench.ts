// `pnpm bench` for @tagi/distill: parameter alignment in `delta` mode on the t5-small-lm-adapt adapter
// shapes (48 q/v modules, in 512, out 384), Gram form vs materialised ΔW, loss + gradient.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@tagi/tensor-core';
import { parameterAlignmentLoss } from '../src/alignment.js';

const REPEATS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const report = await initBackend({ backend: (process.env['BENCH_BACKEND'] as 'wasm' | 'cpu' | 'tensorflow' | undefined) ?? 'auto' });
  const rng = new Rng(0);
  const rand = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.05),
      shape,
    );
  const modules = Array.from({ length: 48 }, (_, i) => `m${i}`);
  const gen = new Map(modules.map((m) => [m, { A: tf.variable(rand([32, 512])), B: tf.variable(rand([384, 32])), scaling: 1 }]));
  const teacher = new Map(modules.map((m) => [m, { A: rand([8, 512]), B: rand([384, 8]), scaling: 2 }]));
  const vars = [...gen.values()].flatMap((d) => [d.A, d.B]);
  for (const method of ['gram', 'dense'] as const) {
    const run = () => {
      const { value, grads } = tf.variableGrads(() => parameterAlignmentLoss(gen, teacher, { mode: 'delta', deltaMethod: method }), vars);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    run();
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t = performance.now();
      run();
      times.push(performance.now() - t);
    }
    console.log(`${report.backend}: delta alignment (${method}), 48 modules 512→384, rank 32 vs 8, loss + gradients: median ${median(times).toFixed(1)} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
