// Stage 2 (pretraining on a|b|c document splits) and stage 3 (finetuning with distillation) as objectives
// for tensor-core's `fit`, the one training loop: each is the hypernetwork's trainable parameters, a batch
// sampler and a loss. The sampler is a pure function of (seed, step, micro), so a run resumed by `fit` from
// its checkpoint sees exactly the batches an uninterrupted run sees. Everything that does not need
// gradients (frozen instruction encodings, teacher logits) is computed in `batch()`, outside the tape;
// `loss()` runs inside it and reads nothing back to the host.
import * as tf from '@tensorflow/tfjs-core';
import {
  type BatchPart,
  type DeltaMap,
  type FitOptions,
  type FitResult,
  type LowRankDelta,
  type Objective,
  type StepContext,
  Rng,
  fit,
} from '@tagi/tensor-core';
import { type TagiLossConfig, checkLabelIds, distillKl, maskedCrossEntropy, parameterAlignmentLoss, resolveTagiLossConfig } from '@tagi/distill';
import { checkIdRows, shiftRightTensor } from '@tagi/t5-model';
import type { BaseSeq2SeqModel } from './base-model.js';
import { DEFAULT_SPLIT_LENGTHS, type SplitExample, type SplitLengths, checkSplitLengths, padIds, padLabels, splitDocument } from './batching.js';
import { HypernetInputError } from './errors.js';
import { HyperNetwork, type InstructionEncoding, disposeDeltas, disposeEncoding, fusionHook, selectEncodingRows, stackEncodings } from './hypernet.js';

/** The hypernetwork's trainable variables by parameter name: what `fit` differentiates, updates and checkpoints. */
export function trainableParameters(hn: HyperNetwork): Map<string, tf.Variable> {
  return new Map(hn.namedParameters().filter(([, v]) => v.trainable));
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new HypernetInputError('batchSize', 'a positive integer', String(batchSize));
}

/** The label of micro-batch `micro` of update `step` (micro 0 keeps the single-batch label, so gradAccum 1 runs are unchanged). */
function stepLabel(prefix: string, step: number, micro: number): string {
  return micro === 0 ? `${prefix}-${step}` : `${prefix}-${step}-micro-${micro}`;
}

/**
 * Consecutive row ranges of at most `size` rows and each range's share of the batch's token-mean loss (its
 * scored target tokens over the batch's; by rows when the batch scores none): what `split` cuts for fit's
 * `microBatchSize`, so Σ share·loss(part) = loss(batch).
 */
function rowRanges(scored: readonly number[], size: number): { start: number; rows: number; weight: number }[] {
  if (!Number.isInteger(size) || size < 1) throw new HypernetInputError('microBatchSize', 'a positive integer', String(size));
  const total = scored.reduce((a, n) => a + n, 0);
  const out: { start: number; rows: number; weight: number }[] = [];
  for (let start = 0; start < scored.length; start += size) {
    const rows = Math.min(size, scored.length - start);
    const tokens = scored.slice(start, start + rows).reduce((a, n) => a + n, 0);
    out.push({ start, rows, weight: total > 0 ? tokens / total : rows / scored.length });
  }
  return out;
}

/** Rows [start, start + rows) of a tensor (a new tensor, the batch's padding width kept: masks make it inert). */
function sliceRows<T extends tf.Tensor>(t: T, start: number, rows: number): T {
  return tf.slice(t, [start, ...new Array<number>(t.rank - 1).fill(0)], [rows, ...new Array<number>(t.rank - 1).fill(-1)]) as T;
}

/**
 * Decoder logits for `labels` without the model's own loss (the objective is computed here, and the
 * model's gather-based CE would be wasted work): decoder inputs = HF `_shift_right(labels)`.
 */
function teacherForward(model: BaseSeq2SeqModel, ids: tf.Tensor2D, mask: tf.Tensor2D, labels: tf.Tensor2D, adapters: DeltaMap | undefined) {
  const decoderInputIds = shiftRightTensor(labels, model.config.decoderStartTokenId, model.config.padTokenId);
  try {
    return model.forward({ inputIds: ids, attentionMask: mask, decoderInputIds, adapters });
  } finally {
    decoderInputIds.dispose();
  }
}

/**
 * The student, fed the task input only: frozen base + generated adapter, with the instruction fused as
 * configured (`concat` prefix or per-layer cross-attention hook). `enc` has one row (the whole batch's
 * task) or one row per task of `taskOfExample`; `deltas` are shared or one per example.
 */
function studentForward(
  hn: HyperNetwork,
  ids: tf.Tensor2D,
  mask: tf.Tensor2D,
  labels: tf.Tensor2D,
  deltas: DeltaMap,
  enc: InstructionEncoding,
  taskOfExample?: readonly number[],
) {
  const perExample = taskOfExample !== undefined && enc.states.shape[0] > 1;
  // the hook reads one row for the batch or one per example; the rows are picked inside the tape (differentiable)
  const encoderLayerHook = hn.config.fusion === 'cross-attention' ? fusionHook(hn, perExample ? selectEncodingRows(enc, taskOfExample) : enc) : undefined;
  const encoderPrefix = hn.fusionPrefix(enc, ids.shape[0], perExample ? taskOfExample : undefined);
  const decoderInputIds = shiftRightTensor(labels, hn.base.config.decoderStartTokenId, hn.base.config.padTokenId);
  try {
    return hn.base.forward({ inputIds: ids, attentionMask: mask, decoderInputIds, adapters: deltas, encoderPrefix, encoderLayerHook });
  } finally {
    decoderInputIds.dispose(); // the prefix is released by the caller's scope (the tape or a tidy)
  }
}

