// Per-block activation recomputation: the same loss and gradients as the plain forward, for every kind of
// trainable input a block can have (its own weights in full fine-tuning, shared LoRA factors as variables,
// per-example factors generated from another variable), and nothing left behind.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LowRankDelta } from '@tagi/tensor-core';
import { expectNoLeak, testBackends, useBackend, int2d } from '@tagi/tensor-core/testing';
import { makeT5Config } from './config.js';
import { createRandomT5, type T5ForConditionalGeneration } from './model.js';

const config = makeT5Config({
  vocabSize: 40,
  dModel: 16,
  dKv: 4,
  numHeads: 2,
  dFf: 24,
  numLayers: 2,
  numDecoderLayers: 2,
  relativeAttentionNumBuckets: 8,
  relativeAttentionMaxDistance: 16,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0,
});
const RANK = 2;

function batch() {
  return {
    inputIds: int2d([
      [5, 6, 7, 1],
      [8, 9, 1, 0],
    ]),
    attentionMask: int2d([
      [1, 1, 1, 1],
      [1, 1, 1, 0],
    ]),
    labels: int2d([
      [3, 4, 1],
      [10, 1, -100],
    ]),
  };
}

/** Loss and gradients of `vars` for one forward built by `deltas` (run inside the tape). */
function lossAndGrads(model: T5ForConditionalGeneration, vars: tf.Variable[], deltas: () => Map<string, LowRankDelta> | undefined, recompute: boolean) {
  model.setRecomputeBlocks(recompute);
  const b = batch();
  const { value, grads } = tf.variableGrads(() => model.forward({ ...b, adapters: deltas() }).loss as tf.Scalar, vars);
  const out = { loss: value.dataSync()[0] as number, grads: vars.map((v) => Array.from((grads[v.name] as tf.Tensor).dataSync())) };
  tf.dispose([value, ...Object.values(grads), b.inputIds, b.attentionMask, b.labels]);
  model.setRecomputeBlocks(false);
  return out;
}

function expectSame(a: ReturnType<typeof lossAndGrads>, b: ReturnType<typeof lossAndGrads>): void {
  expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
  let worst = 0;
  let largest = 0;
  a.grads.forEach((g, i) =>
    g.forEach((x, j) => ((worst = Math.max(worst, Math.abs(x - (b.grads[i]![j] as number)))), (largest = Math.max(largest, Math.abs(x))))),
  );
  expect(worst).toBeLessThan(1e-5);
  expect(largest).toBeGreaterThan(1e-4); // the gradients compared are not all zero
}

describe.each(testBackends())('recomputeBlocks on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('full fine-tuning: every weight gets the plain gradient', () => {
    const model = createRandomT5(config, 1).eval();
    const vars = model.namedParameters().map(([, v]) => v);
    expectSame(
      lossAndGrads(model, vars, () => undefined, false),
      lossAndGrads(model, vars, () => undefined, true),
    );
    model.dispose();
  });

  it('shared LoRA factors (variables) on q, v and wo of both stacks', () => {
    const model = createRandomT5(config, 2).eval();
    model.freezeBase();
    const adapters = new Map<string, LowRankDelta>();
    const vars: tf.Variable[] = [];
    for (const [p, m] of model.namedModules()) {
      if (!/(SelfAttention|EncDecAttention)\.(q|v)$|DenseReluDense\.wo$/.test(p)) continue;
      const w = (m as unknown as { weight: tf.Variable }).weight;
      const A = tf.variable(tf.randomNormal([RANK, w.shape[1] as number], 0, 0.3, 'float32', vars.length + 1));
      const B = tf.variable(tf.randomNormal([w.shape[0] as number, RANK], 0, 0.3, 'float32', vars.length + 2));
      vars.push(A, B);
      adapters.set(p, { A, B, scaling: 2 });
    }
    expectSame(
      lossAndGrads(model, vars, () => adapters, false),
      lossAndGrads(model, vars, () => adapters, true),
    );
    const before = tf.memory().numTensors;
    lossAndGrads(model, vars, () => adapters, true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(vars);
    model.dispose();
  });

  it('per-example factors generated from a variable (as a hypernetwork emits them) get the plain gradient upstream', () => {
    const model = createRandomT5(config, 3).eval();
    model.freezeBase();
    const inner = config.numHeads * config.dKv;
    const seedA = tf.variable(tf.randomNormal([2, RANK, config.dModel], 0, 0.3, 'float32', 7));
    const seedB = tf.variable(tf.randomNormal([2, inner, RANK], 0, 0.3, 'float32', 8));
    const paths = model
      .namedModules()
      .map(([p]) => p)
      .filter((p) => /SelfAttention\.(q|v)$/.test(p));
    // intermediates of the step: gone by the backward unless the recomputation keeps them
    const deltas = () => new Map(paths.map((p, i) => [p, { A: tf.mul(tf.tanh(seedA), i + 1), B: tf.sin(seedB), scaling: 1.5 }]));
    expectSame(lossAndGrads(model, [seedA, seedB], deltas, false), lossAndGrads(model, [seedA, seedB], deltas, true));
    tf.dispose([seedA, seedB]);
    model.dispose();
  });

  it('changes nothing without a tape (generation) and leaks nothing', async () => {
    const model = createRandomT5(config, 4).eval().setRecomputeBlocks(true);
    const b = batch();
    const plain = createRandomT5(config, 4).eval();
    const x = await model.generate(b.inputIds, b.attentionMask, { maxNewTokens: 4 });
    const y = await plain.generate(b.inputIds, b.attentionMask, { maxNewTokens: 4 });
    expect(x).toEqual(y);
    await expectNoLeak(() => tf.tidy(() => void model.forward(b).loss!.dataSync()));
    tf.dispose([b.inputIds, b.attentionMask, b.labels]);
    model.dispose();
    plain.dispose();
  });
});
