// Stage 2 (pretraining on a|b|c document splits) and stage 3 (finetuning with distillation) as library
// functions. Both are deterministic given (seed, step): step k draws its data from Rng(seed).fork(k), so
// resuming at `startStep` with the saved hypernet and optimiser state continues the same run.
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, Rng } from '@tagi/tensor-core';
import { type TagiLossConfig, distillKl, maskedCrossEntropy, parameterAlignmentLoss, resolveTagiLossConfig } from '@tagi/distill';
import { shiftRightTensor } from '@tagi/t5-model';
import type { BaseSeq2SeqModel } from './base-model.js';
import { DEFAULT_SPLIT_LENGTHS, type SplitExample, type SplitLengths, checkSplitLengths, padIds, padLabels, splitDocument } from './batching.js';
import { HypernetInputError } from './errors.js';
import { type HyperNetwork, type InstructionEncoding, disposeEncoding, fusionHook } from './hypernet.js';

/** What the training loops need from an optimiser (tensor-core's AdamW / Adafactor satisfy it). */
export interface GradientOptimizer {
  /** Applies one update; `grads` is keyed by the hypernetwork's parameter names (`namedParameters()`). */
  step(grads: Map<string, tf.Tensor>): void;
}

/** Everything a trainer must persist to resume: the step plus the live hypernetwork weights. */
export interface CheckpointRequest {
  /** Number of completed steps. */
  readonly step: number;
  /** The hypernetwork (save with `saveHypernet`). */
  readonly hypernet: HyperNetwork;
  /** The optimiser of the run (save its `stateDict()` beside the hypernetwork when it has one). */
  readonly optimizer: GradientOptimizer;
}

interface LoopOptions {
  readonly hypernet: HyperNetwork;
  readonly optimizer: GradientOptimizer;
  /** Total number of steps of the run (the loop stops there). */
  readonly steps: number;
  readonly batchSize: number;
  readonly seed?: number;
  /** Resume: steps already done (data order continues from here). Default 0. */
  readonly startStep?: number;
  /** Clip the global gradient norm to this value (default: no clipping). */
  readonly maxGradNorm?: number;
  /** Called after every step with the step's figures. */
  readonly onLog?: (record: StepRecord) => void;
  /** Called every `checkpointEvery` steps and after the last one. */
  readonly onCheckpoint?: (req: CheckpointRequest) => void | Promise<void>;
  readonly checkpointEvery?: number;
}

/** One logged training step. Terms that are disabled are `null`. */
export interface StepRecord {
  readonly stage: 'pretrain' | 'finetune';
  /** 1-based step number. */
  readonly step: number;
  readonly loss: number;
  readonly ce: number;
  readonly kl: number | null;
  readonly ins: number | null;
  readonly gradNorm: number;
  readonly taskId?: string;
  readonly ms: number;
}

export interface TrainResult {
  readonly steps: number;
  readonly records: StepRecord[];
}

function checkLoop(o: LoopOptions): void {
  const posInt = (v: number | undefined, name: string, allowZero = false) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new HypernetInputError(name, allowZero ? 'an integer >= 0' : 'a positive integer', String(v));
  };
  posInt(o.steps, 'steps', true);
  posInt(o.batchSize, 'batchSize');
  posInt(o.startStep, 'startStep', true);
  posInt(o.checkpointEvery, 'checkpointEvery');
  if (o.maxGradNorm !== undefined && !(o.maxGradNorm > 0)) throw new HypernetInputError('maxGradNorm', 'a number > 0', String(o.maxGradNorm));
}

/** Trainable hypernetwork variables by parameter name (tf variable names are engine-generated). */
function trainableVars(hn: HyperNetwork): { byVarName: Map<string, string>; vars: tf.Variable[] } {
  const byVarName = new Map<string, string>();
  const vars: tf.Variable[] = [];
  for (const [name, v] of hn.namedParameters()) {
    if (!v.trainable) continue;
    byVarName.set(v.name, name);
    vars.push(v);
  }
  return { byVarName, vars };
}

interface StepTerms {
  loss: tf.Scalar;
  ce: tf.Scalar;
  kl: tf.Scalar | null;
  ins: tf.Scalar | null;
}

