// What the STUDENT's encoder actually receives. The released TAGI code still feeds the definition to the
// student; here the student must read the instance input ids alone (right-padded), while the
// instruction reaches the model only through `encodeInstructions` (and the fusion built from it). The
// base model's `forward` and `encode` are wrapped to record every `inputIds` they are given; `generate`
// (t5-model's free function used by `generateWithTask`) reaches the encoder through `model.encode`.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type DeltaMap, type StepRecord, fit } from '@tagi/tensor-core';
import type { T5ForwardArgs } from '@tagi/t5-model';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { HyperNetwork } from './hypernet.js';
import { generateAdapter, generateWithTask } from './inference.js';
import { type FinetuneTask, finetuneObjective, studentLoss } from './training.js';

type Model = ReturnType<typeof tinyT5>;

interface EncoderCall {
  /** `forward` (encoder run inside it) or a direct `encode` (not nested in a forward). */
  readonly via: 'forward' | 'encode';
  readonly ids: number[][];
  readonly adapters: DeltaMap | undefined;
  /** Width of the `concat` fusion prefix passed with the call (0 without). */
  readonly prefixLen: number;
}

/** Wraps `model.forward` / `model.encode` on the instance, recording the encoder's `inputIds`. */
function recordEncoderInputs(model: Model): { calls: EncoderCall[]; restore: () => void } {
  const calls: EncoderCall[] = [];
  const forward = model.forward.bind(model);
  const encode = model.encode.bind(model);
  let depth = 0;
  model.forward = (args: T5ForwardArgs) => {
    calls.push({ via: 'forward', ids: args.inputIds.arraySync(), adapters: args.adapters, prefixLen: args.encoderPrefix?.mask.shape[1] ?? 0 });
    depth++;
    try {
      return forward(args);
    } finally {
      depth--;
    }
  };
  model.encode = (...a: Parameters<Model['encode']>) => {
    if (depth === 0) calls.push({ via: 'encode', ids: a[0].arraySync(), adapters: a[2], prefixLen: 0 });
    return encode(...a);
  };
  return {
    calls,
    restore() {
      Reflect.deleteProperty(model, 'forward');
      Reflect.deleteProperty(model, 'encode');
    },
  };
}

/** Records the ids every `encodeInstructions` call receives. */
function recordInstructions(hn: HyperNetwork): { rows: number[][][]; restore: () => void } {
  const rows: number[][][] = [];
  const orig = hn.encodeInstructions.bind(hn);
  hn.encodeInstructions = (ids, mask) => {
    rows.push(ids.arraySync());
    return orig(ids, mask);
  };
  return { rows, restore: () => Reflect.deleteProperty(hn, 'encodeInstructions') };
}

const PAD = 0;
const padded = (rows: readonly (readonly number[])[]): number[][] => {
  const len = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => [...r, ...new Array<number>(len - r.length).fill(PAD)]);
};

// Instruction tokens (40..49) and input tokens (3..14) are disjoint, so any instruction id in a student
// row is a leak. Inputs have different lengths so that padding is exercised.
const tasks: FinetuneTask[] = ['a', 'b'].map((taskId, t) => {
  const instructionIds = [40 + t, 42, 43 + 2 * t, 45, 1];
  return {
    taskId,
    instructionIds,
    examples: [0, 1, 2, 3].map((j) => {
      const inputIds = [3 + j, 7 + t, ...new Array<number>(j % 3).fill(11 + j), 1];
      return { id: `${taskId}${j}`, inputIds, labelIds: [20 + t + j, 1], teacherInputIds: [...instructionIds.slice(0, -1), ...inputIds] };
    }),
  };
});
const byInput = new Map(tasks.flatMap((t) => t.examples.map((e) => [JSON.stringify(e.inputIds), e] as const)));
const taskById = new Map(tasks.map((t) => [t.taskId, t]));
const INSTRUCTION_TOKENS = new Set(tasks.flatMap((t) => t.instructionIds.slice(0, -1)));

