import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type DeltaMap, type LowRankDelta, Rng, type StepRecord, fit } from '@tagi/tensor-core';
import { DirCheckpointStore } from '@tagi/tensor-core/node';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { DistillInputError, parameterAlignmentLoss } from '@tagi/distill';
import { BatchIdError } from '@tagi/t5-model';
import { DEFAULT_SPLIT_LENGTHS, padIds, padLabels, splitDocument } from './batching.js';
import type { FusionKind } from './config.js';
import { HypernetInputError } from './errors.js';
import { HyperNetwork, disposeDeltas } from './hypernet.js';
import {
  type FinetuneTask,
  TeacherLogitCache,
  type TeacherOptions,
  alignmentLoss,
  finetuneHypernet,
  finetuneObjective,
  pretrainHypernet,
  pretrainObjective,
  trainableParameters,
} from './training.js';

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
  examples: [0, 1, 2, 3].map((j) => ({
    id: `${taskId}${j}`,
    inputIds: [3 + j, 4 + i, 1],
    labelIds: [30 + i + j, 1],
    teacherInputIds: [20 + i, 21, 22 + i, 3 + j, 4 + i, 1],
  })),
}));
const docs = [Array.from({ length: 40 }, (_, i) => 2 + ((i * 7) % 60)), Array.from({ length: 30 }, (_, i) => 2 + ((i * 5) % 60))];
const smallSplit = { instruction: [4, 6], input: [4, 6], target: [3, 5] } as const;

const argumentOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof HypernetInputError) return e.argument;
    throw e;
  }
  throw new Error('expected a HypernetInputError');
};

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

describe('padIds / padLabels: the batch boundary checks ids', () => {
  it('name the row and position of an id outside the vocabulary (or a non-integer), before any tensor exists', () => {
    const before = tf.memory().numTensors;
    expect(() =>
      padIds(
        [
          [3, 4, 1],
          [5, 64, 1],
        ],
        0,
        { vocabSize: 64, argument: 'inputIds' },
      ),
    ).toThrow(BatchIdError);
    expect(() =>
      padIds(
        [
          [3, 4, 1],
          [5, 64, 1],
        ],
        0,
        { vocabSize: 64, argument: 'inputIds' },
      ),
    ).toThrow(/inputIds.*\b1\b.*\b1\b.*64/);
    expect(() => padIds([[3, -1]], 0, { vocabSize: 64 })).toThrow(BatchIdError);
    expect(() =>
      padLabels(
        [
          [3, 1],
          [7, 2.5, 1],
        ],
        { vocabSize: 64 },
      ),
    ).toThrow(DistillInputError);
    let argument = '';
    try {
      padLabels(
        [
          [3, 1],
          [7, 99, 1],
        ],
        { vocabSize: 64, argument: 'targets' },
      );
    } catch (e) {
      argument = (e as DistillInputError).argument;
    }
    expect(argument).toBe('targets[1, 1]');
    expect(tf.memory().numTensors).toBe(before);
    // in range (and -100 in labels): padded as before; without a vocabulary nothing is checked
    const l = padLabels([[3, -100, 1], [63]], { vocabSize: 64 });
    expect(l.arraySync()).toEqual([
      [3, -100, 1],
      [63, -100, -100],
    ]);
    const p = padIds([[70, 1]], 0);
    expect(p.ids.arraySync()).toEqual([[70, 1]]);
    tf.dispose([l, p.ids, p.mask]);
  });

  it('objectives check every id once, where their data enters', () => {
    const hn = new HyperNetwork(base, cfg);
    const bad = [{ ...tasks[0]!, examples: [{ ...tasks[0]!.examples[0]!, labelIds: [64, 1] }] }];
    expect(() => finetuneObjective({ hypernet: hn, tasks: bad, batchSize: 2, loss: { lambdaKl: 0 } })).toThrow(/labelIds/);
    const badInstr = [{ ...tasks[0]!, instructionIds: [1000, 1] }];
    expect(() => finetuneObjective({ hypernet: hn, tasks: badInstr, batchSize: 2, loss: { lambdaKl: 0 } })).toThrow(BatchIdError);
    expect(() => pretrainObjective({ hypernet: hn, documents: [[5, 6, 7, 99]], batchSize: 2 })).toThrow(BatchIdError);
    hn.dispose();
  });
});