/** One optimiser step: gradients of `objective` w.r.t. the hypernetwork only, clipping, update. */
function optimiserStep(hn: HyperNetwork, optimizer: GradientOptimizer, maxGradNorm: number | undefined, objective: () => StepTerms) {
  const { byVarName, vars } = trainableVars(hn);
  let kept: StepTerms | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const t = objective();
    kept = { loss: t.loss, ce: tf.keep(t.ce), kl: t.kl ? tf.keep(t.kl) : null, ins: t.ins ? tf.keep(t.ins) : null };
    return t.loss;
  }, vars);
  const named = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(grads)) named.set(byVarName.get(varName) ?? varName, g);
  const gradNorm = tf.tidy(() => Math.sqrt([...named.values()].reduce((s, g) => s + (tf.sum(tf.square(g)).dataSync()[0] as number), 0)));
  if (maxGradNorm !== undefined && gradNorm > maxGradNorm) {
    const f = maxGradNorm / (gradNorm + 1e-6);
    for (const [k, g] of named) {
      named.set(k, tf.mul(g, f));
      g.dispose();
    }
  }
  optimizer.step(named);
  tf.dispose([...named.values()]);
  const read = (t: tf.Scalar | null | undefined): number | null => (t ? (t.dataSync()[0] as number) : null);
  const rec = { loss: read(value) as number, ce: read(kept?.ce) as number, kl: read(kept?.kl), ins: read(kept?.ins), gradNorm };
  value.dispose();
  if (kept) tf.dispose([kept.ce, ...(kept.kl ? [kept.kl] : []), ...(kept.ins ? [kept.ins] : [])]);
  return rec;
}

async function maybeCheckpoint(o: LoopOptions, step: number, last: boolean): Promise<void> {
  if (!o.onCheckpoint) return;
  if (last || (o.checkpointEvery !== undefined && step % o.checkpointEvery === 0)) await o.onCheckpoint({ step, hypernet: o.hypernet, optimizer: o.optimizer });
}

/**
 * Decoder logits for `labels` without the model's own loss (the objective is computed here, and the
 * model's gather-based CE would be wasted work): decoder inputs = HF `_shift_right(labels)`.
 */
function teacherForward(model: BaseSeq2SeqModel, ids: tf.Tensor2D, mask: tf.Tensor2D, labels: tf.Tensor2D, adapters: DeltaMap | undefined, encoderPrefix?: { states: tf.Tensor3D; mask: tf.Tensor2D }) {
  const decoderInputIds = shiftRightTensor(labels, model.config.decoderStartTokenId, model.config.padTokenId);
  try {
    return model.forward({ inputIds: ids, attentionMask: mask, decoderInputIds, adapters, encoderPrefix });
  } finally {
    decoderInputIds.dispose();
  }
}

/** The student, fed the task input only: frozen base + generated adapter, with the instruction fused as configured (`concat` prefix or per-layer cross-attention hook). */
function studentForward(hn: HyperNetwork, ids: tf.Tensor2D, mask: tf.Tensor2D, labels: tf.Tensor2D, deltas: DeltaMap, enc: InstructionEncoding) {
  const encoderLayerHook = fusionHook(hn, enc);
  const encoderPrefix = hn.fusionPrefix(enc, ids.shape[0]);
  const decoderInputIds = shiftRightTensor(labels, hn.base.config.decoderStartTokenId, hn.base.config.padTokenId);
  try {
    return hn.base.forward({ inputIds: ids, attentionMask: mask, decoderInputIds, adapters: deltas, encoderPrefix, encoderLayerHook });
  } finally {
    decoderInputIds.dispose(); // the prefix is released by the caller's scope (variableGrads / tidy), as before
  }
}

// ---------------------------------------------------------------------------------------------
// Stage 2: pretraining

export interface PretrainOptions extends LoopOptions {
  /** Tokenised documents (ids without eos; e.g. `tokenizer.encode(text, { addSpecialTokens: false })`). */
  readonly documents: readonly (readonly number[])[];
  /** Segment length ranges (tokens); default {@link DEFAULT_SPLIT_LENGTHS}. */
  readonly split?: Partial<SplitLengths>;
}

/**
 * Stage-2 pretraining: each example is a document split a|b|c; a → hypernetwork (its own adapter and
 * fusion prefix, per example), b → T5 input, c → target; loss = masked CE on c. Returns the step records.
 */
