// Inference: a task's instruction is encoded and turned into an adapter ONCE; every instance of the task
// then runs the base model with that cached adapter (optionally merged into the weights) and, with
// `concat` fusion, the cached instruction states as an encoder prefix (with `cross-attention` fusion, the
// per-layer blocks reading them). The student never reads the instruction in its own input.
import * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap, ModuleList } from '@tagi/tensor-core';
import { type AdapterSet as AdapterSetT, AdapterSet, loraConfig, targetModulesRegex } from '@tagi/lora';
import { type EncoderLayerHook, type GenerateOptions, generate } from '@tagi/t5-model';
import type { BaseSeq2SeqModel, EncoderPrefixInput } from './base-model.js';
import { padIds } from './batching.js';
import type { FusionKind } from './config.js';
import { HypernetInputError } from './errors.js';
import { type CrossAttentionFusion, HyperNetwork, type InstructionEncoding, crossAttentionHook, disposeEncoding, selectEncodingRows } from './hypernet.js';

/**
 * Everything the student needs for one task besides the frozen base: the generated adapter and what the
 * fusion reads. Made by `generateAdapter` (from a live hypernetwork) or by loading an export
 * (`taskAdapterFromFiles`, `readTaskAdapter`).
 */
export interface TaskAdapter {
  /** peft-compatible adapter (shared factors A [r, in], B [out, r]); save with `@tagi/lora/node`'s `saveAdapter`. */
  readonly adapter: AdapterSetT;
  /** How the instruction reaches the student besides the adapter. */
  readonly fusion: FusionKind;
  /** Encoded instruction `[1, len, dModel]` (+ mask) for `concat` / `cross-attention` fusion; undefined with fusion `none`. */
  readonly instruction: InstructionEncoding | undefined;
  /** `cross-attention` fusion: the per-layer blocks (the hypernetwork's own, or an export's). */
  readonly fusionLayers: ModuleList<CrossAttentionFusion> | undefined;
  /** The instruction ids the adapter was generated from (at most `maxInstructionLength`). */
  readonly instructionIds: readonly number[];
  /** Frees the adapter and the instruction states (and an export's own fusion blocks), never the hypernetwork's. */
  dispose(): void;
}

/** The peft config of the adapters this hypernetwork generates (regex targets, rank, alpha). */
export function generatedLoraConfig(hn: HyperNetwork) {
  return loraConfig({
    r: hn.config.rank,
    loraAlpha: hn.config.loraAlpha,
    targetModules: targetModulesRegex(hn.config.targets),
    baseModelNameOrPath: hn.baseModelName ?? null,
    inferenceMode: true,
  });
}

/**
 * The instruction ids as given, after checking they fit `maxInstructionLength`. Cutting is not done here:
 * the one cut policy is @tagi/datasets' `prepareInstruction` (the trainer and the playground cut there, and
 * train on what it gives), so a longer instruction is a caller's mistake, not something to cut a second way.
 */
function checkInstructionLength(ids: readonly number[], max: number, argument: string): number[] {
  if (ids.length === 0) throw new HypernetInputError(argument, 'a non-empty id list', '[]');
  if (ids.length > max) {
    throw new HypernetInputError(
      argument,
      `at most ${max} ids (the hypernetwork's maxInstructionLength; cut instructions with @tagi/datasets' prepareInstruction, as training does)`,
      `${ids.length} ids`,
    );
  }
  return [...ids];
}

/**
 * Encodes one instruction (token ids with eos, at most `maxInstructionLength` of them: a longer one is a
 * {@link HypernetInputError}) and generates its adapter. Leak-free apart from the returned object (call `dispose()`).
 */