describe('objectives', () => {
  it('reject bad arguments with a HypernetInputError naming the argument', async () => {
    const hn = new HyperNetwork(base, cfg);
    const ft = (o: Partial<Parameters<typeof finetuneObjective>[0]>) => () =>
      finetuneObjective({ hypernet: hn, tasks, batchSize: 2, loss: { lambdaKl: 0 }, ...o });
    expect(argumentOf(ft({ batchSize: 0 }))).toBe('batchSize');
    expect(argumentOf(ft({ tasks: [{ ...tasks[0]!, examples: [] }] }))).toBe('tasks');
    expect(argumentOf(ft({ loss: { lambdaKl: 1 } }))).toBe('teacher');
    expect(argumentOf(ft({ loss: { lambdaKl: 1 }, teacher: { sources: ['film' as never] } }))).toBe('teacher.sources.0');
    expect(argumentOf(ft({ loss: { lambdaKl: 1 }, teacher: { sources: ['lora'] } }))).toBe("tasks['a'].teacherAdapters");
    const noPrompt = [{ ...tasks[0]!, examples: [{ id: 'x', inputIds: [3, 1], labelIds: [4, 1] }] }];
    expect(argumentOf(ft({ tasks: noPrompt, loss: { lambdaKl: 1 }, teacher: { sources: ['concat'] } }))).toBe("tasks['a'].examples['x'].teacherInputIds");
    expect(argumentOf(ft({ loss: { lambdaKl: 0, lambdaIns: 1 } }))).toBe('tasks[].teacherAdapters');
    const pre = (o: Partial<Parameters<typeof pretrainObjective>[0]>) => () => pretrainObjective({ hypernet: hn, documents: docs, batchSize: 2, ...o });
    expect(argumentOf(pre({ documents: [] }))).toBe('documents');
    expect(argumentOf(pre({ documents: [[5, 6]] }))).toBe('documents');
    expect(argumentOf(pre({ split: { target: [3, 1] } }))).toBe('split.target');
    expect(argumentOf(pre({ batchSize: 1.5 }))).toBe('batchSize');
    // the convenience runners reject (not throw) the same way
    const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-3 });
    await expect(finetuneHypernet({ hypernet: hn, tasks, steps: 1, batchSize: 2, optimizer })).rejects.toThrow(/teacher/);
    await expect(pretrainHypernet({ hypernet: hn, documents: [], steps: 1, batchSize: 2, optimizer })).rejects.toThrow(HypernetInputError);
    optimizer.dispose();
    hn.dispose();
  });

  it('params are the trainable hypernetwork variables by name; batches are a pure function of (seed, step, micro)', () => {
    const hn = new HyperNetwork(base, { ...cfg, fusion: 'cross-attention' });
    const params = trainableParameters(hn);
    expect([...params.keys()]).toEqual(hn.namedParameters().map(([k]) => k));
    expect([...params.keys()].some((k) => k.startsWith('fusion_layers.0.'))).toBe(true);
    const idsOf = (b: { examples: readonly { id: string }[] }) => b.examples.map((e) => e.id);
    const a = finetuneObjective({ hypernet: hn, tasks, batchSize: 3, seed: 7, loss: { lambdaKl: 0 } });
    const b = finetuneObjective({ hypernet: hn, tasks, batchSize: 3, seed: 7, loss: { lambdaKl: 0 } });
    const seen = new Set<string>();
    for (const ctx of [
      { step: 5, micro: 0 },
      { step: 0, micro: 0 },
      { step: 5, micro: 1 },
      { step: 2, micro: 0 },
    ]) {
      const x = a.batch(ctx);
      const y = b.batch(ctx);
      expect(idsOf(y)).toEqual(idsOf(x));
      expect(x.task.taskId).toBe(a.taskOf(ctx));
      expect(x.examples.every((e) => e.id.startsWith(x.task.taskId))).toBe(true); // A pairs with A: one task per batch
      expect(x.input.ids.arraySync()).toEqual(
        tf.tidy(() =>
          padIds(
            x.examples.map((e) => e.inputIds),
            0,
          ).ids.arraySync(),
        ),
      );
      seen.add(JSON.stringify([ctx.step, idsOf(x)]));
      a.release!(x);
      b.release!(y);
    }
    // each task once per epoch of len(tasks) updates, in every micro-batch slot
    for (const micro of [0, 1]) {
      for (let epoch = 0; epoch < 3; epoch++) {
        expect([0, 1].map((s) => a.taskOf({ step: 2 * epoch + s, micro })).sort()).toEqual(['a', 'b']);
      }
    }
    const p1 = pretrainObjective({ hypernet: hn, documents: docs, split: smallSplit, batchSize: 2, seed: 3 });
    const p2 = pretrainObjective({ hypernet: hn, documents: docs, split: smallSplit, batchSize: 2, seed: 3 });
    const x = p1.batch({ step: 4, micro: 1 });
    const y = p2.batch({ step: 4, micro: 1 });
    const z = p2.batch({ step: 4, micro: 0 });
    expect(y.examples).toEqual(x.examples);
    expect(z.examples).not.toEqual(x.examples);
    for (const t of [x, y, z]) p1.release!(t);
    a.dispose();
    b.dispose();
    hn.dispose();
  });

  it('fit resumes a finetuning run from its checkpoint to exactly the weights and losses of an uninterrupted run', async () => {
    const opts = { tasks, batchSize: 2, seed: 9, loss: { lambdaKl: 0 } };
    const steps = 6;
    const run = async (hn: HyperNetwork, store?: DirCheckpointStore, stopAt?: number) => {
      const objective = finetuneObjective({ hypernet: hn, ...opts });
      const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-2 });
      const stop = new AbortController();
      const records: StepRecord[] = [];
      const tasksSeen: string[] = [];
      try {
        const r = await fit({
          ...objective,
          name: 'finetune',
          optimizer,
          steps,
          maxGradNorm: 0.5,
          ...(store ? { checkpoints: store } : {}),
          signal: stop.signal,
          onStep: (rec) => {
            records.push(rec);
            tasksSeen.push(objective.taskOf({ step: rec.step - 1, micro: 0 }));
            if (rec.step === stopAt) stop.abort();
          },
        });
        return { r, records, tasksSeen };
      } finally {
        optimizer.dispose();
        objective.dispose();
      }
    };
    const full = new HyperNetwork(base, cfg, { seed: 3 });
    const fullRun = await run(full);
    const store = new DirCheckpointStore(path.join(dir, 'resume'));
    const first = new HyperNetwork(base, cfg, { seed: 3 });
    const stopped = await run(first, store, 3);
    expect(stopped.r).toMatchObject({ step: 3, aborted: true });
    const resumed = new HyperNetwork(base, cfg, { seed: 11 }); // other initial weights: everything must come from the checkpoint
    const rest = await run(resumed, store);
    expect(rest.r).toMatchObject({ step: 6, resumedFrom: 3, aborted: false });
    expect(rest.records.map((r) => r.step)).toEqual([4, 5, 6]);
    expect(rest.tasksSeen).toEqual(fullRun.tasksSeen.slice(3));
    expect(rest.records.map((r) => r.loss)).toEqual(fullRun.records.slice(3).map((r) => r.loss));
    expect(rest.records.map((r) => r.gradNorm)).toEqual(fullRun.records.slice(3).map((r) => r.gradNorm));
    const a = new Map(full.namedParameters());
    for (const [k, v] of resumed.namedParameters()) expect(Array.from(v.dataSync()), k).toEqual(Array.from(a.get(k)!.dataSync()));
    [full, first, resumed].forEach((h) => h.dispose());
  });

  // The ablation switches of the paper's Table 2 are options of the objective: no pretraining is the
  // caller skipping stage 2; λ1 = 0 needs no teacher; λ2 = 0 needs no teacher adapters; fusion 'none'.
  const ablations: {
    name: string;
    fusion: FusionKind;
    lambdaKl: number;
    lambdaIns: number;
    teacher?: TeacherOptions['sources'];
    adapters: boolean;
    terms: string[];
  }[] = [
    {
      name: 'TAGI (both teachers, alignment)',
      fusion: 'concat',
      lambdaKl: 1,
      lambdaIns: 0.5,
      teacher: ['lora', 'concat'],
      adapters: true,
      terms: ['ce', 'kl', 'ins'],
    },
    { name: 'λ1 = 0: no teacher given', fusion: 'concat', lambdaKl: 0, lambdaIns: 0.5, adapters: true, terms: ['ce', 'ins'] },
    { name: 'λ2 = 0: no teacher adapters given', fusion: 'concat', lambdaKl: 2, lambdaIns: 0, teacher: ['concat'], adapters: false, terms: ['ce', 'kl'] },
    { name: "fusion 'none', CE only", fusion: 'none', lambdaKl: 0, lambdaIns: 0, adapters: false, terms: ['ce'] },
    {
      name: "fusion 'cross-attention', all terms",
      fusion: 'cross-attention',
      lambdaKl: 1,
      lambdaIns: 1,
      teacher: ['lora'],
      adapters: true,
      terms: ['ce', 'kl', 'ins'],
    },
  ];
  it.each(ablations)('ablation through fit: $name', async (a) => {
    const teacherHn = new HyperNetwork(base, { ...cfg, bHeadInitStd: 0.2 }, { seed: 8 });
    const teacherAdapters = new Map<string, DeltaMap>();
    for (const t of tasks) {
      const x = padIds([t.instructionIds], 0);
      const enc = teacherHn.encodeInstructions(x.ids, x.mask);
      teacherAdapters.set(t.taskId, teacherHn.generate(enc, { shared: true }));
      tf.dispose([x.ids, x.mask, enc.states, enc.mask]);
    }
    const withAdapters = tasks.map((t) => (a.adapters ? { ...t, teacherAdapters: teacherAdapters.get(t.taskId)! } : t));
    const hn = new HyperNetwork(base, { ...cfg, fusion: a.fusion }, { seed: 2 });
    const before = tf.memory().numTensors;
    const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-2 });
    const records: StepRecord[] = [];
    const objective = finetuneObjective({
      hypernet: hn,
      tasks: withAdapters,
      batchSize: 2,
      loss: { lambdaKl: a.lambdaKl, lambdaIns: a.lambdaIns },
      ...(a.teacher ? { teacher: { sources: a.teacher, cache: true } } : {}),
    });
    await fit({ ...objective, name: a.name, optimizer, steps: 3, gradAccum: 2, onStep: (r) => void records.push(r) });
    objective.dispose();
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before); // caches, batches and optimiser state all freed
    expect(records).toHaveLength(3);
    for (const r of records) {
      expect(Object.keys(r.terms).sort()).toEqual([...a.terms].sort());
      const { ce = NaN, kl = 0, ins = 0 } = r.terms;
      if (a.terms.includes('kl')) expect(kl).toBeGreaterThan(0); // a real teacher, never the student against itself
      if (a.terms.includes('ins')) expect(ins).toBeGreaterThan(0);
      expect(r.loss).toBeCloseTo(ce + a.lambdaKl * kl + a.lambdaIns * ins, 5);
      expect(r.tokens).toBeGreaterThan(0);
    }
    for (const d of teacherAdapters.values()) disposeDeltas(d);
    teacherHn.dispose();
    hn.dispose();
  });

  it('a shared TeacherLogitCache: later objectives with the same teacher reuse every row, give the same KL, and the cache outlives them', async () => {
    let teacherRows = 0;
    // the concat teacher, counting the rows it runs (the same weights as the base)
    const teacherModel = Object.create(base) as typeof base;
    teacherModel.forward = (args) => {
      teacherRows += args.inputIds.shape[0];
      return base.forward(args);
    };
    const shared = new TeacherLogitCache();
    const before = tf.memory().numTensors;
    const train = async (cache: boolean | TeacherLogitCache, seed: number) => {
      const hn = new HyperNetwork(base, cfg, { seed: 2 });
      const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-2 });
      const objective = finetuneObjective({
        hypernet: hn,
        tasks,
        batchSize: 2,
        seed,
        loss: { lambdaKl: 1 },
        teacher: { sources: ['concat'], concatModel: teacherModel, cache },
      });
      const kl: number[] = [];
      await fit({ ...objective, name: 'ft', optimizer, steps: 4, onStep: (r) => void kl.push(r.terms['kl'] as number) });
      objective.dispose();
      optimizer.dispose();
      hn.dispose();
      return kl;
    };
    const own = await train(true, 3);
    const ownRows = teacherRows;
    expect(tf.memory().numTensors).toBe(before); // an objective's own cache dies with it
    teacherRows = 0;
    expect(await train(shared, 3)).toEqual(own); // same numbers as an own cache
    expect(teacherRows).toBe(ownRows);
    const cached = shared.size;
    expect(cached).toBe(ownRows); // one row per distinct example the teacher ran
    teacherRows = 0;
    expect(await train(shared, 3)).toEqual(own);
    expect(teacherRows).toBe(0); // every row came from the shared cache
    await train(shared, 9); // another data order: only examples not seen yet are run
    expect(shared.size).toBe(cached + teacherRows);
    expect(tf.memory().numTensors).toBe(before + shared.size); // the rows belong to the cache, not the objectives
    shared.dispose();
    expect(shared.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  // fit's microBatchSize cuts each micro-batch into parts run one after another (memory: one part's activations
  // alive at once); the update must be the whole batch's. Ragged labels make the token shares unequal, and a
  // part of 3 rows holds the end of one task's group and the start of the next.
  const ragged: FinetuneTask[] = ['p', 'q', 'r'].map((taskId, i) => ({
    taskId,
    instructionIds: [20 + i, 21, 22 + i, 1],
    examples: [0, 1, 2, 3].map((j) => ({
      id: `${taskId}${j}`,
      inputIds: [3 + j, 4 + i, ...(j % 2 === 0 ? [9, 10] : []), 1],
      labelIds: j % 2 === 0 ? [30 + i + j, 1] : [30 + i + j, 31, 32 + i, 1],
      teacherInputIds: [20 + i, 21, 22 + i, 3 + j, 4 + i, 1],
    })),
  }));
  // float32 sums in another order: equal to 1e-5 of the value's size
  const expectNear = (a: number, b: number, what: string) =>
    expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b)));
  const splitCases: { name: string; fusion: FusionKind; tasksPerBatch: number; batchSize: number; micro: number }[] = [
    { name: 'one task a batch (shared adapter), parts of 1', fusion: 'concat', tasksPerBatch: 1, batchSize: 4, micro: 1 },
    { name: 'two tasks a batch, parts of 3 across the task boundary', fusion: 'concat', tasksPerBatch: 2, batchSize: 4, micro: 3 },
    { name: 'cross-attention fusion, two tasks, parts of 2', fusion: 'cross-attention', tasksPerBatch: 2, batchSize: 4, micro: 2 },
  ];
  it.each(splitCases)("finetuning with microBatchSize gives the whole batch's losses, terms, gradient norms and weights: $name", async (c) => {
    const teacherHn = new HyperNetwork(base, { ...cfg, bHeadInitStd: 0.2 }, { seed: 8 });
    const withAdapters = ragged.map((t) => {
      const x = padIds([t.instructionIds], 0);
      const enc = teacherHn.encodeInstructions(x.ids, x.mask);
      const teacherAdapters = teacherHn.generate(enc, { shared: true });
      tf.dispose([x.ids, x.mask, enc.states, enc.mask]);
      return { ...t, teacherAdapters };
    });
    const run = async (micro?: number) => {
      const hn = new HyperNetwork(base, { ...cfg, fusion: c.fusion }, { seed: 2 });
      const before = tf.memory().numTensors;
      const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-2 });
      const records: StepRecord[] = [];
      await finetuneHypernet({
        hypernet: hn,
        tasks: withAdapters,
        batchSize: c.batchSize,
        tasksPerBatch: c.tasksPerBatch,
        seed: 4,
        loss: { lambdaKl: 1, lambdaIns: 0.5 },
        teacher: { sources: ['lora', 'concat'] },
        optimizer,
        steps: 3,
        gradAccum: 2,
        ...(micro !== undefined ? { microBatchSize: micro } : {}),
        onStep: (r) => void records.push(r),
      });
      optimizer.dispose();
      expect(tf.memory().numTensors).toBe(before); // parts, slices and the whole batches all freed
      const weights = hn.namedParameters().map(([k, v]) => [k, Array.from(v.dataSync())] as const);
      hn.dispose();
      return { records, weights };
    };
    const whole = await run();
    const parts = await run(c.micro);
    expect(parts.records).toHaveLength(3);
    for (const [i, r] of parts.records.entries()) {
      const w = whole.records[i] as StepRecord;
      expectNear(r.loss, w.loss, 'loss');
      expectNear(r.gradNorm, w.gradNorm, 'gradNorm');
      expect(r.tokens).toBe(w.tokens);
      expect(Object.keys(r.terms).sort()).toEqual(['ce', 'ins', 'kl']);
      for (const k of ['ce', 'kl', 'ins']) expectNear(r.terms[k] as number, w.terms[k] as number, k);
    }
    for (const [j, [k, v]] of parts.weights.entries()) {
      const ref = (whole.weights[j] as readonly [string, number[]])[1];
      expect(Math.max(...v.map((x, n) => Math.abs(x - (ref[n] as number)))), k).toBeLessThan(1e-5);
    }
    for (const t of withAdapters) disposeDeltas(t.teacherAdapters);
    teacherHn.dispose();
  });

  it("pretraining with microBatchSize gives the whole batch's losses, gradient norms and weights", async () => {
    const run = async (micro?: number) => {
      const hn = new HyperNetwork(base, cfg, { seed: 2 });
      const before = tf.memory().numTensors;
      const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-2 });
      const records: StepRecord[] = [];
      await pretrainHypernet({
        hypernet: hn,
        documents: docs,
        split: smallSplit,
        batchSize: 5,
        optimizer,
        steps: 3,
        seed: 1,
        ...(micro !== undefined ? { microBatchSize: micro } : {}),
        onStep: (x) => void records.push(x),
      });
      optimizer.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const weights = hn.namedParameters().map(([, v]) => Array.from(v.dataSync()));
      hn.dispose();
      return { records, weights };
    };
    const whole = await run();
    const parts = await run(2);
    expect(parts.records).toHaveLength(3);
    for (const [i, r] of parts.records.entries()) {
      expectNear(r.loss, (whole.records[i] as StepRecord).loss, 'loss');
      expectNear(r.gradNorm, (whole.records[i] as StepRecord).gradNorm, 'gradNorm');
    }
    for (const [j, v] of parts.weights.entries()) expect(Math.max(...v.map((x, n) => Math.abs(x - (whole.weights[j]![n] as number))))).toBeLessThan(1e-5);
  });

  it('pretraining through fit: per-example adapters from segment a, CE on segment c, no leaks', async () => {
    const hn = new HyperNetwork(base, cfg, { seed: 2 });
    const before = tf.memory().numTensors;
    const optimizer = new AdamW(hn.namedParameters(), { lr: 1e-2 });
    const records: StepRecord[] = [];
    const r = await pretrainHypernet({
      hypernet: hn,
      documents: docs,
      split: smallSplit,
      batchSize: 2,
      optimizer,
      steps: 4,
      seed: 1,
      onStep: (x) => void records.push(x),
    });
    optimizer.dispose();
    expect(r).toMatchObject({ step: 4, aborted: false });
    expect(tf.memory().numTensors).toBe(before);
    for (const x of records) {
      expect(Object.keys(x.terms)).toEqual(['ce']);
      expect(x.loss).toBeCloseTo(x.terms['ce']!, 6);
      expect(x.gradNorm).toBeGreaterThan(0);
    }
    hn.dispose();
  });
});

