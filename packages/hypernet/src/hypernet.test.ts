import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, Linear, fit } from '@tagi/tensor-core';
import { expectClose, expectNoLeak, testBackends, useBackend, int2d } from '@tagi/tensor-core/testing';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { padIds } from './batching.js';
import { matchesTarget, targetModulesRegex } from '@tagi/lora';
import { DEFAULT_TARGETS, hypernetConfigToJson, parseHypernetConfig, resolveHypernetConfig } from './config.js';
import { HypernetConfigError } from './errors.js';
import { HyperNetwork, disposeDeltas, disposeEncoding, maskedMeanPool, resolveTargets } from './hypernet.js';
import { InstructionCache, finetuneHypernet, finetuneObjective } from './training.js';

let base: ReturnType<typeof tinyT5>;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
});
afterAll(() => base.dispose());

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe('targets', () => {
  it('default: q and v of encoder self-, decoder self- and cross-attention, grouped by shape', () => {
    const t = resolveTargets(base, new HyperNetwork(base).config.targets);
    expect(t.map((x) => x.path).sort()).toEqual(
      [0, 1]
        .flatMap((i) => [
          `decoder.block.${i}.layer.0.SelfAttention.q`,
          `decoder.block.${i}.layer.0.SelfAttention.v`,
          `decoder.block.${i}.layer.1.EncDecAttention.q`,
          `decoder.block.${i}.layer.1.EncDecAttention.v`,
          `encoder.block.${i}.layer.0.SelfAttention.q`,
          `encoder.block.${i}.layer.0.SelfAttention.v`,
        ])
        .sort(),
    );
    expect(t.every((x) => x.inFeatures === 32 && x.outFeatures === 32)).toBe(true);
  });

  it('takes custom patterns (feed-forward of different shapes → separate head groups) and rejects a pattern that matches nothing', () => {
    const t = resolveTargets(base, ['encoder\\.block\\.0\\.layer\\.1\\.DenseReluDense\\.(wi_0|wo)']);
    expect(t.map((x) => [x.path, x.inFeatures, x.outFeatures, x.group])).toEqual([
      ['encoder.block.0.layer.1.DenseReluDense.wi_0', 32, 48, 0],
      ['encoder.block.0.layer.1.DenseReluDense.wo', 48, 32, 1],
    ]);
    expect(() => resolveTargets(base, ['nothing\\.here'])).toThrow(HypernetConfigError);
    expect(() => new HyperNetwork(base, { rank: 0, pooling: 'max' as 'mean' })).toThrow(/rank: expected a positive integer[\s\S]*pooling/);
  });

  it("speaks peft's target_modules: a list of names selects what @tagi/lora's peft matching selects, a string is a full-match regex", () => {
    const paths = base
      .namedModules()
      .filter(([, m]) => m instanceof Linear)
      .map(([p]) => p);
    const specs: (string | string[])[] = [['q', 'v'], ['q', 'k', 'v', 'o'], ['SelfAttention.q', 'wo'], '.*EncDecAttention\\.(k|o)', ['lm_head']];
    for (const spec of specs) {
      // the reference: @tagi/lora's matching, which is peft's (string: re.fullmatch; list: equal or ends with '.<name>')
      const want = paths.filter((p) => matchesTarget(p, spec)).sort();
      expect(want.length, JSON.stringify(spec)).toBeGreaterThan(0);
      expect(
        resolveTargets(base, spec)
          .map((t) => t.path)
          .sort(),
        JSON.stringify(spec),
      ).toEqual(want);
      const hn = new HyperNetwork(base, { targets: spec, rank: 2, hiddenDim: 8, moduleEmbeddingDim: 4 });
      expect(hn.targetModules.map((t) => t.path).sort()).toEqual(want);
      hn.dispose();
      // the one regex written into generated adapters' peft configs selects the same modules
      expect(paths.filter((p) => new RegExp(`^(?:${targetModulesRegex(spec)})$`).test(p)).sort(), JSON.stringify(spec)).toEqual(want);
    }
    // a list entry that is not a plain dotted name stays a full-match regex (hypernet_config.json files written before)
    expect(resolveTargets(base, DEFAULT_TARGETS).length).toBe(12);
    expect(resolveTargets(base, ['q', 'decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v']).map((t) => t.path)).toContain(
      'decoder.block.0.layer.1.EncDecAttention.v',
    );
    // config round trip keeps the form the user gave
    const json = hypernetConfigToJson(resolveHypernetConfig({ targets: ['q', 'v'] }));
    expect(json['targets']).toEqual(['q', 'v']);
    expect(parseHypernetConfig(json).config.targets).toEqual(['q', 'v']);
    expect(parseHypernetConfig({ ...json, targets: '.*\\.q' }).config.targets).toBe('.*\\.q');
    expect(() => resolveHypernetConfig({ targets: [] })).toThrow(/targets/);
    expect(() => resolveHypernetConfig({ targets: '(' })).toThrow(/targets: invalid regular expression/);
    expect(() => resolveHypernetConfig({ targets: ['q', '('] })).toThrow(/targets\.1: invalid regular expression/);
    expect(() => resolveTargets(base, ['nope'])).toThrow(/no Linear module of the base model matches "nope"/);
  });
});

