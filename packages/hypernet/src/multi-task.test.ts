// Several tasks per batch: stage-3 micro-batches that mix tasks (per-example adapters and fusion rows) and
// batched inference over many tasks must compute exactly what the one-task paths compute, task by task.
// References: the one-task objective's loss on each task's examples alone, and generateWithTask per task.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeltaMap, Rng } from '@tagi/tensor-core';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { padIds, padLabels } from './batching.js';
import type { FusionKind } from './config.js';
import { HypernetInputError } from './errors.js';
import { HyperNetwork, disposeDeltas, disposeEncoding, maskedMeanPool, stackEncodings } from './hypernet.js';
import { generateAdapter, generateAdapters, generateWithTask, generateWithTasks } from './inference.js';
import { type FinetuneBatch, type FinetuneTask, finetuneObjective } from './training.js';

let base: ReturnType<typeof tinyT5>;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
});
afterAll(() => base.dispose());

const cfg = { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, bHeadInitStd: 0.05 };
// instructions of different lengths (so stacking pads), every label two tokens long (so the mean over a
// mixed batch's tokens is the mean of the per-task means)
const tasks: FinetuneTask[] = ['a', 'b', 'c'].map((taskId, i) => ({
  taskId,
  instructionIds: [20 + i, 21, ...Array.from({ length: 2 * i }, (_, k) => 40 + k), 22 + i, 1],
  examples: [0, 1, 2, 3].map((j) => ({
    id: `${taskId}${j}`,
    inputIds: [3 + j, 4 + i, ...(j % 2 ? [9] : []), 1],
    labelIds: [30 + i + j, 1],
    teacherInputIds: [20 + i, 21, 22 + i, 3 + j, 4 + i, 1],
  })),
}));

/** Random values for the zero-initialised fusion output projections (else cross-attention fusion is the identity and hides mistakes). */
function randomiseFusion(hn: HyperNetwork): void {
  const rng = new Rng(5);
  for (const [k, p] of hn.namedParameters()) {
    if (k.startsWith('fusion_layers.') && k.endsWith('.o.weight'))
      tf.tidy(() =>
        p.assign(
          tf.tensor(
            Float32Array.from({ length: p.size }, () => rng.normal() * 0.3),
            p.shape,
          ),
        ),
      );
  }
}

/** The one-task batch of task row `t` of a mixed batch: its examples alone, padded on their own. */
function subBatch(b: FinetuneBatch, t: number, encoding: FinetuneBatch['encoding']): FinetuneBatch {
  const idx = b.taskOfExample.flatMap((x, i) => (x === t ? [i] : []));
  const examples = idx.map((i) => b.examples[i]!);
  const task = b.tasks[t]!;
  return {
    task,
    tasks: [task],
    taskOfExample: examples.map(() => 0),
    examples,
    input: padIds(
      examples.map((e) => e.inputIds),
      0,
    ),
    labels: padLabels(examples.map((e) => e.labelIds)),
    teacherLogits: b.teacherLogits.map((l) => tf.gather(l, idx) as tf.Tensor3D),
    encoding,
    teacherAdapters: undefined,
  };
}

const fusions: FusionKind[] = ['none', 'concat', 'cross-attention'];

