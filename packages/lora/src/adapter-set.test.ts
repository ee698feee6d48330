// AdapterSet against peft 0.21 on the golden tiny T5 (copied into __fixtures__, see NOTICE), plus the
// invariants that need no reference: fresh = identity, merge/unmerge, dropout only in training, etc.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@tagi/tensor-core';
import { expectClose, expectNoLeak, testBackends, useBackend, int2d } from '@tagi/tensor-core/testing';
import { T5ForConditionalGeneration } from '@tagi/t5-model/node';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { AdapterMergeError, AdapterSet, AdapterShapeError, lowRankSingularValues } from './adapter-set.js';
import { loraConfig } from './config.js';
import { TargetMatchError, matchTargets, peftKey, targetModulesRegex } from './targets.js';
import { AdapterFileError, loadAdapter, saveAdapter } from './node.js';

const dir = path.resolve(import.meta.dirname, '..', '__fixtures__', 'tiny-gated-untied');
const loraDir = path.join(dir, 'lora');
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
const expected = JSON.parse(fs.readFileSync(path.join(loraDir, 'expected.json'), 'utf8')) as {
  logits: number[][][];
  loss: number;
  logits_merged: number[][][];
  loss_merged: number;
  encoder_last_hidden_state: number[][][];
  generate: { sequences: number[][] };
  grads: Record<string, number[][]>;
};

const batch = () => ({
  inputIds: tf.tensor2d(inputs.input_ids, undefined, 'int32'),
  attentionMask: tf.tensor2d(inputs.attention_mask, undefined, 'int32'),
  labels: tf.tensor2d(inputs.labels, undefined, 'int32'),
});
const disposeBatch = (b: ReturnType<typeof batch>) => tf.dispose([b.inputIds, b.attentionMask, b.labels]);

const tmpDirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-lora-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe.each(testBackends())('golden peft adapter on %s', (backend) => {
  let model: T5ForConditionalGeneration;
  let adapter: AdapterSet;

  beforeAll(async () => {
    await useBackend(backend);
    model = await T5ForConditionalGeneration.fromPretrained(dir);
    model.eval();
    adapter = await loadAdapter(loraDir, { model, trainable: true });
  });
  afterAll(() => {
    adapter.dispose();
    model.dispose();
  });

  it('loads all 28 factors with scaling alpha/r = 2', () => {
    expect(adapter.size).toBe(14);
    expect(adapter.scaling).toBe(2);
    expect([...adapter.namedVariables().keys()].sort()).toEqual(Object.keys(expected.grads).sort());
  });

  it('reproduces peft logits and loss', () => {
    expectNoLeak(() => {
      const b = batch();
      const out = model.forward({ ...b, adapters: adapter.deltas });
      expectClose(out.logits, expected.logits, { atol: 1e-4, rtol: 0, label: 'logits' });
      expectClose(out.encoderLastHiddenState, expected.encoder_last_hidden_state, { atol: 1e-4, rtol: 0, label: 'encoder' });
      expect(Math.abs(out.loss!.dataSync()[0]! - expected.loss)).toBeLessThan(1e-5);
      tf.dispose([out.logits, out.loss, out.encoderLastHiddenState]);
      disposeBatch(b);
    });
  });

  it('gradients w.r.t. every lora_A / lora_B match peft', () => {
    expectNoLeak(() => {
      const b = batch();
      const vars = adapter.namedVariables();
      const { value, grads } = tf.variableGrads(() => model.forward({ ...b, adapters: adapter.deltas }).loss!, [...vars.values()]);
      for (const [name, v] of vars) expectClose(grads[v.name]!, expected.grads[name]!, { atol: 1e-5, rtol: 1e-3, label: name });
      // the frozen base received no gradient at all: only the 28 factors were differentiated
      expect(Object.keys(grads)).toHaveLength(28);
      tf.dispose([value, ...Object.values(grads)]);
      disposeBatch(b);
    });
  });

  it('merged and unmerged forwards agree; merge then unmerge restores the base weights', () => {
    expectNoLeak(() => {
      const b = batch();
      const before = new Map(adapter.paths.map((p) => [p, tf.clone((model.getModule(p) as unknown as { weight: tf.Tensor }).weight)]));
      const unmerged = model.forward({ ...b, adapters: adapter.deltas });
      adapter.merge(model);
      const merged = model.forward(b);
      expectClose(merged.logits, unmerged.logits, { atol: 1e-5, rtol: 0, label: 'merged vs unmerged' });
      expectClose(merged.logits, expected.logits_merged, { atol: 1e-4, rtol: 0, label: 'merged vs peft merged' });
      expect(Math.abs(merged.loss!.dataSync()[0]! - expected.loss_merged)).toBeLessThan(1e-5);
      adapter.unmerge(model);
      let worst = 0;
      for (const [p, w0] of before) {
        const w = (model.getModule(p) as unknown as { weight: tf.Tensor }).weight;
        worst = Math.max(
          worst,
          tf.tidy(() => tf.max(tf.abs(tf.sub(w, w0))).dataSync()[0]!),
        );
      }
      // float32 add-then-subtract: exact up to rounding (|W|, |ΔW| < 4 here, so a few ulp ≈ 1e-6)
      expect(worst).toBeLessThan(2e-6);
      tf.dispose([
        unmerged.logits,
        unmerged.loss,
        unmerged.encoderLastHiddenState,
        merged.logits,
        merged.loss,
        merged.encoderLastHiddenState,
        ...before.values(),
      ]);
      disposeBatch(b);
    });
  });

  it('a restorable merge gives the unmerged forward and puts every weight back bit for bit, however many adapters are served in turn', () => {
    expectNoLeak(() => {
      const b = batch();
      const paths = AdapterSet.create(model, loraConfig({ r: 2, loraAlpha: 4 }), { seed: 0 });
      const before = new Map(paths.paths.map((p) => [p, Array.from((model.getModule(p) as unknown as { weight: tf.Tensor }).weight.dataSync())]));
      paths.dispose();
      for (let k = 0; k < 5; k++) {
        const set = AdapterSet.create(model, loraConfig({ r: 2, loraAlpha: 4 }), { seed: 10 + k, initBStd: 0.1 });
        const unmerged = model.forward({ ...b, adapters: set.deltas });
        set.merge(model, { restorable: true });
        const merged = model.forward(b);
        set.unmerge(model);
        expectClose(merged.logits, unmerged.logits, { atol: 1e-4, rtol: 0, label: `adapter ${k}: merged vs unmerged` });
        tf.dispose([unmerged.logits, unmerged.loss, unmerged.encoderLastHiddenState, merged.logits, merged.loss, merged.encoderLastHiddenState]);
        set.dispose();
      }
      for (const [p, w0] of before) expect(Array.from((model.getModule(p) as unknown as { weight: tf.Tensor }).weight.dataSync()), p).toEqual(w0);
      disposeBatch(b);
    });
  });

  it('greedy generation equals peft', async () => {
    const b = batch();
    const seqs = await model.generate(b.inputIds, b.attentionMask, { maxNewTokens: 10, adapters: adapter.deltas });
    expect(seqs).toEqual(expected.generate.sequences);
    disposeBatch(b);
  });

  it('B = 0 gives the base model outputs exactly; a fresh adapter is the identity', () => {
    expectNoLeak(() => {
      const b = batch();
      const fresh = AdapterSet.create(model, loraConfig({ r: 4, loraAlpha: 8, targetModules: ['q', 'k', 'v', 'o'] }), { seed: 3 });
      expect(fresh.size).toBe(4 * (3 + 2 * 2));
      const base = model.forward(b);
      const adapted = model.forward({ ...b, adapters: fresh.deltas });
      expect(Array.from(adapted.logits.dataSync())).toEqual(Array.from(base.logits.dataSync()));
      // A is Kaiming-uniform: U(±1/sqrt(in)), nonzero; B zeros
      const a = fresh.factorsOf('encoder.block.0.layer.0.SelfAttention.q')!.A.dataSync();
      expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(48));
      expect(Math.max(...Array.from(a, Math.abs))).toBeGreaterThan(0.8 / Math.sqrt(48));
      fresh.dispose();
      tf.dispose([base.logits, base.loss, base.encoderLastHiddenState, adapted.logits, adapted.loss, adapted.encoderLastHiddenState]);
      disposeBatch(b);
    });
  });

  it('save then load is bit-identical (config and tensors)', async () => {
    const out = tmp();
    await saveAdapter(out, adapter);
    const back = await loadAdapter(out, { model });
    for (const p of adapter.paths) {
      for (const k of ['A', 'B'] as const) {
        expect(Array.from(back.factorsOf(p)![k].dataSync())).toEqual(Array.from(adapter.factorsOf(p)![k].dataSync()));
      }
    }
    expect(back.config).toEqual(adapter.config);
    // the tensors file we write re-reads to the same bytes when written again, and matches peft's key set
    const out2 = tmp();
    await saveAdapter(out2, back);
    expect(fs.readFileSync(path.join(out2, 'adapter_model.safetensors')).equals(fs.readFileSync(path.join(out, 'adapter_model.safetensors')))).toBe(true);
    expect(fs.readFileSync(path.join(out2, 'adapter_config.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(loraDir, 'adapter_config.json'), 'utf8').replace('"lora_dropout": 0.0', '"lora_dropout": 0') +
        (fs.readFileSync(path.join(loraDir, 'adapter_config.json'), 'utf8').endsWith('\n') ? '' : '\n'),
    );
    back.dispose();
  });

  it('per-example sets: row i uses its own factors', () => {
    expectNoLeak(() => {
      const b = batch();
      const f = new Map<string, { A: tf.Tensor; B: tf.Tensor }>();
      for (const p of adapter.paths) {
        const { A, B } = adapter.factorsOf(p)!;
        f.set(p, { A: tf.stack([A, A]), B: tf.tidy(() => tf.stack([B, tf.zerosLike(B)])) });
      }
      const per = AdapterSet.fromTensors(adapter.config, f, { model });
      expect(per.batch).toBe(2);
      const out = model.forward({ ...b, adapters: per.deltas });
      const base = model.forward(b);
      const row = (t: tf.Tensor, i: number) => tf.tidy(() => tf.slice(t, [i, 0, 0], [1, -1, -1]).dataSync());
      expectClose(row(out.logits, 0), Float32Array.from(expected.logits[0]!.flat()), { atol: 1e-4, rtol: 0 });
      expect(Array.from(row(out.logits, 1))).toEqual(Array.from(row(base.logits, 1)));
      const one = per.example(0);
      expect(Array.from(one.factorsOf(adapter.paths[0]!)!.A.dataSync())).toEqual(Array.from(adapter.factorsOf(adapter.paths[0]!)!.A.dataSync()));
      one.dispose();
      per.dispose();
      tf.dispose([out.logits, out.loss, out.encoderLastHiddenState, base.logits, base.loss, base.encoderLastHiddenState]);
      disposeBatch(b);
    });
  });
});

describe('AdapterSet on cpu (invariants and errors)', () => {
  let model: T5ForConditionalGeneration;
  beforeAll(async () => {
    await useBackend('cpu');
    model = createRandomT5(
      makeT5Config({
        vocabSize: 64,
        dModel: 16,
        dKv: 4,
        numHeads: 2,
        dFf: 24,
        numLayers: 1,
        numDecoderLayers: 1,
        feedForwardProj: 'gated-gelu',
        tieWordEmbeddings: false,
      }),
      1,
    ) as T5ForConditionalGeneration;
    model.eval(); // T5's own dropout off: only the adapter's dropout is under test
  });
  afterAll(() => model.dispose());

  const ids = () => ({
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
      [2, 1, -100],
    ]),
  });

  it('matches targets as peft: list = exact or dotted suffix, string = full regex, Linear only', () => {
    const list = matchTargets(model, ['q', 'decoder.block.0.layer.1.EncDecAttention.k']).map((t) => t.path);
    expect(list).toEqual([
      'encoder.block.0.layer.0.SelfAttention.q',
      'decoder.block.0.layer.0.SelfAttention.q',
      'decoder.block.0.layer.1.EncDecAttention.q',
      'decoder.block.0.layer.1.EncDecAttention.k',
    ]);
    expect(matchTargets(model, null).map((t) => t.path.split('.').pop())).toEqual(['q', 'v', 'q', 'v', 'q', 'v']);
    // full match: 'SelfAttention\\.q' alone matches nothing; '.*SelfAttention\\.q' matches both stacks
    expect(() => matchTargets(model, 'SelfAttention\\.q')).toThrow(TargetMatchError);
    expect(matchTargets(model, '.*SelfAttention\\.q')).toHaveLength(2);
    expect(matchTargets(model, 'encoder\\..*\\.(wi_0|wo)').map((t) => t.path)).toEqual([
      'encoder.block.0.layer.1.DenseReluDense.wi_0',
      'encoder.block.0.layer.1.DenseReluDense.wo',
    ]);
    // 'layer_norm' is not a Linear; 'wi' is not a suffix of 'wi_0'
    expect(() => matchTargets(model, ['layer_norm', 'wi'])).toThrow(/"layer_norm", "wi" match no Linear module; closest Linear module names: .*wi_0/);
    // peft semantics: one unmatched entry is fine if others match, unless strict
    expect(matchTargets(model, ['q', 'query'])).toHaveLength(3);
    expect(() => matchTargets(model, ['q', 'query'], { strict: true })).toThrow(/"query" matches no Linear module; closest Linear module names: .*q/);
  });

  it('targetModulesRegex selects exactly what the peft spec selects', () => {
    const paths = (t: string | string[]) => matchTargets(model, t).map((x) => x.path);
    for (const spec of [['q', 'v'], ['wo', 'decoder.block.0.layer.1.EncDecAttention.k'], ['q', 'query'], 'encoder\\..*\\.(wi_0|wo)']) {
      expect(paths(targetModulesRegex(spec)), JSON.stringify(spec)).toEqual(paths(spec));
    }
    expect(targetModulesRegex(['v', 'q'])).toBe('(?:.*\\.)?(?:q|v)');
    // a dot in a name is literal, as in peft's suffix rule
    expect(() => matchTargets(model, targetModulesRegex(['layer.0.SelfAttentionXq']))).toThrow(TargetMatchError);
  });

  it('refuses a second merge and an unmerge of a set that is not merged (ΔW would be added or removed twice)', () => {
    const set = AdapterSet.create(model, loraConfig({ r: 2, loraAlpha: 2 }), { seed: 2, initBStd: 0.1 });
    const w = (model.getModule(set.paths[0]!) as unknown as { weight: tf.Tensor }).weight;
    const before = Array.from(w.dataSync());
    expect(() => set.unmerge(model)).toThrow(AdapterMergeError);
    expect(() => set.unmerge(model)).toThrow('AdapterSet.unmerge: the set is not merged');
    set.merge(model);
    expect(set.isMerged).toBe(true);
    const merged = Array.from(w.dataSync());
    expect(() => set.merge(model)).toThrow('AdapterSet.merge: already merged into this model; merging again would add ΔW twice (unmerge first)');
    expect(Array.from(w.dataSync())).toEqual(merged); // the refused merge changed nothing
    set.unmerge(model);
    expect(set.isMerged).toBe(false);
    Array.from(w.dataSync()).forEach((x, i) => expect(Math.abs(x - before[i]!)).toBeLessThan(1e-6));
    set.dispose();
  });

  it('rsLoRA scaling reaches the forward: ΔW = alpha/sqrt(r)·B·A', () => {
    const set = AdapterSet.create(model, loraConfig({ r: 4, loraAlpha: 2, useRslora: true }), { seed: 1, initBStd: 0.5 });
    expect(set.scaling).toBe(1);
    const plain = AdapterSet.create(model, loraConfig({ r: 4, loraAlpha: 2 }), { seed: 1, initBStd: 0.5 });
    expect(plain.scaling).toBe(0.5);
    const p = set.paths[0]!;
    expectClose(
      set.deltaWeight(p),
      tf.tidy(() => tf.mul(plain.deltaWeight(p), 2)),
      { atol: 1e-6, rtol: 0 },
    );
    set.dispose();
    plain.dispose();
  });

  it('dropout acts only in training', () => {
    const set = AdapterSet.create(model, loraConfig({ r: 2, loraAlpha: 2, loraDropout: 0.5 }), { seed: 2, initBStd: 1 });
    expectNoLeak(() => {
      const b = ids();
      const run = (training: boolean, seed: number) =>
        tf.tidy(() => model.forward({ ...b, adapters: set.deltasForForward(training, 2, new Rng(seed)) }).logits.dataSync());
      const evalA = run(false, 1);
      const evalB = run(false, 2);
      expect(Array.from(evalA)).toEqual(Array.from(evalB));
      const plain = tf.tidy(() => model.forward({ ...b, adapters: set.deltas }).logits.dataSync());
      expect(Array.from(evalA)).toEqual(Array.from(plain));
      const trainA = run(true, 1);
      const trainB = run(true, 2);
      expect(Array.from(trainA)).not.toEqual(Array.from(trainB));
      expect(Array.from(trainA)).not.toEqual(Array.from(evalA));
      expect(Array.from(run(true, 1))).toEqual(Array.from(trainA)); // seeded
      disposeBatch(b);
    });
    // expectation of the mask is 1: the mean over many masks approaches the eval delta
    const p = set.paths[0]!;
    const rng = new Rng(9);
    const mean = tf.tidy(() => {
      let acc: tf.Tensor = tf.zerosLike(set.factorsOf(p)!.A);
      for (let i = 0; i < 200; i++) acc = tf.add(acc, tf.mean(set.deltasForForward(true, 4, rng).get(p)!.A, 0));
      return tf.div(acc, 200);
    });
    expectClose(mean, set.factorsOf(p)!.A, { atol: 0.1, rtol: 0 });
    mean.dispose();
    set.dispose();
  });

  it('scale and add are exact in ΔW', () => {
    const a = AdapterSet.create(model, loraConfig({ r: 2, loraAlpha: 4 }), { seed: 5, initBStd: 0.3 });
    const b = AdapterSet.create(model, loraConfig({ r: 3, loraAlpha: 3, useRslora: true, targetModules: ['q', 'o'] }), { seed: 6, initBStd: 0.3 });
    expectNoLeak(() => {
      const s = a.scale(-0.5);
      const sum = a.add(b);
      expect(sum.config.r).toBe(5);
      expect(sum.scaling).toBe(1);
      expect(sum.paths.sort()).toEqual([...new Set([...a.paths, ...b.paths])].sort());
      for (const p of sum.paths) {
        const want = tf.tidy(() => {
          const da = a.paths.includes(p) ? a.deltaWeight(p) : tf.scalar(0);
          const db = b.paths.includes(p) ? b.deltaWeight(p) : tf.scalar(0);
          return tf.add(da, db);
        });
        const got = sum.deltaWeight(p);
        expectClose(got, want, { atol: 1e-6, rtol: 0, label: p });
        tf.dispose([want, got]);
      }
      const p0 = a.paths[0]!;
      const d1 = s.deltaWeight(p0);
      const d2 = tf.tidy(() => tf.mul(a.deltaWeight(p0), -0.5));
      expectClose(d1, d2, { atol: 1e-7, rtol: 0 });
      tf.dispose([d1, d2]);
      s.dispose();
      sum.dispose();
    });
    a.dispose();
    b.dispose();
  });

  it('statistics: singular values of s·B·A from r×r Gram matrices match the Frobenius norm and a power iteration', () => {
    const set = AdapterSet.create(model, loraConfig({ r: 4, loraAlpha: 8 }), { seed: 7, initBStd: 0.4 });
    const stats = set.stats();
    expect(stats).toHaveLength(set.size);
    for (const st of stats) {
      const dw = set.deltaWeight(st.path);
      const fro = tf.tidy(() => tf.norm(dw).dataSync()[0]!);
      expect(st.normDelta).toBeCloseTo(fro, 4);
      // σ_max by power iteration on ΔWᵀΔW, in float64 JS
      const [out, inF] = dw.shape;
      const w = Float64Array.from(dw.dataSync());
      let v = new Float64Array(inF).fill(1);
      let sigma = 0;
      for (let it = 0; it < 500; it++) {
        const u = new Float64Array(out);
        for (let i = 0; i < out; i++) for (let j = 0; j < inF; j++) u[i]! += w[i * inF + j]! * v[j]!;
        const nv = new Float64Array(inF);
        for (let i = 0; i < out; i++) for (let j = 0; j < inF; j++) nv[j]! += w[i * inF + j]! * u[i]!;
        const n = Math.hypot(...nv);
        sigma = Math.sqrt(n);
        v = nv.map((x) => x / n);
      }
      expect(st.singularValues[0]).toBeCloseTo(sigma, 4);
      expect(st.singularValues).toHaveLength(4);
      expect(st.effectiveRank).toBeGreaterThan(1);
      expect(st.effectiveRank).toBeLessThanOrEqual(4 + 1e-9);
      expect(st.stableRank).toBeGreaterThanOrEqual(1);
      dw.dispose();
    }
    // rank one: B·A = u·vᵀ has a single nonzero singular value |u|·|v|·s
    const sv = lowRankSingularValues([1, 2, 0, 0, 0, 0], [3, 0, 4, 0], 2, 3, 2, 2);
    expect(sv[0]).toBeCloseTo(2 * 5 * Math.sqrt(5), 10);
    expect(sv[1]).toBeCloseTo(0, 6);
    // a fresh (B = 0) adapter has ΔW = 0
    const fresh = AdapterSet.create(model, loraConfig({ r: 2, loraAlpha: 2 }), { seed: 1 });
    expect(fresh.stats().every((s) => s.normDelta === 0 && s.effectiveRank === 0 && s.normB === 0 && s.normA > 0)).toBe(true);
    fresh.dispose();
    set.dispose();
  });

  it('fromTensors keeps generated factors on the tape: gradients reach what produced them', () => {
    expectNoLeak(() => {
      const cfg = loraConfig({ r: 2, loraAlpha: 2 });
      const targets = matchTargets(model, cfg.targetModules);
      const seedRng = new Rng(4);
      const z0 = tf.tensor1d(seedRng.normalArray(3));
      const z = tf.variable(z0);
      z0.dispose();
      const b = ids();
      const { value, grads } = tf.variableGrads(() => {
        // a toy "generator": every factor is a fixed random projection of z, per example (batch 2)
        const f = new Map<string, { A: tf.Tensor; B: tf.Tensor }>();
        for (const t of targets) {
          const pa = tf.tensor2d(seedRng.normalArray(3 * 2 * 2 * t.inFeatures, 0, 0.3), [3, 2 * 2 * t.inFeatures]);
          const pb = tf.tensor2d(seedRng.normalArray(3 * 2 * t.outFeatures * 2, 0, 0.3), [3, 2 * t.outFeatures * 2]);
          f.set(t.path, {
            A: tf.reshape(tf.matMul(tf.reshape(z, [1, 3]), pa), [2, 2, t.inFeatures]),
            B: tf.reshape(tf.matMul(tf.reshape(z, [1, 3]), pb), [2, t.outFeatures, 2]),
          });
        }
        const set = AdapterSet.fromTensors(cfg, f, { model });
        expect(set.batch).toBe(2);
        return model.forward({ ...b, adapters: set.deltas }).loss as tf.Scalar;
      }, [z]);
      const g = grads[z.name]!.dataSync();
      expect(Array.from(g).every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(1e-6);
      tf.dispose([value, ...Object.values(grads), z]);
      disposeBatch(b);
    });
  });

  it('reports wrong shapes (expected vs found), unknown modules, missing files and unknown peft_type', async () => {
    const cfg = loraConfig({ r: 2, loraAlpha: 2 });
    const q = 'encoder.block.0.layer.0.SelfAttention.q';
    const bad = () => AdapterSet.fromTensors(cfg, { [q]: { A: tf.zeros([2, 16]), B: tf.zeros([9, 2]) } }, { model });
    expect(bad).toThrow(AdapterShapeError);
    expect(bad).toThrow(`${q}: expected A [2, 16] and B [8, 2], found A [2, 16], B [9, 2]`);
    expect(() => AdapterSet.fromTensors(cfg, { 'encoder.nope': { A: tf.zeros([2, 16]), B: tf.zeros([8, 2]) } }, { model })).toThrow(
      /encoder\.nope: expected the path of a Linear module/,
    );
    const d = tmp();
    await expect(loadAdapter(d)).rejects.toThrow(AdapterFileError);
    await expect(loadAdapter(d)).rejects.toThrow(/adapter_config\.json: missing/);
    fs.copyFileSync(path.join(loraDir, 'adapter_config.json'), path.join(d, 'adapter_config.json'));
    await expect(loadAdapter(d)).rejects.toThrow(/adapter_model\.safetensors: missing/);
    // the golden adapter (d_model 48) onto this model (d_model 16): shape error naming the file and key
    fs.copyFileSync(path.join(loraDir, 'adapter_model.safetensors'), path.join(d, 'adapter_model.safetensors'));
    await expect(loadAdapter(d, { model })).rejects.toThrow(/adapter_model\.safetensors: .*(expected|no such module)/);
    const before = tf.memory().numTensors;
    await loadAdapter(d, { model }).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(before);
    const text = fs.readFileSync(path.join(loraDir, 'adapter_config.json'), 'utf8').replace('"LORA"', '"PREFIX_TUNING"');
    fs.writeFileSync(path.join(d, 'adapter_config.json'), text);
    await expect(loadAdapter(d)).rejects.toThrow(/peft_type: only 'LORA' is supported, got "PREFIX_TUNING"/);
    expect(peftKey(q, 'B')).toBe(`base_model.model.${q}.lora_B.weight`);
  });
});