export async function pretrainHypernet(o: PretrainOptions): Promise<TrainResult> {
  checkLoop(o);
  if (o.documents.length === 0) throw new HypernetInputError('documents', 'at least one tokenised document', 'none');
  const lengths: SplitLengths = { ...DEFAULT_SPLIT_LENGTHS, ...o.split };
  checkSplitLengths(lengths);
  const hn = o.hypernet;
  const { eosTokenId, padTokenId } = hn.base.config;
  const seedRng = new Rng(o.seed ?? 0);
  const records: StepRecord[] = [];
  for (let step = o.startStep ?? 0; step < o.steps; step++) {
    const t0 = Date.now();
    const rng = seedRng.fork(`pretrain-step-${step}`);
    const examples: SplitExample[] = [];
    for (let tries = 0; examples.length < o.batchSize && tries < o.batchSize * 20; tries++) {
      const doc = o.documents[Math.floor(rng.next() * o.documents.length)] as readonly number[];
      const ex = splitDocument(doc, rng, lengths, eosTokenId);
      if (ex) examples.push(ex);
    }
    if (examples.length === 0) throw new HypernetInputError('documents', 'documents of at least 3 tokens', 'only shorter ones');
    const instr = padIds(examples.map((e) => e.instruction), padTokenId);
    const input = padIds(examples.map((e) => e.input), padTokenId);
    const labels = padLabels(examples.map((e) => e.target));
    // one row per example: each document is its own "task". A frozen encoder runs outside the tape; a
    // trainable one ('separate') inside it, so that it receives gradients.
    const frozenEnc = hn.encoderIsTrainable ? undefined : hn.encodeInstructions(instr.ids, instr.mask);
    const rec = optimiserStep(hn, o.optimizer, o.maxGradNorm, () => {
      // tensors made inside variableGrads' function are released by its scope
      const enc = frozenEnc ?? hn.encodeInstructions(instr.ids, instr.mask);
      const deltas = hn.generate(enc); // per example: A [batch, r, in]
      const { logits, encoderLastHiddenState } = studentForward(hn, input.ids, input.mask, labels, deltas, enc);
      encoderLastHiddenState.dispose();
      const ce = maskedCrossEntropy(logits, labels);
      return { loss: ce, ce, kl: null, ins: null };
    });
    tf.dispose([instr.ids, instr.mask, input.ids, input.mask, labels]);
    if (frozenEnc) disposeEncoding(frozenEnc);
    const record: StepRecord = { stage: 'pretrain', step: step + 1, ...rec, ms: Date.now() - t0 };
    records.push(record);
    o.onLog?.(record);
    await maybeCheckpoint(o, step + 1, step + 1 === o.steps);
  }
  return { steps: o.steps, records };
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
  /** Keep each example's teacher logits after the first computation (memory: tgtLen × vocab floats per example and source). */
  readonly cache?: boolean;
}

