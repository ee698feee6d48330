// Test fixtures: a tiny random T5 (HF layout, gated-gelu, untied) on the cpu backend, and a small Adam.
import * as tf from '@tensorflow/tfjs-core';
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { useBackend } from '@tagi/tensor-core/testing';
import type { GradientOptimizer } from '../training.js';

export async function useCpu(): Promise<void> {
  await useBackend('cpu');
}

export function tinyT5(seed = 1, overrides: Parameters<typeof makeT5Config>[0] = {}): T5ForConditionalGeneration {
  const config = makeT5Config({
    vocabSize: 64,
    dModel: 32,
    dKv: 8,
    numHeads: 4,
    dFf: 48,
    numLayers: 2,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 16,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
    dropoutRate: 0,
    ...overrides,
  });
  const model = createRandomT5(config, seed);
  model.eval();
  model.setTrainable(false);
  return model;
}

/** Plain Adam over named variables (tests only; trainers pass tensor-core's AdamW). */
export class TestAdam implements GradientOptimizer {
  private readonly m = new Map<string, tf.Tensor>();
  private readonly v = new Map<string, tf.Tensor>();
  private t = 0;
  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly lr = 1e-2,
  ) {}
  step(grads: Map<string, tf.Tensor>): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    for (const [k, g] of grads) {
      const p = this.params.get(k);
      if (!p) throw new Error(`TestAdam: unknown parameter ${k}`);
      const m = tf.tidy(() => tf.add(tf.mul(this.m.get(k) ?? tf.zerosLike(g), b1), tf.mul(g, 1 - b1)));
      const v = tf.tidy(() => tf.add(tf.mul(this.v.get(k) ?? tf.zerosLike(g), b2), tf.mul(tf.square(g), 1 - b2)));
      this.m.get(k)?.dispose();
      this.v.get(k)?.dispose();
      this.m.set(k, m);
      this.v.set(k, v);
      const lrT = (this.lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
      tf.tidy(() => p.assign(tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), 1e-8)), lrT))));
    }
  }
  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
  }
}
