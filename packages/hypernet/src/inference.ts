// Inference: a task's instruction is encoded and turned into an adapter ONCE; every instance of the task
// then runs the base model with that cached adapter (optionally merged into the weights) and, with
// `concat` fusion, the cached instruction states as an encoder prefix. The student never reads the
// instruction in its own input.
import * as tf from '@tensorflow/tfjs-core';
import { type AdapterSet as AdapterSetT, AdapterSet, loraConfig } from '@tagi/lora';
import { type GenerateOptions, generate } from '@tagi/t5-model';
import { padIds } from './batching.js';
import { HypernetInputError } from './errors.js';
import { type HyperNetwork, type InstructionEncoding, disposeEncoding, fusionHook } from './hypernet.js';

/** A generated task adapter plus the cached instruction states used by `concat` fusion. */
export interface TaskAdapter {
  /** peft-compatible adapter (shared factors A [r, in], B [out, r]); save with `@tagi/lora/node`'s `saveAdapter`. */
  readonly adapter: AdapterSetT;
  /** Encoded instruction `[1, len, dModel]` (+ mask) for `concat` / `cross-attention` fusion; undefined with fusion `none`. */
  readonly instruction: InstructionEncoding | undefined;
  dispose(): void;
}

/** The peft config of the adapters this hypernetwork generates (regex targets, rank, alpha). */
export function generatedLoraConfig(hn: HyperNetwork) {
  return loraConfig({
    r: hn.config.rank,
    loraAlpha: hn.config.loraAlpha,
    targetModules: hn.config.targets.map((p) => `(?:${p})`).join('|'),
    baseModelNameOrPath: hn.baseModelName ?? null,
    inferenceMode: true,
  });
}

/**
 * Encodes one instruction (token ids with eos, truncated to `maxInstructionLength` keeping eos) and
 * generates its adapter. Leak-free apart from the returned object (call `dispose()`).
 */
export function generateAdapter(hn: HyperNetwork, instructionIds: readonly number[]): TaskAdapter {
  if (instructionIds.length === 0) throw new HypernetInputError('instructionIds', 'a non-empty id list', '[]');
  const max = hn.config.maxInstructionLength;
  const ids = instructionIds.length > max ? [...instructionIds.slice(0, max - 1), instructionIds[instructionIds.length - 1] as number] : instructionIds;
  const { ids: t, mask } = padIds([ids], hn.base.config.padTokenId);
  const enc = hn.encodeInstructions(t, mask);
  tf.dispose([t, mask]);
  const deltas = tf.tidy(() => {
    const d = hn.generate(enc, { shared: true });
    return Object.fromEntries([...d].map(([k, v]) => [k, { A: v.A, B: v.B }]));
  }) as unknown as Record<string, { A: tf.Tensor; B: tf.Tensor }>;
  const adapter = AdapterSet.fromTensors(generatedLoraConfig(hn), new Map(Object.entries(deltas)), { model: hn.base });
  const instruction = hn.config.fusion === 'none' ? undefined : enc;
  if (!instruction) disposeEncoding(enc);
  return {
    adapter,
    instruction,
    dispose() {
      adapter.dispose();
      if (instruction) disposeEncoding(instruction);
    },
  };
}

/** The `encoderPrefix` for a batch of `batch` instances of one task (undefined without fusion). Caller owns it. */
export function taskPrefix(task: TaskAdapter, batch: number): { states: tf.Tensor3D; mask: tf.Tensor2D } | undefined {
  if (!task.instruction) return undefined;
  return tf.tidy(() => ({
    states: tf.tile(task.instruction!.states, [batch, 1, 1]) as tf.Tensor3D, // [batch, len, dModel]
    mask: tf.tile(task.instruction!.mask, [batch, 1]) as tf.Tensor2D, // [batch, len]
  }));
}

/**
 * Generates outputs for instances of one task with its cached adapter (and fusion prefix). `inputIds`
 * are the instance inputs alone. Returns the generated id rows (decoder start id first, as t5-model).
 */
export async function generateWithTask(
  hn: HyperNetwork,
  task: TaskAdapter,
  inputIds: readonly (readonly number[])[],
  opts: Omit<GenerateOptions, 'adapters' | 'encoderPrefix' | 'encoderLayerHook'> = {},
): Promise<number[][]> {
  const x = padIds(inputIds, hn.base.config.padTokenId);
  const prefix = hn.config.fusion === 'concat' ? taskPrefix(task, inputIds.length) : undefined;
  const encoderLayerHook = task.instruction ? fusionHook(hn, task.instruction) : undefined;
  try {
    const res = await generate(hn.base, x.ids, x.mask, { ...opts, adapters: task.adapter.deltas, encoderPrefix: prefix, encoderLayerHook });
    return res.sequences;
  } finally {
    tf.dispose([x.ids, x.mask]);
    if (prefix) tf.dispose([prefix.states, prefix.mask]);
  }
}