/**
 * `fit`'s options other than the ones an objective supplies (for the convenience runners below). `microBatchSize`
 * is fit's: the objectives cut their batches themselves (their `split`); pretraining's own `split` option means
 * the document's segment lengths, not fit's.
 */
export type StageFitOptions<B> = Omit<FitOptions<B>, 'name' | 'params' | 'batch' | 'loss' | 'tokens' | 'release' | 'split'> & {
  /** Name of the stage in logs and errors (default `hypernet-pretrain` / `hypernet-finetune`). */
  readonly name?: string;
};

async function runObjective<B>(name: string, objective: Objective<B>, o: StageFitOptions<B>): Promise<FitResult> {
  try {
    // pretraining's options carry `split` (segment lengths), which is not fit's `split`
    const { split: _segmentLengths, ...fitOptions } = o as StageFitOptions<B> & { split?: unknown };
    return await fit<B>({
      ...fitOptions,
      name: o.name ?? name,
      params: objective.params,
      batch: (ctx) => objective.batch(ctx),
      loss: (b, ctx) => objective.loss(b, ctx),
      ...(objective.tokens ? { tokens: (b: B) => (objective.tokens as (b: B) => number)(b) } : {}),
      ...(objective.release ? { release: (b: B) => (objective.release as (b: B) => void)(b) } : {}),
      ...(objective.split ? { split: (b: B, size: number) => (objective.split as NonNullable<Objective<B>['split']>)(b, size) } : {}),
    });
  } finally {
    objective.dispose?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Stage 2: pretraining

export interface PretrainObjectiveOptions {
  readonly hypernet: HyperNetwork;
  /** Tokenised documents (ids without eos; e.g. `tokenizer.encode(text, { addSpecialTokens: false })`). */
  readonly documents: readonly (readonly number[])[];
  /** Segment length ranges (tokens); default {@link DEFAULT_SPLIT_LENGTHS}. */
  readonly split?: Partial<SplitLengths>;
  /** Examples per micro-batch (each document split is its own "task": its own adapter and fusion). */
  readonly batchSize: number;
  /** Seed of the data order (default 0). */
  readonly seed?: number;
}

/** One pretraining micro-batch; its tensors are freed by `release`. */
export interface PretrainBatch {
  readonly examples: readonly SplitExample[];
  /** Segments a: `[batch, aLen]` ids and mask (the hypernetwork's input). */
  readonly instruction: { readonly ids: tf.Tensor2D; readonly mask: tf.Tensor2D };
  /** Segments b: `[batch, bLen]` (the student's encoder input). */
  readonly input: { readonly ids: tf.Tensor2D; readonly mask: tf.Tensor2D };
  /** Segments c: `[batch, cLen]` int32, -100 on padding. */
  readonly labels: tf.Tensor2D;
  /** The encoded segments a (frozen encoder, computed outside the tape); undefined with `encoder: 'separate'`. */
  readonly encoding: InstructionEncoding | undefined;
}

/**
 * Stage-2 pretraining as an objective: each example is a document split a|b|c; a → hypernetwork (its own
 * adapter and fusion, per example), b → T5 input, c → target; loss = masked CE on c (terms: `ce`).
 * Micro-batch (step, micro) draws from `Rng(seed).fork('pretrain-step-<step>[-micro-<micro>]')`.
 */
export function pretrainObjective(o: PretrainObjectiveOptions): Objective<PretrainBatch> {
  checkBatchSize(o.batchSize);
  if (o.documents.length === 0) throw new HypernetInputError('documents', 'at least one tokenised document', 'none');
  if (!o.documents.some((d) => d.length >= 3)) throw new HypernetInputError('documents', 'documents of at least 3 tokens', 'only shorter ones');
  // every id checked once, here where the documents enter (batches are then built from checked rows)
  checkIdRows(o.documents, o.hypernet.base.config.vocabSize, 'documents');
  const lengths: SplitLengths = { ...DEFAULT_SPLIT_LENGTHS, ...o.split };
  checkSplitLengths(lengths);
  const hn = o.hypernet;
  const { eosTokenId, padTokenId } = hn.base.config;
  const seedRng = new Rng(o.seed ?? 0);
  return {
    params: trainableParameters(hn),
    batch({ step, micro }) {
      const rng = seedRng.fork(stepLabel('pretrain-step', step, micro));
      const examples: SplitExample[] = [];
      for (let tries = 0; examples.length < o.batchSize && tries < o.batchSize * 20; tries++) {
        const doc = o.documents[Math.floor(rng.next() * o.documents.length)] as readonly number[];
        const ex = splitDocument(doc, rng, lengths, eosTokenId);
        if (ex) examples.push(ex);
      }
      if (examples.length === 0) throw new HypernetInputError('documents', 'documents of at least 3 tokens', 'only shorter ones');
      const instruction = padIds(
        examples.map((e) => e.instruction),
        padTokenId,
      );
      // one row per example. A frozen encoder runs here, outside the tape; a trainable one ('separate')
      // runs in loss(), inside it, so that it receives gradients.
      const encoding = hn.encoderIsTrainable ? undefined : hn.encodeInstructions(instruction.ids, instruction.mask);
      return {
        examples,
        instruction,
        input: padIds(
          examples.map((e) => e.input),
          padTokenId,
        ),
        labels: padLabels(examples.map((e) => e.target)),
        encoding,
      };
    },
    loss(b) {
      const enc = b.encoding ?? hn.encodeInstructions(b.instruction.ids, b.instruction.mask);
      const deltas = hn.generate(enc); // per example: A [batch, r, in]
      const { logits } = studentForward(hn, b.input.ids, b.input.mask, b.labels, deltas, enc);
      const ce = maskedCrossEntropy(logits, b.labels);
      return { loss: ce, terms: { ce } };
    },
    // T5 input (b) + target (c), padding excluded: what @tagi/lora's objectives count (`processedTokens`)
    tokens: (b) => b.examples.reduce((s, e) => s + e.input.length + e.target.length, 0),
    // every example has its own adapter and fusion rows, so a part is just its rows (each part owns its slices)
    split(b, size) {
      return rowRanges(
        b.examples.map((e) => e.target.length),
        size,
      ).map(({ start, rows, weight }) => ({
        weight,
        batch: {
          examples: b.examples.slice(start, start + rows),
          instruction: { ids: sliceRows(b.instruction.ids, start, rows), mask: sliceRows(b.instruction.mask, start, rows) },
          input: { ids: sliceRows(b.input.ids, start, rows), mask: sliceRows(b.input.mask, start, rows) },
          labels: sliceRows(b.labels, start, rows),
          encoding: b.encoding ? { states: sliceRows(b.encoding.states, start, rows), mask: sliceRows(b.encoding.mask, start, rows) } : undefined,
        },
      }));
    },
    release(b) {
      tf.dispose([b.instruction.ids, b.instruction.mask, b.input.ids, b.input.mask, b.labels]);
      if (b.encoding) disposeEncoding(b.encoding);
    },
  };
}

/** Stage 2 in one call: `fit` over {@link pretrainObjective} (the objective is disposed afterwards). */
export async function pretrainHypernet(o: PretrainObjectiveOptions & StageFitOptions<PretrainBatch>): Promise<FitResult> {
  return await runObjective('hypernet-pretrain', pretrainObjective(o), o);
}

// ---------------------------------------------------------------------------------------------
// Stage 3: finetuning

/** One training instance. The student reads `inputIds` ALONE (never the definition). */
export interface FinetuneExample {
  /** Stable id (keys the teacher-logit cache). */
  readonly id: string;
  /** The task input only, tokenised with eos. */
  readonly inputIds: readonly number[];
  /** The target, tokenised with eos. */
  readonly labelIds: readonly number[];
  /** Instruction + input (the Tk-Instruct prompt): the input of the `concat` teacher. */
  readonly teacherInputIds?: readonly number[];
}

export interface FinetuneTask {
  readonly taskId: string;
  /** The hypernetwork's input: definition (+ demonstrations), tokenised with eos. */
  readonly instructionIds: readonly number[];
  readonly examples: readonly FinetuneExample[];
  /** The task's stage-1 LoRA teacher (for the `lora` teacher and for parameter alignment). */
  readonly teacherAdapters?: DeltaMap;
}

/** Where the KL term's teacher logits come from. */
export interface TeacherOptions {
  /**
   * `concat`: the instruction-concatenated multitask model (Tk-Instruct analogue) fed `teacherInputIds`;
   * `lora`: the base model + the task's LoRA teacher fed the task input. With both, L_kl is their mean.
   */
  readonly sources: readonly ('concat' | 'lora')[];
  /** Model of the `concat` teacher (default: the hypernetwork's base). */
  readonly concatModel?: BaseSeq2SeqModel;
  /** Adapter of the `concat` teacher on its model, e.g. a multitask LoRA (default: none). */
  readonly concatAdapters?: DeltaMap;
  /**
   * Keep each example's teacher logits after the first computation (memory: tgtLen × vocab floats per
   * example and source): `true` for this objective alone (freed by its `dispose`), or a
   * {@link TeacherLogitCache} the caller owns, shared by objectives with the same teacher and examples.
   */
  readonly cache?: boolean | TeacherLogitCache;
}

/**
 * Teacher logits shared by several finetuning objectives that have the same teacher (model, adapters) and
 * the same example ids — e.g. every hypernetwork seed and ablation of one run: each example's teacher row
 * is computed once for all of them instead of once per objective (the teacher forward is most of a KD
 * update's cost while the cache is cold). The caller owns it: `dispose()` frees the rows.
 */
export class TeacherLogitCache {
  /** Rows `[labelLen, vocab]` by source and example id. */
  readonly rows = new Map<string, tf.Tensor2D>();
  get size(): number {
    return this.rows.size;
  }
  dispose(): void {
    tf.dispose([...this.rows.values()]);
    this.rows.clear();
  }
}

export interface FinetuneObjectiveOptions {
  readonly hypernet: HyperNetwork;
  /** Training tasks; tasks without examples are skipped. */
  readonly tasks: readonly FinetuneTask[];
  /** Examples per micro-batch: all of one task (one shared adapter), or `batchSize / tasksPerBatch` of each of several tasks. */
  readonly batchSize: number;
  /**
   * Tasks per micro-batch (default 1). Above 1 every example gets its own task's adapter (per-example LoRA
   * factors) and fusion rows; must divide `batchSize`.
   */
  readonly tasksPerBatch?: number;
  /** Seed of the data order (default 0). */
  readonly seed?: number;
  /**
   * Loss weights `L = L_ce + lambdaKl·L_kl + lambdaIns·L_ins` (distill's `TagiLossConfig`; defaults λ1 = 1,
   * λ2 = 0, T = 2). λ1 = 0: no KL term and no teacher needed; λ2 = 0: no alignment, no teacher adapters needed.
   */
  readonly loss?: Partial<TagiLossConfig>;
  /** Required when `loss.lambdaKl` > 0 (ignored otherwise). */
  readonly teacher?: TeacherOptions;
}

/**
 * One finetuning micro-batch: the examples of one task (`tasksPerBatch` 1), or of several tasks in
 * consecutive groups of `batchSize / tasksPerBatch`. Its tensors are freed by `release`.
 */
export interface FinetuneBatch {
  /** The first task of the batch (the only one with `tasksPerBatch` 1). */
  readonly task: FinetuneTask;
  /** The batch's tasks in order (a task may occur twice at an epoch boundary). */
  readonly tasks: readonly FinetuneTask[];
  /** Row of `tasks` (and of the encoding) of every example. */
  readonly taskOfExample: readonly number[];
  readonly examples: readonly FinetuneExample[];
  /** Student input `[batch, len]`: the instance inputs alone. */
  readonly input: { readonly ids: tf.Tensor2D; readonly mask: tf.Tensor2D };
  /** `[batch, tgtLen]` int32, -100 on padding. */
  readonly labels: tf.Tensor2D;
  /** `[batch, tgtLen, vocab]` per teacher source (constants, computed outside the tape); empty when λ1 = 0. */
  readonly teacherLogits: readonly tf.Tensor3D[];
  /**
   * The tasks' instruction encodings, one row per task (`[tasks, len, d]`; with one task the cached tensor
   * itself, owned by the objective); undefined with `encoder: 'separate'` (encoded inside the tape).
   */
  readonly encoding: InstructionEncoding | undefined;
  /** `[tasks, ...]` LoRA teachers of the tasks, stacked (λ2 > 0 with several tasks per batch). */
  readonly teacherAdapters: DeltaMap | undefined;
  /**
   * Set on a part that `split` cut (fit's `microBatchSize`): its rows' tensors are its own, the tasks, their
   * encoding and teacher stack are the whole batch's. The alignment term is per task, not per token, so one
   * part (`carriesIns`, the largest share) adds it for the whole batch, divided by its share.
   */
  readonly part?: { readonly weight: number; readonly carriesIns: boolean };
}

export interface FinetuneObjective extends Objective<FinetuneBatch> {
  /** The task of micro-batch `ctx` (as `batch(ctx).task.taskId`, without building the batch): for logs. */
  taskOf(ctx: StepContext): string;
  /** The per-task instruction encodings of this objective (a frozen encoder runs once per task). */
  readonly instructions: InstructionCache;
  /** Frees the instruction and teacher-logit caches (never the parameters). Idempotent. */
  dispose(): void;
}

/**
 * Per-task cache of encoded instructions: the frozen encoder runs once per task for the whole run (and
 * for inference). `dispose()` frees every entry.
 */
export class InstructionCache {
  private readonly entries = new Map<string, InstructionEncoding>();
  constructor(private readonly hypernet: HyperNetwork) {}

  get(taskId: string, instructionIds: readonly number[]): InstructionEncoding {
    let e = this.entries.get(taskId);
    if (!e) {
      const { ids, mask } = padIds([instructionIds], this.hypernet.base.config.padTokenId, {
        vocabSize: this.hypernet.base.config.vocabSize,
        argument: `instructionIds of task '${taskId}'`,
      });
      e = this.hypernet.encodeInstructions(ids, mask);
      tf.dispose([ids, mask]);
      this.entries.set(taskId, e);
    }
    return e;
  }

  get size(): number {
    return this.entries.size;
  }

  dispose(): void {
    for (const e of this.entries.values()) disposeEncoding(e);
    this.entries.clear();
  }
}

/**
 * Teacher logits of one source for a batch's examples: `[batch, tgtLen, vocab]`, rows in example order,
 * scored positions only (padding rows are zero and masked by the labels). Both teachers run the batch's
 * uncomputed examples in one forward: `concat` with its one adapter, `lora` with each example's task
 * adapter (stacked, per example). With a cache, each example is computed once per run.
 */
function teacherLogitsFor(
  source: 'concat' | 'lora',
  tasks: readonly FinetuneTask[],
  taskOfExample: readonly number[],
  batch: readonly FinetuneExample[],
  tgtLen: number,
  hn: HyperNetwork,
  teacher: TeacherOptions,
  cache: Map<string, tf.Tensor2D> | undefined,
): tf.Tensor3D {
  const pad = hn.base.config.padTokenId;
  const key = (ex: FinetuneExample) => `${source}\u0000${ex.id}`;
  const fresh = new Map<string, tf.Tensor2D>(); // rows computed here without a cache (disposed below)
  const concat = source === 'concat';
  const have = (ex: FinetuneExample) => (cache ? cache.has(key(ex)) : fresh.has(key(ex)));
  // every example not yet computed, once (an example may occur twice at an epoch boundary), with its task
  const missing = [...new Map(batch.map((ex, i) => [ex.id, { ex, task: taskOfExample[i] as number }] as const).filter(([, m]) => !have(m.ex))).values()];
  if (missing.length > 0) {
    const model = concat ? (teacher.concatModel ?? hn.base) : hn.base;
    // one forward for all of them: the `concat` teacher's adapter is shared; the `lora` teachers are
    // stacked and each example runs with its own task's (per-example factors), instead of a forward per task
    const taskRows = [...new Set(missing.map((m) => m.task))];
    const stacked = concat || taskRows.length === 1 ? undefined : stackTeachers(taskRows.map((t) => tasks[t] as FinetuneTask));
    const adapters = concat
      ? teacher.concatAdapters
      : stacked
        ? HyperNetwork.selectRows(
            stacked,
            missing.map((m) => taskRows.indexOf(m.task)),
          )
        : (tasks[taskRows[0] as number] as FinetuneTask).teacherAdapters;
    // presence of teacherInputIds / teacherAdapters was checked when the objective was made
    const x = padIds(
      missing.map((m) => (concat ? (m.ex.teacherInputIds as readonly number[]) : m.ex.inputIds)),
      pad,
    );
    const lab = padLabels(missing.map((m) => m.ex.labelIds));
    const { logits, encoderLastHiddenState } = teacherForward(model, x.ids, x.mask, lab, adapters);
    encoderLastHiddenState.dispose();
    if (stacked) {
      disposeDeltas(stacked);
      disposeDeltas(adapters as DeltaMap);
    }
    const per = tf.unstack(logits) as tf.Tensor2D[]; // [tgtLen_i, vocab] each
    missing.forEach(({ ex }, i) => {
      const row = tf.slice(per[i] as tf.Tensor2D, [0, 0], [ex.labelIds.length, -1]) as tf.Tensor2D; // scored positions only
      (cache ?? fresh).set(key(ex), row);
    });
    tf.dispose([x.ids, x.mask, lab, logits, ...per]);
  }
  const rows = batch.map((ex) => (cache ?? fresh).get(key(ex)) as tf.Tensor2D);
  const out = tf.tidy(() => {
    const padded = rows.map((r) =>
      r.shape[0] < tgtLen
        ? tf.pad(r, [
            [0, tgtLen - r.shape[0]],
            [0, 0],
          ])
        : r,
    ); // [tgtLen, vocab]
    return tf.stack(padded) as tf.Tensor3D; // [batch, tgtLen, vocab]
  });
  tf.dispose([...fresh.values()]);
  return out;
}

/** Checks at the boundary everything the enabled loss terms need, naming the missing piece. */
function checkFinetune(o: FinetuneObjectiveOptions, tasks: readonly FinetuneTask[], lossCfg: TagiLossConfig): void {
  checkBatchSize(o.batchSize);
  const k = o.tasksPerBatch ?? 1;
  if (!Number.isInteger(k) || k < 1 || o.batchSize % k !== 0)
    throw new HypernetInputError('tasksPerBatch', `a positive integer dividing batchSize (${o.batchSize})`, String(k));
  if (tasks.length === 0) throw new HypernetInputError('tasks', 'at least one task with examples', 'none');
  if (lossCfg.lambdaKl > 0) {
    const sources = o.teacher?.sources ?? [];
    if (sources.length === 0)
      throw new HypernetInputError('teacher', "teacher sources ('concat' and/or 'lora') because loss.lambdaKl > 0 (or set lambdaKl: 0)", 'none');
    for (const [i, s] of sources.entries()) {
      if (s !== 'concat' && s !== 'lora') throw new HypernetInputError(`teacher.sources.${i}`, "'concat' or 'lora'", JSON.stringify(s));
    }
    if (sources.includes('lora')) {
      const t = tasks.find((x) => !x.teacherAdapters);
      if (t) throw new HypernetInputError(`tasks['${t.taskId}'].teacherAdapters`, "the task LoRA for the 'lora' teacher", 'undefined');
    }
    if (sources.includes('concat')) {
      for (const t of tasks) {
        const ex = t.examples.find((e) => !e.teacherInputIds);
        if (ex)
          throw new HypernetInputError(
            `tasks['${t.taskId}'].examples['${ex.id}'].teacherInputIds`,
            "the instruction+input ids for the 'concat' teacher",
            'undefined',
          );
      }
    }
  }
  if (lossCfg.lambdaIns > 0) {
    const without = tasks.filter((t) => !t.teacherAdapters).map((t) => t.taskId);
    if (without.length > 0)
      throw new HypernetInputError(
        'tasks[].teacherAdapters',
        `a LoRA teacher for every task because loss.lambdaIns > 0 (missing: ${without.slice(0, 5).join(', ')})`,
        `${without.length} without`,
      );
  }
  // every id checked once, here where the data enters (batches are then built from checked rows)
  const vocab = o.hypernet.base.config.vocabSize;
  for (const t of tasks) {
    checkIdRows([t.instructionIds], vocab, `tasks['${t.taskId}'].instructionIds`);
    checkIdRows(
      t.examples.map((e) => e.inputIds),
      vocab,
      `tasks['${t.taskId}'].examples[].inputIds`,
    );
    checkIdRows(
      t.examples.map((e) => e.teacherInputIds ?? []),
      vocab,
      `tasks['${t.taskId}'].examples[].teacherInputIds`,
    );
    for (const e of t.examples) checkLabelIds(e.labelIds, e.labelIds.length || 1, vocab, { argument: `tasks['${t.taskId}'].examples['${e.id}'].labelIds` });
  }
}

/** Whether example i belongs to task ⌊i / (batch / tasks)⌋: equal consecutive groups, the order `batch()` builds. */
function inTaskOrder(taskOfExample: readonly number[], tasks: number): boolean {
  const per = taskOfExample.length / tasks;
  return Number.isInteger(per) && taskOfExample.every((t, i) => t === Math.floor(i / per));
}

/**
 * distill's parameter-alignment loss (the mean over the teacher's modules of a per-module error) with the
 * modules of one shape stacked along the batch axis, one call per shape: the per-module terms are means over
 * equally many rows, so the mean over the stacked rows is their mean, and the 24 modules of the tiny model
 * cost the kernels of one (about 90 kernels per module and call before). Modules whose factors cannot be
 * stacked (shared on one side and per task on the other) and missing modules go to distill module by module.
 * @internal exported for its tests
 */
export function alignmentLoss(generated: DeltaMap, teacher: DeltaMap, mode: TagiLossConfig['alignment']): tf.Scalar {
  const shapes = new Map<string, string[]>();
  for (const [path, t] of teacher) {
    const g = generated.get(path);
    if (g === undefined || g.A.rank !== t.A.rank) return parameterAlignmentLoss(generated, teacher, { mode });
    const key = [g.A.shape, g.B.shape, t.A.shape, t.B.shape, g.scaling, t.scaling].map(String).join(' ');
    shapes.set(key, [...(shapes.get(key) ?? []), path]);
  }
  if (shapes.size === teacher.size) return parameterAlignmentLoss(generated, teacher, { mode });
  // shared factors [r, in] stack to [modules, r, in]; per-task ones [tasks, r, in] concatenate to [modules·tasks, r, in]
  const stacked = (side: DeltaMap, paths: readonly string[]): DeltaMap => {
    const ds = paths.map((p) => side.get(p) as LowRankDelta);
    const join = (xs: tf.Tensor[]) => (xs[0]?.rank === 2 ? tf.stack(xs) : tf.concat(xs, 0));
    return new Map([['stacked', { A: join(ds.map((d) => d.A)), B: join(ds.map((d) => d.B)), scaling: (ds[0] as LowRankDelta).scaling }]]);
  };
  return tf.tidy(() => {
    const parts = [...shapes.values()].map((paths) => {
      const loss = parameterAlignmentLoss(stacked(generated, paths), stacked(teacher, paths), { mode });
      return shapes.size === 1 ? loss : tf.mul(loss, paths.length / teacher.size);
    });
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
  });
}

/** The `[tasks, ...]` stack of the tasks' LoRA teachers (one row per task of the batch), outside the tape. */
function stackTeachers(tasks: readonly FinetuneTask[]): DeltaMap {
  const first = tasks[0]?.teacherAdapters as DeltaMap;
  const out = new Map<string, { A: tf.Tensor; B: tf.Tensor; scaling: number }>();
  for (const [path, d] of first) {
    const parts = tasks.map((t) => (t.teacherAdapters as DeltaMap).get(path));
    if (parts.some((p) => p === undefined || p.scaling !== d.scaling || p.A.rank !== 2)) {
      throw new HypernetInputError(
        'tasks[].teacherAdapters',
        `shared [r, in] / [out, r] factors on the same modules with one scaling (module ${path})`,
        'teachers that differ',
      );
    }
    out.set(path, { A: tf.stack(parts.map((p) => (p as { A: tf.Tensor }).A)), B: tf.stack(parts.map((p) => (p as { B: tf.Tensor }).B)), scaling: d.scaling }); // [tasks, r, in], [tasks, out, r]
  }
  return out;
}

/**
 * Stage-3 finetuning as an objective. Micro-batch (step, micro) holds `tasksPerBatch` tasks (default 1;
 * tasks visited in seeded epochs, so each task comes once per `tasks.length / tasksPerBatch` updates in
 * every micro-batch slot) and samples `batchSize / tasksPerBatch` examples of each. `batch()` looks up the
 * tasks' instruction encodings (encoded once per task for the run) and computes the teacher logits (a real
 * teacher forward, optionally cached per example); `loss()` generates one adapter per task — shared by the
 * micro-batch with one task, one per example with several (a row selection inside the tape) — runs the
 * student (frozen base + adapter + fusion) on the task inputs alone and returns `L_ce + λ1·L_kl + λ2·L_ins`
 * with terms `ce`, `kl` (λ1 > 0), `ins` (λ2 > 0; the mean over the batch's tasks).
 * Why several tasks per update: with one task per update the hypernetwork sees each of T tasks once every T
 * updates, and its gradient is that of one instruction; mixing tasks makes each update a gradient over
 * instructions, and costs about one forward per update on any backend that batches (per-example adapters).
 */
export function finetuneObjective(o: FinetuneObjectiveOptions): FinetuneObjective {
  const lossCfg = resolveTagiLossConfig(o.loss);
  const tasks = o.tasks.filter((t) => t.examples.length > 0);
  checkFinetune(o, tasks, lossCfg);
  const hn = o.hypernet;
  const k = o.tasksPerBatch ?? 1;
  const perTask = o.batchSize / k;
  const teacher = lossCfg.lambdaKl > 0 ? (o.teacher as TeacherOptions) : undefined;
  const instructions = new InstructionCache(hn);
  const shared = teacher?.cache instanceof TeacherLogitCache ? teacher.cache.rows : undefined;
  const ownCache = teacher?.cache === true ? new Map<string, tf.Tensor2D>() : undefined; // freed by dispose()
  const logitCache = shared ?? ownCache;
  const seedRng = new Rng(o.seed ?? 0);
  const pad = hn.base.config.padTokenId;
  // slot j of micro-batch (step, micro) is the (step·k + j)-th task of that micro slot's seeded epochs
  const taskAt = ({ step, micro }: StepContext, j = 0): FinetuneTask => {
    const g = step * k + j;
    const epoch = Math.floor(g / tasks.length);
    const order = seededPermutation(tasks.length, seedRng.fork(stepLabel('finetune-epoch', epoch, micro)));
    return tasks[order[g % tasks.length] as number] as FinetuneTask;
  };
  return {
    params: trainableParameters(hn),
    instructions,
    taskOf: (ctx) => taskAt(ctx).taskId,
    batch(ctx) {
      const batchTasks = Array.from({ length: k }, (_, j) => taskAt(ctx, j));
      const rng = seedRng.fork(stepLabel('finetune-step', ctx.step, ctx.micro));
      const examples: FinetuneExample[] = [];
      const taskOfExample: number[] = [];
      batchTasks.forEach((task, t) => {
        for (let i = 0; i < perTask; i++) {
          examples.push(task.examples[Math.floor(rng.next() * task.examples.length)] as FinetuneExample);
          taskOfExample.push(t);
        }
      });
      // frozen encoder: once per task for the whole run (stacked per batch); a trainable one runs in loss(), inside the tape
      let encoding: InstructionEncoding | undefined;
      if (!hn.encoderIsTrainable) {
        const encs = batchTasks.map((t) => instructions.get(t.taskId, t.instructionIds));
        encoding = k === 1 ? encs[0] : stackEncodings(encs);
      }
      const input = padIds(
        examples.map((e) => e.inputIds),
        pad,
      );
      const labels = padLabels(examples.map((e) => e.labelIds));
      const teacherLogits = teacher
        ? teacher.sources.map((s) => teacherLogitsFor(s, batchTasks, taskOfExample, examples, labels.shape[1], hn, teacher, logitCache))
        : [];
      const teacherAdapters = lossCfg.lambdaIns > 0 && k > 1 ? stackTeachers(batchTasks) : undefined;
      return { task: batchTasks[0] as FinetuneTask, tasks: batchTasks, taskOfExample, examples, input, labels, teacherLogits, encoding, teacherAdapters };
    },
    loss(b) {
      let enc = b.encoding;
      if (!enc) {
        const { ids, mask } = padIds(
          b.tasks.map((t) => t.instructionIds),
          pad,
        );
        enc = hn.encodeInstructions(ids, mask);
      }
      const several = b.tasks.length > 1;
      // one adapter per task; with one task it is shared by the micro-batch, else each example takes its task's
      const generated = hn.generate(enc, { shared: !several });
      // the batch holds each task's examples consecutively (see batch()): per-task factors apply to their
      // group as they are, without a per-example copy of every module's factors
      const deltas = several && !inTaskOrder(b.taskOfExample, b.tasks.length) ? HyperNetwork.selectRows(generated, b.taskOfExample) : generated;
      const { logits } = studentForward(hn, b.input.ids, b.input.mask, b.labels, deltas, enc, several ? b.taskOfExample : undefined);
      const ce = maskedCrossEntropy(logits, b.labels, { ignoreIndex: lossCfg.ignoreIndex });
      const terms: Record<string, tf.Scalar> = { ce };
      let loss: tf.Scalar = ce;
      if (b.teacherLogits.length > 0) {
        const perSource = b.teacherLogits.map((t) => distillKl(logits, t, b.labels, { temperature: lossCfg.temperature, ignoreIndex: lossCfg.ignoreIndex }));
        const kl = tf.div(tf.addN(perSource), perSource.length) as tf.Scalar;
        terms['kl'] = kl;
        loss = tf.add(loss, tf.mul(kl, lossCfg.lambdaKl));
      }
      if (lossCfg.lambdaIns > 0 && (b.part === undefined || b.part.carriesIns)) {
        const whole = alignmentLoss(generated, b.teacherAdapters ?? (b.task.teacherAdapters as DeltaMap), lossCfg.alignment);
        // fit scales a part's loss and terms by its share: the carrying part's share is undone here
        const ins = b.part === undefined ? whole : (tf.div(whole, b.part.weight) as tf.Scalar);
        terms['ins'] = ins;
        loss = tf.add(loss, tf.mul(ins, lossCfg.lambdaIns));
      }
      return { loss, terms };
    },
    // consecutive rows; every part generates the adapters of all the batch's tasks (cheap beside the student)
    // and picks its rows' — a part may hold the end of one task's group and the start of the next
    split(b, size) {
      const ranges = rowRanges(
        b.examples.map((e) => e.labelIds.length),
        size,
      );
      const carrier = ranges.reduce((best, r, i) => (r.weight > (ranges[best] as { weight: number }).weight ? i : best), 0);
      return ranges.map(({ start, rows, weight }, i): BatchPart<FinetuneBatch> => ({
        weight,
        batch: {
          ...b,
          taskOfExample: b.taskOfExample.slice(start, start + rows),
          examples: b.examples.slice(start, start + rows),
          input: { ids: sliceRows(b.input.ids, start, rows), mask: sliceRows(b.input.mask, start, rows) },
          labels: sliceRows(b.labels, start, rows),
          teacherLogits: b.teacherLogits.map((t) => sliceRows(t, start, rows)),
          part: { weight, carriesIns: i === carrier },
        },
      }));
    },
    // student input + target, padding excluded: what @tagi/lora's objectives count (`processedTokens`)
    tokens: (b) => b.examples.reduce((s, e) => s + e.inputIds.length + e.labelIds.length, 0),
    release(b) {
      tf.dispose([b.input.ids, b.input.mask, b.labels, ...b.teacherLogits]);
      if (b.part) return; // the encoding and teacher stack are the whole batch's
      // a stacked encoding belongs to the batch; a single task's is the cache's
      if (b.encoding && b.tasks.length > 1) disposeEncoding(b.encoding);
      if (b.teacherAdapters) for (const d of b.teacherAdapters.values()) tf.dispose([d.A, d.B]);
    },
    dispose() {
      instructions.dispose();
      // a shared cache is its owner's to free
      if (ownCache) {
        tf.dispose([...ownCache.values()]);
        ownCache.clear();
      }
    },
  };
}

/** Stage 3 in one call: `fit` over {@link finetuneObjective} (the objective is disposed afterwards). */
export async function finetuneHypernet(o: FinetuneObjectiveOptions & StageFitOptions<FinetuneBatch>): Promise<FitResult> {
  return await runObjective('hypernet-finetune', finetuneObjective(o), o);
}

/** Fisher–Yates with a seeded generator. */
export function seededPermutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j] as number, p[i] as number];
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/**
 * Mean student CE (per token, non-padding) over every example of `tasks`, grouped by task: each task's
 * instruction is encoded and its adapter generated once; no gradients; one host read at the end. For
 * validation curves.
 */