describe('pooling', () => {
  it('masked mean ignores padding positions whatever they hold', () => {
    tf.tidy(() => {
      const states = tf.tensor3d([
        [
          [1, 2],
          [3, 4],
          [100, -100],
        ],
      ]);
      const pooled = maskedMeanPool(states, tf.tensor2d([[1, 1, 0]]));
      expect(Array.from(pooled.dataSync())).toEqual([2, 3]);
    });
  });

  for (const pooling of ['mean', 'queries'] as const) {
    it(`${pooling}: padding the instruction does not change the generated adapter`, () => {
      const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, pooling, bHeadInitStd: 0.1 });
      expectNoLeak(() => {
        const short = padIds([[5, 9, 11, 1]], 0);
        const padded = padIds(
          [
            [5, 9, 11, 1],
            [7, 7, 7, 7, 7, 7, 7, 1],
          ],
          0,
        ); // row 0 gets 4 pad positions
        const e1 = hn.encodeInstructions(short.ids, short.mask);
        const e2 = hn.encodeInstructions(padded.ids, padded.mask);
        const d1 = hn.generate(e1);
        const d2 = hn.generate(e2);
        for (const [k, d] of d1) {
          const other = d2.get(k)!;
          const a2 = tf.slice(other.A, [0, 0, 0], [1, -1, -1]);
          const b2 = tf.slice(other.B, [0, 0, 0], [1, -1, -1]);
          expect(maxAbsDiff(d.A, a2)).toBeLessThan(1e-5);
          expect(maxAbsDiff(d.B, b2)).toBeLessThan(1e-5);
          tf.dispose([a2, b2]);
        }
        // and the two instructions do give different adapters (the check above is not vacuous)
        const q = 'encoder.block.0.layer.0.SelfAttention.q';
        const bRows = tf.unstack(d2.get(q)!.B);
        expect(maxAbsDiff(bRows[0]!, bRows[1]!)).toBeGreaterThan(1e-4);
        tf.dispose(bRows);
        [d1, d2].forEach(disposeDeltas);
        [e1, e2].forEach(disposeEncoding);
        tf.dispose([short.ids, short.mask, padded.ids, padded.mask]);
      });
      hn.dispose();
    });
  }
});

