// The model's shortcuts against the plain formulas they replace: the position bias from cached bucket one-hots
// (equal to a lookup of HF's buckets, on every call), the fused gated tanh-GELU (value and gradient), a
// whole forward with per-example deltas on rows (equal to the same model fed one example at a time), and
// per-group deltas (equal to the same deltas expanded to every example, in forward, gradient and beam search),
// and a shared delta merged into its frozen weight (equal to the separate low-rank product, gradients too).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LowRankDelta } from '@tagi/tensor-core';
import { checkGradients, expectClose, expectNoLeak, testBackends, useBackend, int2d } from '@tagi/tensor-core/testing';
import { makeT5Config } from './config.js';
import { createRandomT5, gatedGeluTanh, relativePositionBucket } from './model.js';
import { mergeDeltaIsCheaper, mergedDeltaLinear } from './ops.js';

const config = makeT5Config({
  vocabSize: 40,
  dModel: 16,
  dKv: 4,
  numHeads: 4,
  dFf: 24,
  numLayers: 2,
  numDecoderLayers: 2,
  relativeAttentionNumBuckets: 8,
  relativeAttentionMaxDistance: 16,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0,
});

/** bias[0, h, i, j] = weight[bucket(j − (i + offset)), h], read from the host (the reference, not the model's path). */
function referenceBias(weight: tf.Tensor, qLen: number, kLen: number, offset: number, bidirectional: boolean): number[][][][] {
  const w = weight.arraySync() as number[][];
  const heads = w[0]!.length;
  return [
    Array.from({ length: heads }, (_, h) =>
      Array.from({ length: qLen }, (__, i) => Array.from({ length: kLen }, (___, j) => w[relativePositionBucket(j - (i + offset), bidirectional, 8, 16)]![h]!)),
    ),
  ];
}