export function generateAdapter(hn: HyperNetwork, instructionIds: readonly number[]): TaskAdapter {
  const ids = checkInstructionLength(instructionIds, hn.config.maxInstructionLength, 'instructionIds');
  const { ids: t, mask } = padIds([ids], hn.base.config.padTokenId, { vocabSize: hn.base.config.vocabSize, argument: 'instructionIds' });
  const enc = hn.encodeInstructions(t, mask);
  tf.dispose([t, mask]);
  const deltas = tf.tidy(() => {
    const d = hn.generate(enc, { shared: true });
    return Object.fromEntries([...d].map(([k, v]) => [k, { A: v.A, B: v.B }]));
  }) as unknown as Record<string, { A: tf.Tensor; B: tf.Tensor }>;
  const adapter = AdapterSet.fromTensors(generatedLoraConfig(hn), new Map(Object.entries(deltas)), { model: hn.base });
  const fusion = hn.config.fusion;
  const instruction = fusion === 'none' ? undefined : enc;
  if (!instruction) disposeEncoding(enc);
  return {
    adapter,
    fusion,
    instruction,
    fusionLayers: hn.fusion_layers,
    instructionIds: ids,
    dispose() {
      adapter.dispose();
      if (instruction) disposeEncoding(instruction);
    },
  };
}

/** The `encoderPrefix` of `concat` fusion for a batch of `batch` instances of one task (undefined otherwise). Caller owns it. */
export function taskPrefix(task: TaskAdapter, batch: number): EncoderPrefixInput | undefined {
  const enc = task.instruction;
  if (task.fusion !== 'concat' || !enc) return undefined;
  return tf.tidy(() => ({
    states: tf.tile(enc.states, [batch, 1, 1]) as tf.Tensor3D, // [batch, len, dModel]
    mask: tf.tile(enc.mask, [batch, 1]) as tf.Tensor2D, // [batch, len]
  }));
}

/** The `encoderLayerHook` of `cross-attention` fusion (undefined otherwise); `task` must outlive its use. */
export function taskHook(task: TaskAdapter): EncoderLayerHook | undefined {
  if (task.fusion !== 'cross-attention' || !task.instruction || !task.fusionLayers) return undefined;
  return crossAttentionHook(task.fusionLayers, task.instruction);
}

/**
 * The arguments of the student's `forward` for `batch` instances of a task, besides its inputs:
 * `{ adapters, encoderPrefix?, encoderLayerHook? }`. The prefix is new tensors: call inside `tf.tidy` or
 * dispose it.
 */
export function taskForwardArgs(
  task: TaskAdapter,
  batch: number,
): { adapters: DeltaMap; encoderPrefix?: EncoderPrefixInput; encoderLayerHook?: EncoderLayerHook } {
  const encoderPrefix = taskPrefix(task, batch);
  const encoderLayerHook = taskHook(task);
  return { adapters: task.adapter.deltas, ...(encoderPrefix ? { encoderPrefix } : {}), ...(encoderLayerHook ? { encoderLayerHook } : {}) };
}

/**
 * Generates outputs for instances of one task with its cached adapter (and fusion). `inputIds` are the
 * instance inputs alone. `model` is the hypernetwork (its base is used) or the base model itself (for a
 * loaded export). Returns the generated id rows (decoder start id first, as t5-model).
 */
export async function generateWithTask(
  model: HyperNetwork | BaseSeq2SeqModel,
  task: TaskAdapter,
  inputIds: readonly (readonly number[])[],
  opts: Omit<GenerateOptions, 'adapters' | 'encoderPrefix' | 'encoderLayerHook'> = {},
): Promise<number[][]> {
  const base = model instanceof HyperNetwork ? model.base : model;
  const x = padIds(inputIds, base.config.padTokenId, { vocabSize: base.config.vocabSize, argument: 'inputIds' });
  const prefix = taskPrefix(task, inputIds.length);
  const encoderLayerHook = taskHook(task);
  try {
    const res = await generate(base, x.ids, x.mask, { ...opts, adapters: task.adapter.deltas, encoderPrefix: prefix, encoderLayerHook });
    return res.sequences;
  } finally {
    tf.dispose([x.ids, x.mask]);
    if (prefix) tf.dispose([prefix.states, prefix.mask]);
  }
}