describe('generator', () => {
  it('emits A [r, in] / B [out, r] (shared) or with a batch axis (per row), scaling alpha/r', () => {
    const hn = new HyperNetwork(base, { rank: 3, loraAlpha: 6, hiddenDim: 16, moduleEmbeddingDim: 8 });
    expectNoLeak(() => {
      const x = padIds(
        [
          [4, 5, 1],
          [6, 1],
        ],
        0,
      );
      const enc = hn.encodeInstructions(x.ids, x.mask);
      const per = hn.generate(enc);
      expect(per.size).toBe(12);
      for (const d of per.values()) {
        expect(d.A.shape).toEqual([2, 3, 32]);
        expect(d.B.shape).toEqual([2, 32, 3]);
        expect(d.scaling).toBe(2);
      }
      expect(() => hn.generate(enc, { shared: true })).toThrow(/one instruction row/);
      const one = padIds([[4, 5, 1]], 0);
      const enc1 = hn.encodeInstructions(one.ids, one.mask);
      const shared = hn.generate(enc1, { shared: true });
      for (const d of shared.values()) {
        expect(d.A.shape).toEqual([3, 32]);
        expect(d.B.shape).toEqual([32, 3]);
      }
      [per, shared].forEach(disposeDeltas);
      [enc, enc1].forEach(disposeEncoding);
      tf.dispose([x.ids, x.mask, one.ids, one.mask]);
    });
    hn.dispose();
  });

  it('starts near zero: with the default init the student equals the base model (fusion none); a small B init stays close', () => {
    for (const [bHeadInitStd, tol] of [
      [0, 1e-6],
      [1e-4, 2e-2],
    ] as const) {
      const hn = new HyperNetwork(base, { rank: 4, hiddenDim: 16, moduleEmbeddingDim: 8, fusion: 'none', bHeadInitStd });
      expectNoLeak(() =>
        tf.tidy(() => {
          const instr = padIds([[8, 9, 10, 11, 1]], 0);
          const enc = hn.encodeInstructions(instr.ids, instr.mask);
          const deltas = hn.generate(enc, { shared: true });
          const x = padIds(
            [
              [3, 4, 5, 1],
              [6, 7, 1],
            ],
            0,
          );
          const labels = int2d([
            [2, 3, 1],
            [4, 1, -100],
          ]);
          const plain = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels }).logits;
          const adapted = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, adapters: deltas }).logits;
          const diff = maxAbsDiff(plain, adapted);
          expect(diff).toBeLessThanOrEqual(tol);
          if (bHeadInitStd > 0) expect(diff).toBeGreaterThan(0);
          // A is not zero (B's gradient needs it): only B starts at zero
          const a = deltas.get('encoder.block.0.layer.0.SelfAttention.q')!.A;
          expect(tf.max(tf.abs(a)).dataSync()[0]).toBeGreaterThan(1e-2);
          disposeEncoding(enc);
        }),
      );
      hn.dispose();
    }
  });
});

/** The generator written out per module in float64 JS from the parameter values (independent of `generate`). */
function referenceAdapters(hn: HyperNetwork, states: number[][][], mask: number[][]): Map<string, { A: number[][][]; B: number[][][] }> {
  const P = new Map(hn.namedParameters().map(([k, v]) => [k, { v: Array.from(v.dataSync()), shape: v.shape }]));
  const get = (k: string) => P.get(k)!;
  // y = W·x (+ b), W [out, in] row-major
  const affine = (w: { v: number[]; shape: number[] }, x: number[], b?: { v: number[] }) =>
    Array.from({ length: w.shape[0]! }, (_, o) => x.reduce((s, xi, i) => s + w.v[o * w.shape[1]! + i]! * xi, b ? b.v[o]! : 0));
  const d = states[0]![0]!.length;
  const emb = get('targets.module_embeddings');
  const out = new Map<string, { A: number[][][]; B: number[][][] }>();
  hn.targetModules.forEach((t, m) => {
    const e = emb.v.slice(m * emb.shape[1]!, (m + 1) * emb.shape[1]!);
    const he = affine(get('embed_proj.weight'), e);
    const A: number[][][] = [];
    const B: number[][][] = [];
    states.forEach((rowStates, row) => {
      let pooled: number[];
      if (hn.config.pooling === 'mean') {
        const n = mask[row]!.reduce((s, x) => s + x, 0);
        pooled = Array.from({ length: d }, (_, j) => rowStates.reduce((s, st, tIdx) => s + st[j]! * mask[row]![tIdx]!, 0) / n);
      } else {
        const q = get('targets.queries').v.slice(m * d, (m + 1) * d);
        const logits = rowStates.map((st, tIdx) => st.reduce((s, x, j) => s + x * q[j]!, 0) / Math.sqrt(d) + (mask[row]![tIdx] ? 0 : -1e9));
        const mx = Math.max(...logits);
        const w = logits.map((l) => Math.exp(l - mx));
        const z = w.reduce((s, x) => s + x, 0);
        pooled = Array.from({ length: d }, (_, j) => rowStates.reduce((s, st, tIdx) => s + (w[tIdx]! / z) * st[j]!, 0));
      }
      const hp = affine(get('input_proj.weight'), pooled, get('input_proj.bias'));
      const h = hp.map((x, i) => Math.max(0, x + he[i]!));
      const a = affine(get(`heads.${t.group}.a_head.weight`), h, get(`heads.${t.group}.a_head.bias`)); // [r·in]
      const b = affine(get(`heads.${t.group}.b_head.weight`), h, get(`heads.${t.group}.b_head.bias`)); // [out·r]
      const r = hn.config.rank;
      A.push(Array.from({ length: r }, (_, i) => a.slice(i * t.inFeatures, (i + 1) * t.inFeatures)));
      B.push(Array.from({ length: t.outFeatures }, (_, o) => b.slice(o * r, (o + 1) * r)));
    });
    out.set(t.path, { A, B });
  });
  return out;
}

