import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type OptimizerState, Rng } from '@tagi/tensor-core';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { DEFAULT_SPLIT_LENGTHS, splitDocument } from './batching.js';
import { HypernetInputError } from './errors.js';
import { HyperNetwork } from './hypernet.js';
import { loadHypernet, saveHypernet } from './node.js';
import { type FinetuneTask, finetuneHypernet, pretrainHypernet } from './training.js';

let base: ReturnType<typeof tinyT5>;
let dir: string;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hypernet-train-'));
});
afterAll(async () => {
  base.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

const cfg = { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, bHeadInitStd: 0.01 };
const tasks: FinetuneTask[] = ['a', 'b'].map((taskId, i) => ({
  taskId,
  instructionIds: [20 + i, 21, 22 + i, 1],
  examples: [0, 1, 2, 3].map((j) => ({ id: `${taskId}${j}`, inputIds: [3 + j, 4 + i, 1], labelIds: [30 + i + j, 1] })),
}));

describe('splitDocument', () => {
  it('gives consecutive spans a|b|c with eos, seeded, shrinking for short documents', () => {
    const doc = Array.from({ length: 200 }, (_, i) => 100 + i);
    const s1 = splitDocument(doc, new Rng(4), DEFAULT_SPLIT_LENGTHS, 1)!;
    const s2 = splitDocument(doc, new Rng(4), DEFAULT_SPLIT_LENGTHS, 1)!;
    expect(s2).toEqual(s1);
    const joined = [...s1.instruction.slice(0, -1), ...s1.input.slice(0, -1), ...s1.target.slice(0, -1)];
    expect(joined).toEqual(doc.slice(joined[0]! - 100, joined[0]! - 100 + joined.length)); // contiguous
    expect(s1.instruction.length - 1).toBeGreaterThanOrEqual(16);
    expect(s1.target.at(-1)).toBe(1);
    const short = splitDocument([5, 6, 7, 8, 9], new Rng(1), DEFAULT_SPLIT_LENGTHS, 1)!;
    expect([short.instruction, short.input, short.target].map((x) => x.length - 1).reduce((a, b) => a + b)).toBeLessThanOrEqual(5);
    expect(splitDocument([5, 6], new Rng(1), DEFAULT_SPLIT_LENGTHS, 1)).toBeNull();
  });
});

describe('training loops', () => {
  it('reject bad arguments by name', async () => {
    const hn = new HyperNetwork(base, cfg);
    const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-3 });
    await expect(finetuneHypernet({ hypernet: hn, tasks, steps: 1, batchSize: 0, optimizer })).rejects.toThrow(/batchSize/);
    await expect(finetuneHypernet({ hypernet: hn, tasks, steps: 1, batchSize: 2, optimizer, loss: { lambdaKl: 1 } })).rejects.toThrow(/teacher/);
    await expect(finetuneHypernet({ hypernet: hn, tasks, steps: 1, batchSize: 2, optimizer, loss: { lambdaKl: 0, lambdaIns: 1 } })).rejects.toThrow(HypernetInputError);
    await expect(pretrainHypernet({ hypernet: hn, documents: [], steps: 1, batchSize: 2, optimizer })).rejects.toThrow(/documents/);
    await expect(pretrainHypernet({ hypernet: hn, documents: [[5, 6, 7, 8]], split: { target: [3, 1] }, steps: 1, batchSize: 2, optimizer })).rejects.toThrow(/split.target/);
    hn.dispose();
  });

  it('resume from a checkpoint (hypernet file + AdamW state + startStep) continues the run exactly', async () => {
    const opts = { tasks, batchSize: 2, seed: 9, loss: { lambdaKl: 0 } };
    const full = new HyperNetwork(base, cfg, { seed: 3 });
    const optFull = new AdamW(full.namedParameters(), { lr: 1e-2 });
    const fullRun = await finetuneHypernet({ hypernet: full, optimizer: optFull, steps: 6, ...opts });

    const first = new HyperNetwork(base, cfg, { seed: 3 });
    const optFirst = new AdamW(first.namedParameters(), { lr: 1e-2 });
    let saved: OptimizerState | undefined;
    await finetuneHypernet({
      hypernet: first,
      optimizer: optFirst,
      steps: 3,
      ...opts,
      onCheckpoint: async ({ step, hypernet, optimizer }) => {
        expect(step).toBe(3);
        await saveHypernet(dir, hypernet);
        saved = (optimizer as AdamW).stateDict();
      },
    });
    const resumed = await loadHypernet(dir, base);
    const optResumed = new AdamW(resumed.namedParameters(), { lr: 1e-2 });
    optResumed.loadStateDict(saved!);
    const rest = await finetuneHypernet({ hypernet: resumed, optimizer: optResumed, steps: 6, startStep: 3, ...opts });
    expect(rest.records.map((r) => r.step)).toEqual([4, 5, 6]);
    expect(rest.records.map((r) => r.taskId)).toEqual(fullRun.records.slice(3).map((r) => r.taskId));
    for (const [i, r] of rest.records.entries()) expect(r.loss).toBeCloseTo(fullRun.records[3 + i]!.loss, 5);
    const a = new Map(full.namedParameters());
    for (const [k, v] of resumed.namedParameters()) {
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(v, a.get(k)!))).dataSync()[0])).toBeLessThan(1e-6);
    }
    [full, first, resumed].forEach((h) => h.dispose());
  });
});