const unpad = (row: readonly number[]) => {
  let n = row.length;
  while (n > 0 && row[n - 1] === PAD) n--;
  return row.slice(0, n);
};

function expectNoInstructionTokens(rows: readonly (readonly number[])[]): void {
  for (const row of rows)
    expect(
      row.filter((id) => INSTRUCTION_TOKENS.has(id)),
      `student row ${JSON.stringify(row)}`,
    ).toEqual([]);
}

const cfg = { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, bHeadInitStd: 0.01 };
let base: Model;
let teacher: Model;
beforeAll(async () => {
  await useCpu();
  base = tinyT5(1);
  teacher = tinyT5(2); // the `concat` teacher: a separate model so its calls are told apart by object
});
afterAll(() => {
  base.dispose();
  teacher.dispose();
});

describe.each(['concat', 'cross-attention'] as const)('student encoder input (fusion %s)', (fusion) => {
  it('finetuneObjective through fit: the concat teacher reads instruction+input, the student the instance input alone', async () => {
    const hn = new HyperNetwork(base, { ...cfg, fusion }, { seed: 4 });
    const opt = new AdamW(hn.namedParameters(), { lr: 1e-2 });
    const student = recordEncoderInputs(base);
    const teach = recordEncoderInputs(teacher);
    const instr = recordInstructions(hn);
    const logs: (StepRecord & { taskId: string })[] = [];
    const objective = finetuneObjective({
      hypernet: hn,
      tasks,
      batchSize: 3,
      seed: 5,
      loss: { lambdaKl: 1, lambdaIns: 0 },
      teacher: { sources: ['concat'], concatModel: teacher },
    });
    try {
      await fit({
        ...objective,
        name: 'finetune',
        optimizer: opt,
        steps: 3,
        onStep: (r) => void logs.push({ ...r, taskId: objective.taskOf({ step: r.step - 1, micro: 0 }) }),
      });
    } finally {
      objective.dispose();
      student.restore();
      teach.restore();
      instr.restore();
    }
    expect(logs).toHaveLength(3);
    expect(logs.every((r) => r.terms['kl'] !== undefined && Number.isFinite(r.terms['kl']) && r.terms['kl'] > 0)).toBe(true);
    // the teacher: one forward per step (no cache), no adapter, rows = padded teacherInputIds of the batch
    expect(teach.calls.map((c) => c.via)).toEqual(['forward', 'forward', 'forward']);
    // the student: one forward per step on the base, with the generated adapter
    const studentCalls = student.calls.filter((c) => c.adapters !== undefined);
    expect(studentCalls.map((c) => c.via)).toEqual(['forward', 'forward', 'forward']);
    logs.forEach((rec, s) => {
      const task = taskById.get(rec.taskId) as FinetuneTask;
      const tRows = (teach.calls[s] as EncoderCall).ids;
      // each teacher row is instruction (without its eos) + one of this task's inputs, padded
      for (const row of tRows) {
        const ids = unpad(row);
        expect(ids.slice(0, task.instructionIds.length - 1)).toEqual(task.instructionIds.slice(0, -1));
        expect(
          byInput.get(JSON.stringify(ids.slice(task.instructionIds.length - 1))),
          `teacher row ${JSON.stringify(row)} is not instruction+input of task ${task.taskId}`,
        ).toBeDefined();
      }
      // the student reads the batch's instance inputs alone, each one an example of this task
      const sCall = studentCalls[s] as EncoderCall;
      const batch = sCall.ids.map((row) => {
        const ex = byInput.get(JSON.stringify(unpad(row)));
        expect(ex !== undefined && task.examples.includes(ex), `student row ${JSON.stringify(row)} is not an input of task ${task.taskId}`).toBe(true);
        return ex!;
      });
      expect(sCall.ids).toEqual(padded(batch.map((e) => e.inputIds)));
      // the teacher ran each distinct example of that batch once, in first-occurrence order (a batch samples with replacement)
      const distinct = [...new Map(batch.map((e) => [e.id, e])).values()];
      expect(tRows).toEqual(padded(distinct.map((e) => e.teacherInputIds!)));
      expectNoInstructionTokens(sCall.ids);
      // with `concat` fusion the instruction comes in as the encoded prefix (its own token width)
      expect(sCall.prefixLen).toBe(fusion === 'concat' ? task.instructionIds.length : 0);
    });
    // nothing else ran on the base except the instruction encodings (direct `encode`, no adapter)
    const other = student.calls.filter((c) => c.adapters === undefined);
    expect(other.every((c) => c.via === 'encode')).toBe(true);
    // the instruction reaches the hypernetwork through encodeInstructions only: once per distinct task (cached)
    const seen = [...new Set(logs.map((r) => r.taskId))];
    expect(instr.rows).toEqual(seen.map((id) => [taskById.get(id)!.instructionIds]));
    expect(other.map((c) => c.ids)).toEqual(instr.rows);
    opt.dispose();
    hn.dispose();
  });

  it('studentLoss: the student reads the padded instance inputs of each task, in order', () => {
    const hn = new HyperNetwork(base, { ...cfg, fusion }, { seed: 4 });
    const rec = recordEncoderInputs(base);
    const instr = recordInstructions(hn);
    try {
      expect(Number.isFinite(studentLoss(hn, tasks, { batchSize: 3 }))).toBe(true);
    } finally {
      rec.restore();
      instr.restore();
    }
    const expected = tasks.flatMap((t) => [padded(t.examples.slice(0, 3).map((e) => e.inputIds)), padded(t.examples.slice(3).map((e) => e.inputIds))]);
    const studentCalls = rec.calls.filter((c) => c.adapters !== undefined);
    expect(studentCalls.map((c) => c.via)).toEqual(expected.map(() => 'forward'));
    expect(studentCalls.map((c) => c.ids)).toEqual(expected);
    studentCalls.forEach((c, i) => expect(c.prefixLen).toBe(fusion === 'concat' ? (tasks[i < 2 ? 0 : 1] as FinetuneTask).instructionIds.length : 0));
    for (const c of studentCalls) expectNoInstructionTokens(c.ids);
    expect(instr.rows).toEqual(tasks.map((t) => [t.instructionIds]));
    expect(rec.calls.filter((c) => c.adapters === undefined).map((c) => c.ids)).toEqual(instr.rows);
    hn.dispose();
  });

  it('generateWithTask: the encoder run by generate reads the instance inputs alone', async () => {
    const hn = new HyperNetwork(base, { ...cfg, fusion }, { seed: 4 });
    const task = tasks[1] as FinetuneTask;
    const inputs = task.examples.map((e) => e.inputIds);
    const instr = recordInstructions(hn);
    const adapter = generateAdapter(hn, task.instructionIds);
    instr.restore();
    expect(instr.rows).toEqual([[task.instructionIds]]);
    const before = tf.memory().numTensors;
    const rec = recordEncoderInputs(base);
    let out: number[][];
    try {
      out = await generateWithTask(hn, adapter, inputs, { maxNewTokens: 3 });
    } finally {
      rec.restore();
    }
    expect(out).toHaveLength(inputs.length);
    expect(tf.memory().numTensors).toBe(before);
    // generate encodes once (a direct `encode` with the generated adapter), never a forward
    expect(rec.calls.map((c) => c.via)).toEqual(['encode']);
    const call = rec.calls[0] as EncoderCall;
    expect([...(call.adapters ?? new Map()).keys()]).toEqual([...adapter.adapter.deltas.keys()]); // the generated adapter
    expect(call.ids).toEqual(padded(inputs));
    expectNoInstructionTokens(call.ids);
    adapter.dispose();
    hn.dispose();
  });
});
