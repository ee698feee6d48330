// Stage-1 teacher training: overfits a few real records (embedded task suite, real T5 tokenizer) with
// the base frozen, leak-free; an interrupted + resumed run equals an uninterrupted one bit for bit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { loadDefaultT5Tokenizer } from '@tagi/t5-model/node';
import { embeddedSuite } from '@tagi/datasets';
import { loraConfig } from './config.js';
import { loadAdapter, trainLoraTeacher, type TokenizedExample } from './node.js';

const tmpDirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-teacher-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const snapshot = (m: { namedParameters(): [string, tf.Variable][] }) => new Map(m.namedParameters().map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('trainLoraTeacher', () => {
  it('overfits a handful of records: loss falls far, greedy outputs equal the targets; base untouched; leak-free', async () => {
    await useBackend('wasm');
    const suite = embeddedSuite({ trainInstances: 8 });
    const records = suite.train
      .slice(0, 2)
      .flatMap((t) => t.instances.slice(0, 3).map((i) => ({ input: `${t.definition[0]} ${i.input}`, output: i.outputs[0] as string })));
    const tok = loadDefaultT5Tokenizer();
    const model = createRandomT5(
      makeT5Config({
        vocabSize: 32128,
        dModel: 32,
        dKv: 8,
        numHeads: 4,
        dFf: 64,
        numLayers: 2,
        numDecoderLayers: 2,
        feedForwardProj: 'gated-gelu',
        tieWordEmbeddings: false,
        dropoutRate: 0,
      }),
      0,
    );
    const base = snapshot(model);
    const out = tmp();
    const before = tf.memory().numTensors;
    const res = await trainLoraTeacher({
      model,
      tokenizer: tok,
      records,
      evalRecords: records,
      loraConfig: loraConfig({ r: 8, loraAlpha: 16, targetModules: ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'] }),
      steps: 30,
      batchSize: 6,
      lr: 1e-2,
      schedule: 'constant',
      evalEvery: 10,
      seed: 1,
      outputDir: out,
    });
    expect(tf.memory().numTensors - before).toBe(res.adapter.size * 2); // only the returned adapter's factors
    const first = res.log[0]!;
    const last = res.log.at(-1)!;
    expect(last.loss).toBeLessThan(first.loss / 50);
    expect(res.log.filter((l) => l.evalLoss !== undefined).map((l) => l.step)).toEqual([10, 20, 30]);
    expect(last.evalLoss!).toBeLessThan(0.1);
    // the frozen base did not move
    for (const [k, v] of snapshot(model)) expect(v, k).toEqual(base.get(k));
    model.eval();
    for (const r of records) {
      const ids = tf.tensor2d([tok.encode(r.input)], undefined, 'int32');
      const seq = await model.generate(ids, undefined, { maxNewTokens: 6, adapters: res.adapter.deltas });
      expect(tok.decode(seq[0]!, { skipSpecialTokens: true })).toBe(r.output);
      ids.dispose();
    }
    // the output dir is a peft dir with the same weights, plus one metrics line per step
    const back = await loadAdapter(out, { model });
    for (const p of res.adapter.paths) expect(Array.from(back.factorsOf(p)!.B.dataSync())).toEqual(Array.from(res.adapter.factorsOf(p)!.B.dataSync()));
    back.dispose();
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(30);
    res.adapter.dispose();
    model.dispose();
  });

  it('an interrupted and resumed run ends with the same weights as an uninterrupted one (cpu)', async () => {
    await useBackend('cpu');
    const cfg = makeT5Config({
      vocabSize: 40,
      dModel: 16,
      dKv: 4,
      numHeads: 2,
      dFf: 24,
      numLayers: 1,
      numDecoderLayers: 1,
      feedForwardProj: 'gated-gelu',
      tieWordEmbeddings: false,
      dropoutRate: 0.1,
    });
    let s = 7;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) % 37) + 2;
    const examples: TokenizedExample[] = Array.from({ length: 10 }, (_, i) => ({
      input: [...Array.from({ length: 3 + (i % 4) }, rand), 1],
      target: [...Array.from({ length: 1 + (i % 3) }, rand), 1],
    }));
    const common = {
      examples,
      loraConfig: loraConfig({ r: 2, loraAlpha: 4, loraDropout: 0.2 }),
      steps: 8,
      batchSize: 3,
      gradAccum: 2,
      lr: 5e-3,
      schedule: 'cosine' as const,
      warmupSteps: 2,
      clip: 0.5,
      seed: 11,
    };
    const m1 = createRandomT5(cfg, 3);
    const full = await trainLoraTeacher({ ...common, model: m1 });
    const ck = path.join(tmp(), 'ckpt');
    const m2 = createRandomT5(cfg, 3);
    const ctl = new AbortController();
    const part = await trainLoraTeacher({
      ...common,
      model: m2,
      checkpointDir: ck,
      checkpointEvery: 3,
      signal: ctl.signal,
      onLog: (e) => e.step === 5 && ctl.abort(),
    });
    expect(part.aborted).toBe(true);
    expect(part.step).toBe(5);
    part.adapter.dispose();
    const before = tf.memory().numTensors;
    const resumed = await trainLoraTeacher({ ...common, model: m2, checkpointDir: ck, resume: true });
    expect(tf.memory().numTensors - before).toBe(resumed.adapter.size * 2);
    expect(resumed.step).toBe(8);
    expect(resumed.log.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(resumed.log.map((l) => l.loss)).toEqual(full.log.map((l) => l.loss));
    for (const p of full.adapter.paths) {
      for (const k of ['A', 'B'] as const) {
        expect(Array.from(resumed.adapter.factorsOf(p)![k].dataSync()), `${p}.${k}`).toEqual(Array.from(full.adapter.factorsOf(p)![k].dataSync()));
      }
    }
    // the checkpoint swap left no temporary directories behind
    expect(fs.readdirSync(path.dirname(ck))).toEqual(['ckpt']);
    // resuming with a different seed is refused
    await expect(trainLoraTeacher({ ...common, seed: 12, model: m2, checkpointDir: ck, resume: true })).rejects.toThrow(/seed 11 .* seed 12/);
    full.adapter.dispose();
    resumed.adapter.dispose();
    m1.dispose();
    m2.dispose();
  });

  it('rejects missing data', async () => {
    await useBackend('cpu');
    const model = createRandomT5(makeT5Config({ vocabSize: 16, dModel: 8, dKv: 4, numHeads: 2, dFf: 8, numLayers: 1, numDecoderLayers: 1 }), 0);
    await expect(trainLoraTeacher({ model, records: [{ input: 'a', output: 'b' }] })).rejects.toThrow(/pass `examples`, or `records` with a `tokenizer`/);
    await expect(trainLoraTeacher({ model, examples: [] })).rejects.toThrow(/no training examples/);
    model.dispose();
  });
});
