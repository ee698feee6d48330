// Runnable usage example (mirrored in the README): `npx tsx examples/quickstart.ts`.
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, Linear, Module, RMSNorm, Rng, initBackend } from '../src/index.js';
import { readSafetensors, writeSafetensors } from '../src/node.js';

class Block extends Module {
  readonly layer_norm: RMSNorm;
  readonly q: Linear;
  constructor(rng: Rng) {
    super();
    this.layer_norm = this.registerModule('layer_norm', new RMSNorm(16));
    this.q = this.registerModule('q', new Linear(16, 16, { bias: false, rng }));
  }
}

export async function quickstart(backend: 'auto' | 'wasm' | 'cpu' = 'auto'): Promise<{ backend: string; names: string[]; losses: number[] }> {
  const report = await initBackend({ backend }); // auto: tfjs-node-gpu → tfjs-node → wasm → cpu
  const rng = new Rng(0);
  const block = new Block(rng.fork('init'));
  const x = tf.tensor(rng.normalArray(2 * 5 * 16), [2, 5, 16]); // [batch, seq, dModel]
  // a LoRA delta supplied at call time: A [r, in], B [out, r]
  const A = tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(4 * 16, 0, 0.1), [4, 16])));
  const B = tf.tidy(() => tf.variable(tf.zeros([16, 4])));
  const lora = { A, B, scaling: 2 };
  block.setTrainable(false); // frozen base; only the adapter trains
  const opt = new AdamW(
    [
      ['lora_A', lora.A],
      ['lora_B', lora.B],
    ],
    { lr: 1e-2, weightDecay: 0 },
  );
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(tf.sub(block.q.forward(block.layer_norm.forward(x), lora), 1))) as tf.Scalar,
      [lora.A, lora.B],
    );
    opt.step(grads);
    losses.push(value.dataSync()[0] as number);
    tf.dispose([value, ...Object.values(grads)]);
  }
  const file = path.join(os.tmpdir(), `tagi-quickstart-${process.pid}.safetensors`);
  await writeSafetensors(file, block.stateDict(), { format: 'pt' });
  const { tensors } = await readSafetensors(file);
  block.loadStateDict(tensors); // strict: throws StateDictError {missing, unexpected, mismatched}
  const names = [...tensors.keys()];
  tf.dispose([...tensors.values(), x, lora.A, lora.B]);
  opt.dispose();
  block.dispose();
  return { backend: report.backend, names, losses };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await quickstart();
  console.log(`backend ${r.backend}; parameters ${r.names.join(', ')}; loss ${r.losses.map((l) => l.toFixed(4)).join(' → ')}`);
}