/**
 * The adapters of several tasks at once, for evaluating many tasks in shared batches: one row per task
 * (A `[tasks, r, in]`, B `[tasks, out, r]`) and, unless fusion is `none`, the tasks' encoded instructions
 * (`[tasks, len, dModel]`, padding masked). Row t equals what `generateAdapter` gives for task t alone.
 */
export interface TaskAdapterBatch {
  readonly deltas: DeltaMap;
  readonly fusion: FusionKind;
  readonly instruction: InstructionEncoding | undefined;
  readonly fusionLayers: ModuleList<CrossAttentionFusion> | undefined;
  /** Number of tasks (rows). */
  readonly tasks: number;
  dispose(): void;
}

/** Encodes `instructions` (id lists with eos, each at most `maxInstructionLength` long, as `generateAdapter`) in one batch and generates one adapter row per task. */
export function generateAdapters(hn: HyperNetwork, instructions: readonly (readonly number[])[]): TaskAdapterBatch {
  if (instructions.length === 0) throw new HypernetInputError('instructions', 'at least one instruction', 'none');
  const rows = instructions.map((ids, i) => checkInstructionLength(ids, hn.config.maxInstructionLength, `instructions[${i}]`));
  const { ids, mask } = padIds(rows, hn.base.config.padTokenId, { vocabSize: hn.base.config.vocabSize, argument: 'instructions' });
  const enc = hn.encodeInstructions(ids, mask);
  tf.dispose([ids, mask]);
  const deltas = hn.generate(enc);
  const instruction = hn.config.fusion === 'none' ? undefined : enc;
  if (!instruction) disposeEncoding(enc);
  return {
    deltas,
    fusion: hn.config.fusion,
    instruction,
    fusionLayers: hn.fusion_layers,
    tasks: rows.length,
    dispose() {
      for (const d of deltas.values()) tf.dispose([d.A, d.B]);
      if (instruction) disposeEncoding(instruction);
    },
  };
}

/**
 * Generates outputs for instances of several tasks in one batch: instance i reads `inputIds[i]` alone with
 * the adapter (and fusion rows) of task `taskOfInput[i]` of `tasks`. Equal to `generateWithTask` task by task.
 */
export async function generateWithTasks(
  hn: HyperNetwork,
  tasks: TaskAdapterBatch,
  taskOfInput: readonly number[],
  inputIds: readonly (readonly number[])[],
  opts: Omit<GenerateOptions, 'adapters' | 'encoderPrefix' | 'encoderLayerHook'> = {},
): Promise<number[][]> {
  if (taskOfInput.length !== inputIds.length)
    throw new HypernetInputError('taskOfInput', `${inputIds.length} entries (one per input)`, String(taskOfInput.length));
  const base = hn.base;
  const x = padIds(inputIds, base.config.padTokenId, { vocabSize: base.config.vocabSize, argument: 'inputIds' });
  const adapters = HyperNetwork.selectRows(tasks.deltas, taskOfInput);
  const enc = tasks.instruction;
  const prefix = tasks.fusion === 'concat' && enc ? hn.fusionPrefix(enc, inputIds.length, taskOfInput) : undefined;
  const perExample = tasks.fusion === 'cross-attention' && enc && tasks.fusionLayers ? selectEncodingRows(enc, taskOfInput) : undefined;
  const encoderLayerHook = perExample && tasks.fusionLayers ? crossAttentionHook(tasks.fusionLayers, perExample) : undefined;
  try {
    const res = await generate(base, x.ids, x.mask, { ...opts, adapters, encoderPrefix: prefix, encoderLayerHook });
    return res.sequences;
  } finally {
    tf.dispose([x.ids, x.mask]);
    for (const d of adapters.values()) tf.dispose([d.A, d.B]);
    if (prefix) tf.dispose([prefix.states, prefix.mask]);
    if (perExample) disposeEncoding(perExample);
  }
}