describe('alignment loss with modules stacked by shape', () => {
  it("equals distill's module-by-module loss, value and gradients (shared and per-task factors, two shapes, both modes)", () => {
    // modules 0-2: [out 6, in 4]; module 3: [out 5, in 7]; generated rank 3 with scaling 2, teacher rank 2 with scaling 0.5
    const shapes = [
      [6, 4],
      [6, 4],
      [6, 4],
      [5, 7],
    ] as const;
    for (const tasksDim of [undefined, 3]) {
      const lead = tasksDim === undefined ? [] : [tasksDim];
      const vars: tf.Variable[] = [];
      const generated = new Map<string, LowRankDelta>();
      const teacher = new Map<string, LowRankDelta>();
      shapes.forEach(([out, inF], k) => {
        const A = tf.variable(tf.randomNormal([...lead, 3, inF], 0, 1, 'float32', k + 1));
        const B = tf.variable(tf.randomNormal([...lead, out, 3], 0, 1, 'float32', k + 11));
        vars.push(A, B);
        generated.set(`m${k}`, { A, B, scaling: 2 });
        teacher.set(`m${k}`, {
          A: tf.randomNormal([...lead, 2, inF], 0, 1, 'float32', k + 21),
          B: tf.randomNormal([...lead, out, 2], 0, 1, 'float32', k + 31),
          scaling: 0.5,
        });
      });
      for (const mode of ['delta', 'factors'] as const) {
        // factors mode needs equal ranks: compare the generated side with itself shifted
        const other =
          mode === 'delta' ? teacher : new Map([...generated].map(([k, d]) => [k, { A: tf.add(d.A, 0.1), B: tf.sub(d.B, 0.2), scaling: d.scaling }]));
        tf.tidy(() => {
          const a = tf.variableGrads(() => alignmentLoss(generated, other, mode), vars);
          const b = tf.variableGrads(() => parameterAlignmentLoss(generated, other, { mode }), vars);
          expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0] as number, 5);
          for (const v of vars) {
            const ga = a.grads[v.name]!.dataSync();
            const gb = b.grads[v.name]!.dataSync();
            ga.forEach((x, i) => expect(Math.abs(x - (gb[i] as number))).toBeLessThan(1e-5 + 1e-4 * Math.abs(gb[i] as number)));
          }
        });
        if (mode === 'factors') for (const d of other.values()) tf.dispose([d.A, d.B]);
      }
      tf.dispose(vars);
      for (const d of teacher.values()) tf.dispose([d.A, d.B]);
    }
  });
});