describe('finetuneObjective with tasksPerBatch > 1', () => {
  it('builds batches of tasksPerBatch tasks × batchSize / tasksPerBatch examples, a pure function of (seed, step, micro)', () => {
    const hn = new HyperNetwork(base, cfg);
    const o = finetuneObjective({ hypernet: hn, tasks, batchSize: 4, tasksPerBatch: 2, seed: 3, loss: { lambdaKl: 0 } });
    const again = finetuneObjective({ hypernet: hn, tasks, batchSize: 4, tasksPerBatch: 2, seed: 3, loss: { lambdaKl: 0 } });
    const seen: string[] = [];
    for (let step = 0; step < 3; step++) {
      const b = o.batch({ step, micro: 0 });
      const c = again.batch({ step, micro: 0 });
      expect(b.examples.map((e) => e.id)).toEqual(c.examples.map((e) => e.id));
      expect(b.taskOfExample).toEqual([0, 0, 1, 1]);
      b.examples.forEach((e, i) => expect(e.id.startsWith(b.tasks[b.taskOfExample[i]!]!.taskId)).toBe(true));
      expect(b.encoding!.states.shape[0]).toBe(2); // one encoding row per task, padded to the longer instruction
      expect(b.task).toBe(b.tasks[0]);
      expect(o.taskOf({ step, micro: 0 })).toBe(b.tasks[0]!.taskId);
      seen.push(...b.tasks.map((t) => t.taskId));
      o.release!(b);
      again.release!(c);
    }
    // seeded epochs over the 3 tasks: 6 slots cover every task exactly twice
    expect(seen.sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    o.dispose();
    again.dispose();
    hn.dispose();
  });

  it('rejects a tasksPerBatch that does not divide batchSize, naming it', () => {
    const hn = new HyperNetwork(base, cfg);
    for (const k of [3, 0, 1.5]) {
      expect(() => finetuneObjective({ hypernet: hn, tasks, batchSize: 4, tasksPerBatch: k, loss: { lambdaKl: 0 } })).toThrow(HypernetInputError);
      try {
        finetuneObjective({ hypernet: hn, tasks, batchSize: 4, tasksPerBatch: k, loss: { lambdaKl: 0 } });
      } catch (e) {
        expect((e as HypernetInputError).argument).toBe('tasksPerBatch');
      }
    }
    hn.dispose();
  });

  it.each(fusions)("fusion %s: the mixed batch's L_ce, L_kl and L_ins are the means of the one-task losses on each task's examples", (fusion) => {
    const hn = new HyperNetwork(base, { ...cfg, fusion }, { seed: 2 });
    randomiseFusion(hn);
    const teacherHn = new HyperNetwork(base, { ...cfg, bHeadInitStd: 0.2 }, { seed: 8 });
    const withTeachers = tasks.map((t) => {
      const x = padIds([t.instructionIds], 0);
      const enc = teacherHn.encodeInstructions(x.ids, x.mask);
      const teacherAdapters = teacherHn.generate(enc, { shared: true }) as DeltaMap;
      tf.dispose([x.ids, x.mask]);
      disposeEncoding(enc);
      return { ...t, teacherAdapters };
    });
    const loss = { lambdaKl: 0.7, lambdaIns: 0.3 };
    const teacher = { sources: ['concat', 'lora'] as const, cache: true };
    const before = tf.memory().numTensors;
    const mixed = finetuneObjective({
      hypernet: hn,
      tasks: withTeachers,
      batchSize: 4,
      tasksPerBatch: 2,
      seed: 1,
      loss,
      teacher: { ...teacher, sources: [...teacher.sources] },
    });
    const single = finetuneObjective({
      hypernet: hn,
      tasks: withTeachers,
      batchSize: 2,
      seed: 1,
      loss,
      teacher: { ...teacher, sources: [...teacher.sources] },
    });
    for (const step of [0, 1]) {
      const b = mixed.batch({ step, micro: 0 });
      const got = tf.tidy(() => {
        const r = mixed.loss(b, { step, micro: 0 });
        return [r.loss, r.terms!['ce']!, r.terms!['kl']!, r.terms!['ins']!].map((x) => x.dataSync()[0] as number);
      });
      const parts = b.tasks.map((task, t) => {
        const sb = subBatch(b, t, single.instructions.get(task.taskId, task.instructionIds));
        const v = tf.tidy(() => {
          const r = single.loss(sb, { step, micro: 0 });
          return [r.loss, r.terms!['ce']!, r.terms!['kl']!, r.terms!['ins']!].map((x) => x.dataSync()[0] as number);
        });
        tf.dispose([sb.input.ids, sb.input.mask, sb.labels, ...sb.teacherLogits]);
        return v;
      });
      got.forEach((g, i) => expect(g, `step ${step} term ${i}`).toBeCloseTo((parts[0]![i]! + parts[1]![i]!) / 2, 5));
      // the mixed batch's 'lora' teacher (source 1) ran each task's examples with that task's own adapter:
      // against the base run directly on those examples with the task's adapter (the one-task loss above
      // reuses these logits, so it cannot tell)
      b.tasks.forEach((task, t) => {
        const idx = b.taskOfExample.flatMap((x, i) => (x === t ? [i] : []));
        const diff = tf.tidy(() => {
          const x = padIds(
            idx.map((i) => b.examples[i]!.inputIds),
            0,
          );
          const labels = padLabels(idx.map((i) => b.examples[i]!.labelIds));
          const ref = base.forward({ inputIds: x.ids, attentionMask: x.mask, labels, adapters: task.teacherAdapters! }).logits; // [n, tgtLen, vocab]
          const mine = tf.gather(b.teacherLogits[1]!, idx); // [n, tgtLen, vocab]
          return tf.max(tf.abs(tf.sub(mine, ref))).dataSync()[0] as number;
        });
        expect(diff, `step ${step} task ${task.taskId}: lora teacher logits`).toBeLessThan(1e-5);
      });
      expect(got[2]).toBeGreaterThan(0);
      expect(got[3]).toBeGreaterThan(0);
      mixed.release!(b);
    }
    mixed.dispose();
    single.dispose();
    expect(tf.memory().numTensors).toBe(before); // stacked encodings and teachers are the batch's (freed by release), caches the objective's
    for (const t of withTeachers) disposeDeltas(t.teacherAdapters);
    teacherHn.dispose();
    hn.dispose();
  });

  it("encoder 'separate': the mixed batch's loss is the mean of the one-task losses, and its gradient reaches the instruction encoder", () => {
    const hn = new HyperNetwork(base, { ...cfg, encoder: 'separate', fusion: 'concat' }, { seed: 4 });
    const mixed = finetuneObjective({ hypernet: hn, tasks, batchSize: 4, tasksPerBatch: 2, seed: 2, loss: { lambdaKl: 0 } });
    const single = finetuneObjective({ hypernet: hn, tasks, batchSize: 2, seed: 2, loss: { lambdaKl: 0 } });
    const b = mixed.batch({ step: 0, micro: 0 });
    expect(b.encoding).toBeUndefined();
    const got = tf.tidy(() => mixed.loss(b, { step: 0, micro: 0 }).loss.dataSync()[0] as number);
    const parts = b.tasks.map((_, t) => {
      const sb = subBatch(b, t, undefined);
      const v = tf.tidy(() => single.loss(sb, { step: 0, micro: 0 }).loss.dataSync()[0] as number);
      tf.dispose([sb.input.ids, sb.input.mask, sb.labels]);
      return v;
    });
    expect(got).toBeCloseTo((parts[0]! + parts[1]!) / 2, 5);
    const encoderVars = [...mixed.params].filter(([k]) => k.startsWith('instruction_encoder.')).map(([, v]) => v);
    const { grads, value } = tf.variableGrads(() => mixed.loss(b, { step: 0, micro: 0 }).loss, encoderVars);
    const norm = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0] as number);
    expect(norm).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    mixed.release!(b);
    mixed.dispose();
    single.dispose();
    hn.dispose();
  });
});