describe.each(testBackends())('generator against an independent computation (%s)', (backend) => {
  let model: ReturnType<typeof tinyT5>;
  beforeAll(async () => {
    await useBackend(backend);
    model = tinyT5();
  });
  afterAll(async () => {
    model.dispose();
    await useCpu();
  });
  // three head groups of different shapes: wi_0 [32→48], wo [48→32], q/v [32→32]
  const targets = ['encoder\\.block\\.0\\.layer\\.1\\.DenseReluDense\\.(wi_0|wo)', 'decoder\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.(q|v)'];
  for (const pooling of ['mean', 'queries'] as const) {
    it(`${pooling} pooling: every module's A and B equal the per-module formula (per row and shared), and gradients equal those of a per-module product`, () => {
      const hn = new HyperNetwork(
        model,
        { rank: 3, hiddenDim: 16, moduleEmbeddingDim: 8, pooling, targets, bHeadInitStd: 0.2, aHeadInitStd: 0.2 },
        { seed: 5 },
      );
      expect(new Set(hn.targetModules.map((t) => t.group)).size).toBe(3);
      expectNoLeak(() =>
        tf.tidy(() => {
          const x = padIds(
            [
              [4, 5, 9, 1],
              [6, 1],
            ],
            0,
          );
          const enc = hn.encodeInstructions(x.ids, x.mask);
          const ref = referenceAdapters(hn, enc.states.arraySync(), enc.mask.arraySync());
          const per = hn.generate(enc);
          for (const [path, d] of per) {
            expectClose(d.A, ref.get(path)!.A, { atol: 1e-5, rtol: 1e-4, label: `${path}.A` });
            expectClose(d.B, ref.get(path)!.B, { atol: 1e-5, rtol: 1e-4, label: `${path}.B` });
          }
          const one = padIds([[6, 1]], 0);
          const enc1 = hn.encodeInstructions(one.ids, one.mask);
          for (const [path, d] of hn.generate(enc1, { shared: true })) {
            expectClose(d.A, ref.get(path)!.A[1]!, { atol: 1e-5, rtol: 1e-4, label: `${path}.A shared` });
            expectClose(d.B, ref.get(path)!.B[1]!, { atol: 1e-5, rtol: 1e-4, label: `${path}.B shared` });
          }
          // gradients: a weighted sum of every factor, through generate vs through one plain product per module
          const params = hn.parameters();
          const weights = [...per].map(
            ([, d], i) => [tf.randomNormal(d.A.shape, 0, 1, 'float32', i), tf.randomNormal(d.B.shape, 0, 1, 'float32', 100 + i)] as const,
          );
          const objective = (deltas: Map<string, { A: tf.Tensor; B: tf.Tensor }>) =>
            tf.addN([...deltas.values()].map((d, i) => tf.add(tf.sum(tf.mul(d.A, weights[i]![0])), tf.sum(tf.mul(d.B, weights[i]![1]))))) as tf.Scalar;
          const viaGenerate = tf.variableGrads(() => objective(hn.generate(enc)), params);
          const viaModules = tf.variableGrads(() => {
            const pooled = hn.pool(enc); // [rows, d] | [rows, modules, d]
            const he = hn.embed_proj.forward(hn.targets.module_embeddings); // [modules, H]
            const deltas = new Map<string, { A: tf.Tensor; B: tf.Tensor }>();
            hn.targetModules.forEach((t, m) => {
              const p = pooled.rank === 2 ? pooled : tf.squeeze(tf.slice(pooled, [0, m, 0], [-1, 1, -1]), [1]); // [rows, d]
              const h = tf.relu(tf.add(hn.input_proj.forward(p), tf.slice(he, [m, 0], [1, -1]))); // [rows, H]
              const head = hn.heads.at(t.group);
              deltas.set(t.path, {
                A: tf.reshape(tf.add(tf.matMul(h, head.a_head.weight, false, true), head.a_head.bias!), [-1, 3, t.inFeatures]), // [rows, r, in]
                B: tf.reshape(tf.add(tf.matMul(h, head.b_head.weight, false, true), head.b_head.bias!), [-1, t.outFeatures, 3]), // [rows, out, r]
              });
            });
            return objective(deltas);
          }, params);
          expectClose(viaGenerate.value, viaModules.value, { atol: 1e-4, rtol: 1e-5 });
          for (const v of params) {
            const g = viaGenerate.grads[v.name];
            const ref2 = viaModules.grads[v.name];
            expect(g === undefined, v.name).toBe(ref2 === undefined);
            if (g && ref2) expectClose(g, ref2, { atol: 1e-4, rtol: 1e-4, label: `grad ${v.name}` });
          }
          expect(Object.keys(viaGenerate.grads).length).toBeGreaterThan(6);
        }),
      );
      hn.dispose();
    });
  }
});

