// Library-level end to end on the embedded suite (tiny preset): stage 1 LoRA teachers, stage 2
// pretraining, stage 3 finetuning with KL from real teacher forwards and parameter alignment; losses
// fall, nothing leaks, and a saved hypernetwork reloads to identical adapters.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, Rng, type StepRecord, fit } from '@tagi/tensor-core';
import { DirCheckpointStore } from '@tagi/tensor-core/node';
import { type PreparedSuite, prepareEmbedded, tinyBase, trainLora } from './__fixtures__/embedded-pipeline.js';
import { useBackend } from '@tagi/tensor-core/testing';
import { padIds, padLabels, splitDocument } from './batching.js';
import { TINY_HYPERNET_CONFIG } from './config.js';
import { maskedCrossEntropy } from '@tagi/distill';
import { HyperNetwork, disposeEncoding } from './hypernet.js';
import { generateAdapter } from './inference.js';
import { loadHypernet, saveHypernet } from './node.js';
import { finetuneObjective, pretrainHypernet, studentLoss } from './training.js';

let prep: PreparedSuite;
let dir: string;
beforeAll(async () => {
  // wasm: the stages run ~10x faster than on the pure-JS cpu backend
  await useBackend('wasm');
  prep = prepareEmbedded({ trainTasks: 4, heldOutTasks: 2, trainInstances: 8, heldOutInstances: 4 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hypernet-e2e-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('embedded suite end to end (tiny)', () => {
  it('runs stages 1-3: losses fall, no tensor leaks, save/reload gives identical adapters', async () => {
    const base = tinyBase(prep.tokenizer.vocabSize, 3);
    const before = tf.memory().numTensors;
    const trainTasks = prep.train.slice(0, 2);

    // stage 1: one LoRA teacher per task (bare input) and the instruction-concatenated multitask teacher
    const teachers: Awaited<ReturnType<typeof trainLora>>[] = [];
    for (const [i, t] of trainTasks.entries())
      teachers.push(await trainLora(base, [t], { rank: 4, steps: 12, batchSize: 4, lr: 3e-2, seed: i, input: 'student' }));
    for (const t of teachers) expect(mean(t.losses.slice(-3))).toBeLessThan(mean(t.losses.slice(0, 3)));
    const multitask = await trainLora(base, prep.train, { rank: 4, steps: 12, batchSize: 4, lr: 3e-2, input: 'concat' });
    expect(mean(multitask.losses.slice(-3))).toBeLessThan(mean(multitask.losses.slice(0, 3)));

    // stage 2: a|b|c pretraining; CE on a fixed set of splits falls
    const hn = new HyperNetwork(base, { ...TINY_HYPERNET_CONFIG, rank: 4 }, { seed: 1, baseModelName: 'tiny-random-embedded' });
    const lengths = { instruction: [8, 16], input: [8, 16], target: [4, 8] } as const;
    const fixed = prep.documents.slice(0, 4).map((d, i) => splitDocument(d, new Rng(100 + i), lengths, base.config.eosTokenId)!);
    const splitCe = () =>
      tf.tidy(() => {
        const a = padIds(
          fixed.map((e) => e.instruction),
          0,
        );
        const b = padIds(
          fixed.map((e) => e.input),
          0,
        );
        const c = padLabels(fixed.map((e) => e.target));
        const enc = hn.encodeInstructions(a.ids, a.mask);
        const out = base.forward({
          inputIds: b.ids,
          attentionMask: b.mask,
          labels: c,
          adapters: hn.generate(enc),
          encoderPrefix: hn.fusionPrefix(enc, fixed.length),
        });
        disposeEncoding(enc);
        return maskedCrossEntropy(out.logits, c).dataSync()[0] as number;
      });
    const ce0 = splitCe();
    const opt2 = new AdamW(hn.namedParameters(), { lr: 3e-3, weightDecay: 0 });
    const pre = await pretrainHypernet({
      hypernet: hn,
      documents: prep.documents.slice(0, 4),
      split: lengths,
      steps: 12,
      batchSize: 4,
      optimizer: opt2,
      seed: 5,
    });
    opt2.dispose();
    expect(pre).toMatchObject({ step: 12, aborted: false });
    const ce1 = splitCe();
    expect(ce1).toBeLessThan(ce0);

    // stage 3: finetuning, KL from both real teachers, alignment with the task LoRAs
    const ftTasks = trainTasks.map((t, i) => ({ ...t, teacherAdapters: teachers[i]!.adapter.deltas }));
    const lossBefore = studentLoss(hn, ftTasks);
    const logs: StepRecord[] = [];
    const opt3 = new AdamW(hn.namedParameters(), { lr: 1e-2, weightDecay: 0 });
    const objective = finetuneObjective({
      hypernet: hn,
      tasks: ftTasks,
      batchSize: 4,
      seed: 2,
      loss: { lambdaKl: 1, lambdaIns: 0.5, temperature: 2 },
      teacher: { sources: ['lora', 'concat'], concatAdapters: multitask.adapter.deltas, cache: true },
    });
    const store = new DirCheckpointStore(path.join(dir, 'finetune-run'));
    await fit({ ...objective, name: 'finetune', optimizer: opt3, steps: 10, checkpointEvery: 5, checkpoints: store, onStep: (r) => void logs.push(r) });
    objective.dispose();
    opt3.dispose();
    const lossAfter = studentLoss(hn, ftTasks);
    expect(lossAfter).toBeLessThan(lossBefore);
    expect((await fs.readdir(path.join(dir, 'finetune-run'))).filter((f) => f.startsWith('step-'))).toEqual(['step-000005']);
    expect(logs).toHaveLength(10);
    for (const r of logs) {
      const { ce = NaN, kl = NaN, ins = NaN } = r.terms;
      expect(Number.isFinite(ce) && Number.isFinite(r.loss)).toBe(true);
      expect(kl).toBeGreaterThan(0); // a real teacher: never the student compared with itself
      expect(ins).toBeGreaterThan(0);
      expect(r.loss).toBeCloseTo(ce + kl + 0.5 * ins, 4);
    }

    // checkpoint round trip: identical adapters for a held-out instruction
    await saveHypernet(dir, hn);
    const reloaded = await loadHypernet(dir, base);
    const heldOut = prep.heldOut[0]!;
    const a = generateAdapter(hn, heldOut.instructionIds);
    const b = generateAdapter(reloaded, heldOut.instructionIds);
    for (const p of a.adapter.paths) {
      expect(Array.from(b.adapter.factorsOf(p)!.A.dataSync())).toEqual(Array.from(a.adapter.factorsOf(p)!.A.dataSync()));
      expect(Array.from(b.adapter.factorsOf(p)!.B.dataSync())).toEqual(Array.from(a.adapter.factorsOf(p)!.B.dataSync()));
    }
    a.dispose();
    b.dispose();
    reloaded.dispose();
    hn.dispose();
    for (const t of teachers) t.adapter.dispose();
    multitask.adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
});