describe('stackEncodings', () => {
  it('pads each task row with masked zeros: the pooled instruction of every row equals its own encoding pooled alone', () => {
    const hn = new HyperNetwork(base, cfg);
    const encs = tasks.map((t) => {
      const x = padIds([t.instructionIds], 0);
      const e = hn.encodeInstructions(x.ids, x.mask);
      tf.dispose([x.ids, x.mask]);
      return e;
    });
    const stacked = stackEncodings(encs);
    expect(stacked.states.shape).toEqual([3, Math.max(...tasks.map((t) => t.instructionIds.length)), base.config.dModel]);
    const pooled = maskedMeanPool(stacked.states, stacked.mask);
    encs.forEach((e, i) => {
      const alone = maskedMeanPool(e.states, e.mask);
      expect(Array.from(tf.tidy(() => tf.slice(pooled, [i, 0], [1, -1])).dataSync())).toEqual(Array.from(alone.dataSync()).map((v) => expect.closeTo(v, 6)));
      alone.dispose();
    });
    pooled.dispose();
    disposeEncoding(stacked);
    encs.forEach(disposeEncoding);
    expect(() => stackEncodings([])).toThrow(HypernetInputError);
    hn.dispose();
  });
});

describe('generateAdapters + generateWithTasks', () => {
  it.each(fusions)('fusion %s: one mixed batch over several tasks generates what generateWithTask generates task by task', async (fusion) => {
    const hn = new HyperNetwork(base, { ...cfg, fusion, bHeadInitStd: 0.3 }, { seed: 6 });
    randomiseFusion(hn);
    const inputs = tasks.flatMap((t, ti) => t.examples.map((e) => ({ ti, ids: e.inputIds })));
    const expected: number[][] = [];
    for (const [ti, t] of tasks.entries()) {
      const one = generateAdapter(hn, t.instructionIds);
      expected.push(
        ...(await generateWithTask(
          hn,
          one,
          inputs.filter((x) => x.ti === ti).map((x) => x.ids),
          { maxNewTokens: 4 },
        )),
      );
      one.dispose();
    }
    const before = tf.memory().numTensors;
    const batch = generateAdapters(
      hn,
      tasks.map((t) => t.instructionIds),
    );
    expect(batch.tasks).toBe(3);
    const got = await generateWithTasks(
      hn,
      batch,
      inputs.map((x) => x.ti),
      inputs.map((x) => x.ids),
      { maxNewTokens: 4 },
    );
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toEqual(expected);
    // the adapters differ between tasks, so this is not one adapter for all (scores of the first step)
    expect(new Set(got.map((r) => r.join())).size).toBeGreaterThan(1);
    const one = generateAdapters(hn, [tasks[0]!.instructionIds]);
    await expect(
      generateWithTasks(
        hn,
        one,
        [0],
        [
          [3, 1],
          [4, 1],
        ],
      ),
    ).rejects.toThrow(HypernetInputError);
    one.dispose();
    hn.dispose();
  });
});
