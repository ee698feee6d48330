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
  encode(text: string, opts?: { addSpecialTokens?: boolean; maxLength?: number }): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
}

export interface RunLimits {
  /** Inputs are cut to this many tokens (eos kept). */
  readonly maxInputTokens: number;
  /** Tokens generated after the decoder start id. */
  readonly maxNewTokens: number;
}

export interface GeneratedTexts {
  readonly outputs: string[];
  /** Generated ids per row, decoder start id first (as t5-model's generate returns them). */
  readonly tokens: number[][];
  /** Wall time of encoding, generation and decoding, milliseconds. */
  readonly ms: number;
}

/** Generated ids → text: the decoder start id dropped, special tokens skipped, outer spaces trimmed. */
export function decodeOutputs(tokenizer: TextTokenizer, sequences: readonly (readonly number[])[]): string[] {
  return sequences.map((seq) => tokenizer.decode(seq.slice(1), { skipSpecialTokens: true }).trim());
}

export function encodeInputs(tokenizer: TextTokenizer, texts: readonly string[], limits: RunLimits): number[][] {
  return texts.map((t) => tokenizer.encode(t, { maxLength: limits.maxInputTokens }));
}

/** The adapter of one instruction (encoded as typed, eos appended), and the wall time it took. */
export async function generateTaskAdapter(hn: HyperNetwork, tokenizer: TextTokenizer, instruction: string): Promise<{ task: TaskAdapter; instructionTokens: number; ms: number }> {
  const ids = tokenizer.encode(instruction);
  const start = performance.now();
  const task = generateAdapter(hn, ids);
  // tensors are computed lazily on some backends: wait for the last one before stopping the clock
  const first = task.adapter.paths[0];
  if (first !== undefined) await task.adapter.factorsOf(first)?.B.data();
  return { task, instructionTokens: ids.length, ms: performance.now() - start };
}

/** TAGI: the frozen base with the task's generated adapter (and instruction fusion) reads the bare inputs. */
export async function runTagi(hn: HyperNetwork, task: TaskAdapter, tokenizer: TextTokenizer, inputs: readonly string[], limits: RunLimits): Promise<GeneratedTexts> {
  const start = performance.now();
  const tokens = await generateWithTask(hn, task, encodeInputs(tokenizer, inputs, limits), { maxNewTokens: limits.maxNewTokens });
  return { outputs: decodeOutputs(tokenizer, tokens), tokens, ms: performance.now() - start };
}

/** A T5 (optionally with fixed adapters) reading the given texts whole, greedy. */
export async function runPlain(model: T5ForConditionalGeneration, tokenizer: TextTokenizer, texts: readonly string[], limits: RunLimits, adapters?: DeltaMap): Promise<GeneratedTexts> {
  const start = performance.now();
  const rows = encodeInputs(tokenizer, texts, limits);
  const batch = padBatch(rows, tokenizer.padTokenId, Math.max(...rows.map((r) => r.length)));
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
 * them (bare input, the task's adapter, its fusion prefix or hook).
 */
export function tagiLogits(hn: HyperNetwork, task: TaskAdapter, tokenizer: TextTokenizer, inputs: readonly string[], decoderIds: readonly (readonly number[])[], limits: RunLimits): Logits {
  if (decoderIds.length !== inputs.length) throw new RangeError(`decoderIds: expected ${inputs.length} rows (one per input), got ${decoderIds.length}`);
  const pad = hn.base.config.padTokenId;
  const rows = encodeInputs(tokenizer, inputs, limits);
  const srcLen = Math.max(...rows.map((r) => r.length));
  const tgtLen = Math.max(1, ...decoderIds.map((r) => r.length));
  const logits = tf.tidy(() => {
    const ids = tf.tensor2d(rows.map((r) => [...r, ...new Array<number>(srcLen - r.length).fill(pad)]), [rows.length, srcLen], 'int32'); // [batch, srcLen]
    const mask = tf.tensor2d(rows.map((r) => [...r.map(() => 1), ...new Array<number>(srcLen - r.length).fill(0)]), [rows.length, srcLen], 'float32'); // [batch, srcLen]
    const dec = tf.tensor2d(decoderIds.map((r) => [...r, ...new Array<number>(tgtLen - r.length).fill(pad)]), [rows.length, tgtLen], 'int32'); // [batch, tgtLen]
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