describe('fusion', () => {
  it('concat: the prefix is the instruction states repeated per example (or chosen per example) with its mask', () => {
    const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8 });
    expectNoLeak(() =>
      tf.tidy(() => {
        const instr = padIds(
          [
            [8, 9, 1],
            [10, 11, 12, 13, 1],
          ],
          0,
        );
        const enc = hn.encodeInstructions(instr.ids, instr.mask);
        const p = hn.fusionPrefix(enc, 3, [1, 0, 1])!;
        expect(p.states.shape).toEqual([3, 5, 32]);
        expect(p.mask.arraySync()).toEqual([
          [1, 1, 1, 1, 1],
          [1, 1, 1, 0, 0],
          [1, 1, 1, 1, 1],
        ]);
        expect(maxAbsDiff(tf.slice(p.states, [0, 0, 0], [1, -1, -1]), tf.slice(enc.states, [1, 0, 0], [1, -1, -1]))).toBe(0);
        // the student sees the prefix: logits change with fusion on, shapes stay [batch, tgt, vocab]
        const x = padIds(
          [
            [3, 4, 1],
            [5, 1],
            [6, 1],
          ],
          0,
        );
        const labels = int2d([
          [2, 1],
          [3, 1],
          [4, 1],
        ]);
        const fused = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, encoderPrefix: p }).logits;
        const plain = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels }).logits;
        expect(fused.shape).toEqual([3, 2, 64]);
        expect(maxAbsDiff(fused, plain)).toBeGreaterThan(1e-3);
        disposeEncoding(enc);
      }),
    );
    const none = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, fusion: 'none' });
    tf.tidy(() => {
      const instr = padIds([[8, 9, 1]], 0);
      const enc = none.encodeInstructions(instr.ids, instr.mask);
      expect(none.fusionPrefix(enc, 2)).toBeUndefined();
    });
    hn.dispose();
    none.dispose();
  });

  it('selectRows expands per-task adapters to per-example ones', () => {
    const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, bHeadInitStd: 0.1 });
    expectNoLeak(() =>
      tf.tidy(() => {
        const instr = padIds(
          [
            [8, 9, 1],
            [10, 11, 12, 1],
          ],
          0,
        );
        const enc = hn.encodeInstructions(instr.ids, instr.mask);
        const per = hn.generate(enc);
        const ex = HyperNetwork.selectRows(per, [1, 1, 0]);
        const k = 'decoder.block.1.layer.1.EncDecAttention.v';
        expect(ex.get(k)!.B.shape).toEqual([3, 32, 2]);
        expect(maxAbsDiff(tf.slice(ex.get(k)!.B, [2, 0, 0], [1, -1, -1]), tf.slice(per.get(k)!.B, [0, 0, 0], [1, -1, -1]))).toBeLessThan(1e-6);
        expect(maxAbsDiff(tf.slice(ex.get(k)!.A, [0, 0, 0], [1, -1, -1]), tf.slice(per.get(k)!.A, [1, 0, 0], [1, -1, -1]))).toBeLessThan(1e-6);
        disposeEncoding(enc);
      }),
    );
    hn.dispose();
  });
});