export function studentLoss(hn: HyperNetwork, tasks: readonly FinetuneTask[], opts: { batchSize?: number } = {}): number {
  const bs = opts.batchSize ?? 16;
  checkBatchSize(bs);
  let tokens = 0;
  let sum: tf.Scalar = tf.scalar(0); // Σ ce·tokens over batches, on the device
  const cache = new InstructionCache(hn);
  try {
    for (const task of tasks) {
      const enc = cache.get(task.taskId, task.instructionIds); // no tape here: a cached encoding is right for both encoder kinds
      const deltas = hn.generate(enc, { shared: true });
      for (let i = 0; i < task.examples.length; i += bs) {
        const batch = task.examples.slice(i, i + bs);
        const n = batch.reduce((s, e) => s + e.labelIds.length, 0);
        const prev = sum;
        sum = tf.tidy(() => {
          const vocabSize = hn.base.config.vocabSize;
          const x = padIds(
            batch.map((e) => e.inputIds),
            hn.base.config.padTokenId,
            { vocabSize, argument: `tasks['${task.taskId}'].examples[].inputIds` },
          );
          const labels = padLabels(
            batch.map((e) => e.labelIds),
            { vocabSize, argument: `tasks['${task.taskId}'].examples[].labelIds` },
          );
          const out = studentForward(hn, x.ids, x.mask, labels, deltas, enc);
          return tf.add(prev, tf.mul(maskedCrossEntropy(out.logits, labels), n));
        });
        prev.dispose();
        tokens += n;
      }
      disposeDeltas(deltas);
    }
    return tokens === 0 ? 0 : (sum.dataSync()[0] as number) / tokens;
  } finally {
    sum.dispose();
    cache.dispose();
  }
}