export interface FinetuneOptions extends LoopOptions {
  readonly tasks: readonly FinetuneTask[];
  /** Loss weights: `L = L_ce + lambdaKl·L_kl + lambdaIns·L_ins` (distill's config; defaults there). */
  readonly loss?: Partial<TagiLossConfig>;
  /** Required when `loss.lambdaKl` > 0 (default λ1 = 1). */
  readonly teacher?: TeacherOptions;
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
      const { ids, mask } = padIds([instructionIds], this.hypernet.base.config.padTokenId);
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

function teacherLogitsFor(
  source: 'concat' | 'lora',
  task: FinetuneTask,
  batch: readonly FinetuneExample[],
  labels: tf.Tensor2D,
  hn: HyperNetwork,
  teacher: TeacherOptions,
  cache: Map<string, tf.Tensor2D> | undefined,
): tf.Tensor3D {
  const pad = hn.base.config.padTokenId;
  const tgtLen = labels.shape[1];
  const rows: tf.Tensor2D[] = [];
  // without a cache every row is computed; with one, each missing example once (a batch may repeat an example)
  const missing = cache ? [...new Map(batch.filter((ex) => !cache.has(`${source}\u0000${ex.id}`)).map((ex) => [ex.id, ex])).values()] : [...batch];
  if (missing.length > 0) {
    let model: BaseSeq2SeqModel;
    let adapters: DeltaMap | undefined;
    let inputs: (readonly number[])[];
    if (source === 'concat') {
      model = teacher.concatModel ?? hn.base;
      adapters = teacher.concatAdapters;
      inputs = missing.map((ex) => {
        if (!ex.teacherInputIds) throw new HypernetInputError(`tasks['${task.taskId}'].examples['${ex.id}'].teacherInputIds`, 'the instruction+input ids for the concat teacher', 'undefined');
        return ex.teacherInputIds;
      });
    } else {
      if (!task.teacherAdapters) throw new HypernetInputError(`tasks['${task.taskId}'].teacherAdapters`, 'the task LoRA for the lora teacher', 'undefined');
      model = hn.base;
      adapters = task.teacherAdapters;
      inputs = missing.map((ex) => ex.inputIds);
    }
    const x = padIds(inputs, pad);
    const lab = padLabels(missing.map((ex) => ex.labelIds));
    const { logits, encoderLastHiddenState } = teacherForward(model, x.ids, x.mask, lab, adapters);
    encoderLastHiddenState.dispose();
    const per = tf.unstack(logits) as tf.Tensor2D[]; // [tgtLen_i, vocab] each
    missing.forEach((ex, i) => {
      const row = tf.slice(per[i] as tf.Tensor2D, [0, 0], [ex.labelIds.length, -1]) as tf.Tensor2D; // scored positions only
      if (cache) cache.set(`${source}\u0000${ex.id}`, row);
      else rows.push(row);
    });
    tf.dispose([x.ids, x.mask, lab, logits, ...per]);
  }
  const ordered = cache ? batch.map((ex) => cache.get(`${source}\u0000${ex.id}`) as tf.Tensor2D) : rows;
  return tf.tidy(() => {
    const padded = ordered.map((r) => (r.shape[0] < tgtLen ? tf.pad(r, [[0, tgtLen - r.shape[0]], [0, 0]]) : r)); // [tgtLen, vocab]
    const out = tf.stack(padded) as tf.Tensor3D; // [batch, tgtLen, vocab]
    if (!cache) tf.dispose(rows);
    return out;
  });
}

/**
 * Stage-3 finetuning: each step takes one task (batches are grouped by task), encodes its instruction
 * once for the whole run (cached), generates one shared adapter, runs the student (frozen base +
 * generated adapter + fusion prefix) on the task inputs alone, and minimises
 * `L_ce + λ1·L_kl + λ2·L_ins` (teacher logits from a real teacher forward; alignment with the task's LoRA
 * teacher). Every term is passed to `onLog`.
 */
export async function finetuneHypernet(o: FinetuneOptions): Promise<TrainResult> {
  checkLoop(o);
  const lossCfg = resolveTagiLossConfig(o.loss);
  const tasks = o.tasks.filter((t) => t.examples.length > 0);
  if (tasks.length === 0) throw new HypernetInputError('tasks', 'at least one task with examples', 'none');
  if (lossCfg.lambdaKl > 0) {
    if (!o.teacher || o.teacher.sources.length === 0) throw new HypernetInputError('teacher', "teacher sources ('concat' and/or 'lora') because loss.lambdaKl > 0", 'none');
  }
  if (lossCfg.lambdaIns > 0) {
    const without = tasks.filter((t) => !t.teacherAdapters).map((t) => t.taskId);
    if (without.length > 0) throw new HypernetInputError('tasks[].teacherAdapters', `a LoRA teacher for every task because loss.lambdaIns > 0 (missing: ${without.slice(0, 5).join(', ')})`, `${without.length} without`);
  }
  const hn = o.hypernet;
  const cache = new InstructionCache(hn);
  const logitCache = o.teacher?.cache ? new Map<string, tf.Tensor2D>() : undefined;
  const seedRng = new Rng(o.seed ?? 0);
  const records: StepRecord[] = [];
  try {
    for (let step = o.startStep ?? 0; step < o.steps; step++) {
      const t0 = Date.now();
      const rng = seedRng.fork(`finetune-step-${step}`);
      // tasks visited in seeded epochs so every task is seen once per len(tasks) steps
      const epoch = Math.floor(step / tasks.length);
      const order = seededPermutation(tasks.length, seedRng.fork(`finetune-epoch-${epoch}`));
      const task = tasks[order[step % tasks.length] as number] as FinetuneTask;
      const batch = Array.from({ length: o.batchSize }, () => task.examples[Math.floor(rng.next() * task.examples.length)] as FinetuneExample);
      // frozen encoder: once per task for the whole run; trainable encoder: inside the tape every step
      const cachedEnc = hn.encoderIsTrainable ? undefined : cache.get(task.taskId, task.instructionIds);
      const x = padIds(batch.map((e) => e.inputIds), hn.base.config.padTokenId);
      const labels = padLabels(batch.map((e) => e.labelIds));
      const teacherLogits =
        lossCfg.lambdaKl > 0 ? (o.teacher as TeacherOptions).sources.map((s) => teacherLogitsFor(s, task, batch, labels, hn, o.teacher as TeacherOptions, logitCache)) : [];
      const rec = optimiserStep(hn, o.optimizer, o.maxGradNorm, () => {
        let enc = cachedEnc;
        if (!enc) {
          const { ids, mask } = padIds([task.instructionIds], hn.base.config.padTokenId);
          enc = hn.encodeInstructions(ids, mask);
        }
        const deltas = hn.generate(enc, { shared: true }); // one adapter for the whole (single-task) batch
        const { logits, encoderLastHiddenState } = studentForward(hn, x.ids, x.mask, labels, deltas, enc);
        encoderLastHiddenState.dispose();
        const ce = maskedCrossEntropy(logits, labels, { ignoreIndex: lossCfg.ignoreIndex });
        const kl =
          teacherLogits.length > 0
            ? tf.div(tf.addN(teacherLogits.map((t) => distillKl(logits, t, labels, { temperature: lossCfg.temperature, ignoreIndex: lossCfg.ignoreIndex }))), teacherLogits.length) as tf.Scalar
            : null;
        const ins = lossCfg.lambdaIns > 0 ? parameterAlignmentLoss(deltas, task.teacherAdapters as DeltaMap, { mode: lossCfg.alignment }) : null;
        let loss: tf.Tensor = ce;
        if (kl) loss = tf.add(loss, tf.mul(kl, lossCfg.lambdaKl));
        if (ins) loss = tf.add(loss, tf.mul(ins, lossCfg.lambdaIns));
        return { loss: loss as tf.Scalar, ce, kl, ins };
      });
      tf.dispose([x.ids, x.mask, labels, ...teacherLogits]);
      const record: StepRecord = { stage: 'finetune', step: step + 1, taskId: task.taskId, ...rec, ms: Date.now() - t0 };
      records.push(record);
      o.onLog?.(record);
      await maybeCheckpoint(o, step + 1, step + 1 === o.steps);
    }
  } finally {
    cache.dispose();
    if (logitCache) tf.dispose([...logitCache.values()]);
  }
  return { steps: o.steps, records };
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
 * instruction is encoded and its adapter generated once; no gradients. For validation curves.
 */
export function studentLoss(hn: HyperNetwork, tasks: readonly FinetuneTask[], opts: { batchSize?: number } = {}): number {
  const bs = opts.batchSize ?? 16;
  let sum = 0;
  let tokens = 0;
  const cache = new InstructionCache(hn);
  try {
    for (const task of tasks) {
      const enc = cache.get(task.taskId, task.instructionIds); // no tape here: a cached encoding is right for both encoder kinds
      const deltas = hn.generate(enc, { shared: true });
      for (let i = 0; i < task.examples.length; i += bs) {
        const batch = task.examples.slice(i, i + bs);
        const n = batch.reduce((s, e) => s + e.labelIds.length, 0);
        const ce = tf.tidy(() => {
          const x = padIds(batch.map((e) => e.inputIds), hn.base.config.padTokenId);
          const labels = padLabels(batch.map((e) => e.labelIds));
            const out = studentForward(hn, x.ids, x.mask, labels, deltas, enc);
          return maskedCrossEntropy(out.logits, labels).dataSync()[0] as number;
        });
        sum += ce * n;
        tokens += n;
      }
      for (const d of deltas.values()) tf.dispose([d.A, d.B]);
    }
  } finally {
    cache.dispose();
  }
  return tokens === 0 ? 0 : sum / tokens;
}