describe('per-task caching', () => {
  it('encodes each task instruction once for a whole finetuning run', async () => {
    const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8 });
    const opt = new AdamW(hn.namedParameters(), { lr: 1e-3 });
    const tasks = ['t1', 't2', 't3'].map((taskId, i) => ({
      taskId,
      instructionIds: [10 + i, 11 + i, 1],
      examples: [0, 1, 2].map((j) => ({ id: `${taskId}-${j}`, inputIds: [3 + j, 4, 1], labelIds: [5 + i, 1] })),
    }));
    await expectNoLeak(async () => {
      const objective = finetuneObjective({ hypernet: hn, tasks, batchSize: 2, loss: { lambdaKl: 0 } });
      const seen: string[] = [];
      const res = await fit({
        ...objective,
        name: 'finetune',
        optimizer: opt,
        steps: 7,
        onStep: (r) => void seen.push(objective.taskOf({ step: r.step - 1, micro: 0 })),
      });
      objective.dispose();
      expect(res.step).toBe(7);
      expect(new Set(seen)).toEqual(new Set(['t1', 't2', 't3']));
      opt.dispose();
    });
    expect(hn.encoderCalls).toBe(3);
    // the cache class itself
    const cache = new InstructionCache(hn);
    cache.get('a', [4, 1]);
    cache.get('a', [4, 1]);
    cache.get('b', [5, 1]);
    expect(hn.encoderCalls).toBe(5);
    cache.dispose();
    hn.dispose();
  });
});

describe("encoder: 'separate'", () => {
  it('starts as the base encoder, is trained (not cached) while the base stays frozen, and round-trips through a checkpoint', async () => {
    const { saveHypernet, loadHypernet } = await import('./node.js');
    const os = await import('node:os');
    const path = await import('node:path');
    const fs = await import('node:fs/promises');
    const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, encoder: 'separate', bHeadInitStd: 0.01 });
    expect(hn.namedParameters().some(([k]) => k === 'instruction_encoder.block.0.layer.0.SelfAttention.q.weight')).toBe(true);
    tf.tidy(() => {
      const x = padIds([[8, 9, 10, 1]], 0);
      const own = hn.encodeInstructions(x.ids, x.mask);
      expect(maxAbsDiff(own.states, base.encode(x.ids, x.mask))).toBeLessThan(1e-6);
    });
    const q = 'instruction_encoder.block.1.layer.0.SelfAttention.q.weight';
    const before = tf.clone(new Map(hn.namedParameters()).get(q)!);
    const baseBefore = tf.clone(base.encoder.blocks[1]!.selfAttn.SelfAttention.q.weight);
    const calls = hn.encoderCalls;
    const tasks = [{ taskId: 't', instructionIds: [10, 11, 1], examples: [{ id: 'e', inputIds: [3, 4, 1], labelIds: [5, 1] }] }];
    await finetuneHypernet({ hypernet: hn, tasks, steps: 3, batchSize: 2, optimizer: new AdamW(hn.namedParameters(), { lr: 1e-2 }), loss: { lambdaKl: 0 } });
    expect(hn.encoderCalls - calls).toBe(3);
    expect(maxAbsDiff(before, new Map(hn.namedParameters()).get(q)!)).toBeGreaterThan(1e-5);
    expect(maxAbsDiff(baseBefore, base.encoder.blocks[1]!.selfAttn.SelfAttention.q.weight)).toBe(0);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hypernet-sep-'));
    await saveHypernet(dir, hn);
    const loaded = await loadHypernet(dir, base);
    tf.tidy(() => {
      const x = padIds([[12, 13, 1]], 0);
      const a = hn.generate(hn.encodeInstructions(x.ids, x.mask), { shared: true });
      const b = loaded.generate(loaded.encodeInstructions(x.ids, x.mask), { shared: true });
      for (const [k, d] of a) expect(maxAbsDiff(d.B, b.get(k)!.B)).toBe(0);
    });
    await fs.rm(dir, { recursive: true, force: true });
    tf.dispose([before, baseBefore]);
    hn.dispose();
    loaded.dispose();
  });
});