describe.each(testBackends())('fast paths on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("position bias: cached bucket one-hots give HF buckets' weights, on the first and the repeated call", () => {
    const model = createRandomT5(config, 1);
    const enc = model.encoder.blocks[0]!.selfAttn.SelfAttention;
    const dec = model.decoder.blocks[0]!.selfAttn.SelfAttention;
    expectNoLeak(() =>
      tf.tidy(() => {
        for (let rep = 0; rep < 2; rep++) {
          expectClose(enc.computeBias(7, 7), referenceBias(enc.relative_attention_bias!.weight, 7, 7, 0, true).flat(3), { atol: 1e-6, rtol: 0 });
          expectClose(dec.computeBias(1, 5, 4), referenceBias(dec.relative_attention_bias!.weight, 1, 5, 4, false).flat(3), { atol: 1e-6, rtol: 0 });
          // the decoder's table: position bias plus the causal mask
          const table = model.decoder.selfBias(3).arraySync()[0]!;
          const ref = referenceBias(dec.relative_attention_bias!.weight, 3, 3, 0, false)[0]!;
          table.forEach((rows, h) =>
            rows.forEach((row, i) => row.forEach((v, j) => (j > i ? expect(v).toBeLessThan(-1e8) : expect(Math.abs(v - ref[h]![i]![j]!)).toBeLessThan(1e-6)))),
          );
        }
      }),
    );
    model.dispose();
  });

  it("gated tanh-GELU: HF's formula 0.5·a·(1 + tanh(√(2/π)(a + 0.044715a³)))·b and its gradient (finite differences)", () => {
    const a = tf.tensor2d([
      [-6, -2.5, -0.7, 0],
      [0.3, 1.1, 2.4, 7],
    ]);
    const b = tf.tensor2d([
      [0.5, -1.2, 2, 1],
      [-0.4, 0.8, 1.5, -2],
    ]);
    expectNoLeak(() =>
      tf.tidy(() => {
        const av = a.arraySync();
        const bv = b.arraySync();
        const ref = av.map((row, i) => row.map((x, j) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))) * bv[i]![j]!));
        expectClose(gatedGeluTanh(a, b), ref, { atol: 1e-6, rtol: 1e-6 });
      }),
    );
    expectNoLeak(() => checkGradients((x, y) => gatedGeluTanh(x as tf.Tensor, y as tf.Tensor), [a, b], { eps: 1e-3, atol: 1e-3, rtol: 1e-2 }));
    tf.dispose([a, b]);
  });

  it('per-example deltas on rows: the batch equals each example run alone with its own shared delta, gradients too', () => {
    const model = createRandomT5(config, 2).freezeBase();
    const ids = int2d([
      [3, 4, 5, 1],
      [7, 8, 1, 0],
    ]);
    const mask = int2d([
      [1, 1, 1, 1],
      [1, 1, 1, 0],
    ]);
    const labels = int2d([
      [6, 7, 1],
      [9, 1, -100],
    ]);
    const paths = ['encoder.block.1.layer.0.SelfAttention.q', 'decoder.block.0.layer.1.EncDecAttention.v', 'decoder.block.1.layer.2.DenseReluDense.wo'];
    const sizes = new Map(
      model
        .namedModules()
        .filter(([p]) => paths.includes(p))
        .map(([p, m]) => [p, m as unknown as { inFeatures: number; outFeatures: number }]),
    );
    const A = new Map(paths.map((p, k) => [p, tf.variable(tf.randomNormal([2, 3, sizes.get(p)!.inFeatures], 0, 0.3, 'float32', 10 + k))]));
    const B = new Map(paths.map((p, k) => [p, tf.variable(tf.randomNormal([2, sizes.get(p)!.outFeatures, 3], 0, 0.3, 'float32', 20 + k))]));
    const row = (t: tf.Tensor, i: number) => tf.slice(t, [i, 0], [1, -1]);
    const pick = (t: tf.Tensor, i: number) => tf.squeeze(tf.slice(t, [i, 0, 0], [1, -1, -1]), [0]);
    expectNoLeak(() =>
      tf.tidy(() => {
        const per = new Map<string, LowRankDelta>(paths.map((p) => [p, { A: A.get(p)!, B: B.get(p)!, scaling: 0.7 }]));
        const both = model.forward({
          inputIds: ids,
          attentionMask: mask,
          labels,
          decoderInputIds: int2d([
            [0, 6, 7],
            [0, 9, 1],
          ]),
          adapters: per,
        }).logits;
        for (let i = 0; i < 2; i++) {
          const shared = new Map<string, LowRankDelta>(paths.map((p) => [p, { A: pick(A.get(p)!, i), B: pick(B.get(p)!, i), scaling: 0.7 }]));
          const dec = i === 0 ? [[0, 6, 7]] : [[0, 9, 1]];
          const alone = model.forward({
            inputIds: row(ids, i) as tf.Tensor2D,
            attentionMask: row(mask, i) as tf.Tensor2D,
            decoderInputIds: tf.tensor2d(dec, undefined, 'int32'),
            adapters: shared,
          }).logits;
          expectClose(tf.slice(both, [i, 0, 0], [1, -1, -1]), alone, { atol: 1e-5, rtol: 0 });
        }
        const vars = [...A.values(), ...B.values()];
        const { grads } = tf.variableGrads(() => model.forward({ inputIds: ids, attentionMask: mask, labels, adapters: per }).loss as tf.Scalar, vars);
        for (const v of vars) expect(tf.max(tf.abs(grads[v.name] as tf.Tensor)).dataSync()[0]).toBeGreaterThan(0);
      }),
    );
    tf.dispose([ids, mask, labels, ...A.values(), ...B.values()]);
    model.dispose();
  });

  it("a shared delta merged into its weight: x·(W + s·B·A)ᵀ equals x·Wᵀ + s·(x·Aᵀ)·Bᵀ, and its factors' gradients (finite differences)", () => {
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
    const A = tf.randomNormal([3, 5], 0, 1, 'float32', 3);
    const B = tf.randomNormal([4, 3], 0, 1, 'float32', 4);
    expectNoLeak(() =>
      tf.tidy(() => {
        const separate = tf.add(tf.matMul(x, w, false, true), tf.mul(tf.matMul(tf.matMul(x, A, false, true), B, false, true), 0.7));
        expectClose(mergedDeltaLinear(x, w, A, B, 0.7), separate, { atol: 1e-5, rtol: 1e-5 });
      }),
    );
    expectNoLeak(() => checkGradients((a, b, xx) => mergedDeltaLinear(xx as tf.Tensor, w, a as tf.Tensor, b as tf.Tensor, 0.7), [A, B, x]));
    tf.dispose([x, w, A, B]);
    // the cost rule: merge in the tiny T5 (64 × 64, r 16, training and decoding), never in t5-small's training (512 × 512, r 8) or decoding steps
    expect(mergeDeltaIsCheaper(2496, 64, 64, 16, true)).toBe(true);
    expect(mergeDeltaIsCheaper(128, 64, 64, 8, false)).toBe(true);
    expect(mergeDeltaIsCheaper(2048, 512, 512, 8, true)).toBe(false);
    expect(mergeDeltaIsCheaper(8, 512, 512, 8, false)).toBe(false);
  });

  it('per-group deltas (one per task of consecutive examples) equal the deltas expanded per example, beam search too', async () => {
    const model = createRandomT5(config, 4).freezeBase();
    const ids = int2d([
      [3, 4, 5, 1],
      [7, 8, 1, 0],
      [9, 5, 1, 0],
      [6, 1, 0, 0],
    ]);
    const mask = int2d([
      [1, 1, 1, 1],
      [1, 1, 1, 0],
      [1, 1, 1, 0],
      [1, 1, 0, 0],
    ]);
    const labels = int2d([
      [6, 7, 1],
      [9, 1, -100],
      [4, 1, -100],
      [8, 8, 1],
    ]);
    const targets = model.namedModules().filter(([p]) => /(SelfAttention|EncDecAttention)\.(q|v)$/.test(p));
    const grouped = new Map<string, LowRankDelta>();
    targets.forEach(([p, m], k) => {
      const { inFeatures, outFeatures } = m as unknown as { inFeatures: number; outFeatures: number };
      grouped.set(p, {
        A: tf.variable(tf.randomNormal([2, 3, inFeatures], 0, 0.3, 'float32', 30 + k)),
        B: tf.variable(tf.randomNormal([2, outFeatures, 3], 0, 0.3, 'float32', 60 + k)),
        scaling: 1.5,
      });
    });
    const vars = [...grouped.values()].flatMap((d) => [d.A as tf.Variable, d.B as tf.Variable]);
    const rowsOf = tf.tensor1d([0, 0, 1, 1], 'int32'); // examples 0, 1 → group 0; 2, 3 → group 1
    const expanded = () => new Map([...grouped].map(([p, d]) => [p, { A: tf.gather(d.A, rowsOf), B: tf.gather(d.B, rowsOf), scaling: d.scaling }]));
    expectNoLeak(() =>
      tf.tidy(() => {
        const a = tf.variableGrads(() => model.forward({ inputIds: ids, attentionMask: mask, labels, adapters: grouped }).loss as tf.Scalar, vars);
        const b = tf.variableGrads(() => model.forward({ inputIds: ids, attentionMask: mask, labels, adapters: expanded() }).loss as tf.Scalar, vars);
        expectClose(a.value, b.value, { atol: 1e-6, rtol: 1e-6 });
        for (const v of vars) expectClose(a.grads[v.name] as tf.Tensor, b.grads[v.name] as tf.Tensor, { atol: 1e-6, rtol: 1e-4, label: v.name });
      }),
    );
    const before = tf.memory().numTensors;
    const exp = expanded();
    for (const numBeams of [1, 3]) {
      expect(await model.generate(ids as tf.Tensor2D, mask as tf.Tensor2D, { maxNewTokens: 5, numBeams, adapters: grouped })).toEqual(
        await model.generate(ids as tf.Tensor2D, mask as tf.Tensor2D, { maxNewTokens: 5, numBeams, adapters: exp }),
      );
    }
    for (const d of exp.values()) tf.dispose([d.A, d.B]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ids, mask, labels, rowsOf, ...vars]);
    model.dispose();
  });
});
