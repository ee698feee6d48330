// Running the models: encode, generate, decode, and the logits of a generated answer. The Node server
// (engine.ts) and the in-page runner (web/) both call these functions, so a difference between their
// outputs can only come from the tensor backend, never from two copies of the glue. No Node imports.
import * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap } from '@tagi/tensor-core';
import { type T5ForConditionalGeneration, generate, padBatch } from '@tagi/t5-model';
import { type HyperNetwork, type TaskAdapter, fusionHook, generateAdapter, generateWithTask, taskPrefix } from '@tagi/hypernet';

/** What the runner needs of a tokenizer: the full T5 one or a pruned-vocabulary view of it. */
export interface TextTokenizer {
  readonly padTokenId: number;
  readonly eosTokenId: number;
  encode(text: string): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
}

export interface RunLimits {
  /** Tokens generated after the decoder start id. */
  readonly maxNewTokens: number;
}

export interface GeneratedTexts {
  readonly outputs: string[];
  /** Generated ids per row, decoder start id first (as t5-model's generate returns them). */
  readonly tokens: number[][];
  /** Wall time of generation and decoding, milliseconds. */
  readonly ms: number;
}

/** Generated ids → text: the decoder start id dropped, special tokens skipped, outer spaces trimmed. */
export function decodeOutputs(tokenizer: TextTokenizer, sequences: readonly (readonly number[])[]): string[] {
  return sequences.map((seq) => tokenizer.decode(seq.slice(1), { skipSpecialTokens: true }).trim());
}

/** The adapter of one instruction from its prepared ids (instruction.ts), and the wall time it took. */
export async function generateTaskAdapter(hn: HyperNetwork, instructionIds: readonly number[]): Promise<{ task: TaskAdapter; ms: number }> {
  const start = performance.now();
  const task = generateAdapter(hn, instructionIds);
  // tensors are computed lazily on some backends: wait for the last one before stopping the clock
  const first = task.adapter.paths[0];
  if (first !== undefined) await task.adapter.factorsOf(first)?.B.data();
  return { task, ms: performance.now() - start };
}

/** TAGI: the frozen base with the task's generated adapter (and instruction fusion) reads the bare inputs' ids. */
export async function runTagi(
  hn: HyperNetwork,
  task: TaskAdapter,
  tokenizer: TextTokenizer,
  inputIds: readonly (readonly number[])[],
  limits: RunLimits,
): Promise<GeneratedTexts> {
  const start = performance.now();
  const tokens = await generateWithTask(
    hn,
    task,
    inputIds.map((r) => [...r]),
    { maxNewTokens: limits.maxNewTokens },
  );
  return { outputs: decodeOutputs(tokenizer, tokens), tokens, ms: performance.now() - start };
}

/** A T5 (optionally with fixed adapters) reading the given id rows whole, greedy. */
export async function runPlain(
  model: T5ForConditionalGeneration,
  tokenizer: TextTokenizer,
  rows: readonly (readonly number[])[],
  limits: RunLimits,
  adapters?: DeltaMap,
): Promise<GeneratedTexts> {
  const start = performance.now();
  const batch = padBatch(
    rows.map((r) => [...r]),
    tokenizer.padTokenId,
    Math.max(...rows.map((r) => r.length)),
  );
  const ids = tf.tensor2d(batch.inputIds, [rows.length, batch.inputIds[0]!.length], 'int32'); // [batch, srcLen]
  const mask = tf.tensor2d(batch.attentionMask, [rows.length, batch.attentionMask[0]!.length], 'int32'); // [batch, srcLen]
  try {
    const res = await generate(model, ids, mask, { maxNewTokens: limits.maxNewTokens, ...(adapters ? { adapters } : {}) });
    return { outputs: decodeOutputs(tokenizer, res.sequences), tokens: res.sequences, ms: performance.now() - start };
  } finally {
    tf.dispose([ids, mask]);
  }
}

export interface Logits {
  /** Row-major float32 [batch, tgtLen, vocab]. */
  readonly data: Float32Array;
  readonly shape: [number, number, number];
}

/**
 * TAGI's next-token logits along given decoder rows (teacher forcing): position t holds the logits
 * after reading decoderIds[.., 0..t]. Fed the generated tokens, these are the logits greedy decoding
 * chose from. Rows are right-padded with the pad id; the inputs are built as generateWithTask builds
 * them (the bare inputs' ids, the task's adapter, its fusion prefix or hook).
 */
export function tagiLogits(hn: HyperNetwork, task: TaskAdapter, rows: readonly (readonly number[])[], decoderIds: readonly (readonly number[])[]): Logits {
  if (decoderIds.length !== rows.length) throw new RangeError(`decoderIds: expected ${rows.length} rows (one per input), got ${decoderIds.length}`);
  const pad = hn.base.config.padTokenId;
  const srcLen = Math.max(...rows.map((r) => r.length));
  const tgtLen = Math.max(1, ...decoderIds.map((r) => r.length));
  const logits = tf.tidy(() => {
    const ids = tf.tensor2d(
      rows.map((r) => [...r, ...new Array<number>(srcLen - r.length).fill(pad)]),
      [rows.length, srcLen],
      'int32',
    ); // [batch, srcLen]
    const mask = tf.tensor2d(
      rows.map((r) => [...r.map(() => 1), ...new Array<number>(srcLen - r.length).fill(0)]),
      [rows.length, srcLen],
      'float32',
    ); // [batch, srcLen]
    const dec = tf.tensor2d(
      decoderIds.map((r) => [...r, ...new Array<number>(tgtLen - r.length).fill(pad)]),
      [rows.length, tgtLen],
      'int32',
    ); // [batch, tgtLen]
    const prefix = hn.config.fusion === 'concat' ? taskPrefix(task, rows.length) : undefined;
    const hook = task.instruction ? fusionHook(hn, task.instruction) : undefined;
    return hn.base.forward({
      inputIds: ids,
      attentionMask: mask,
      decoderInputIds: dec,
      adapters: task.adapter.deltas,
      ...(prefix ? { encoderPrefix: prefix } : {}),
      ...(hook ? { encoderLayerHook: hook } : {}),
    }).logits; // [batch, tgtLen, vocab]
  });
  try {
    const [b, t, v] = logits.shape;
    return { data: logits.dataSync() as Float32Array, shape: [b, t, v] };
  } finally {
    logits.dispose();
  }
}
