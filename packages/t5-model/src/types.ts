// Types shared by the model (model.ts) and the decoding loops (generate.ts). They live apart so that
// generate.ts depends on the model's surface, not on model.ts: the model imports the loops, never the
// other way round.
import type * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap, Rng } from '@tagi/tensor-core';
import type { T5Config } from './config.js';

export class T5InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'T5InputError';
  }
}

/**
 * Call-time hook run after every encoder block (before the final layer norm): receives the block index,
 * the hidden states `[batch, srcLen, dModel]` and the float padding mask `[batch, srcLen]` (1 = token),
 * returns the states the next block reads (same shape). Used for per-layer instruction fusion.
 */
export type EncoderLayerHook = (layerIndex: number, hidden: tf.Tensor3D, mask: tf.Tensor2D) => tf.Tensor3D;

/** Cached keys/values of one attention module during incremental decoding. */
export interface KV {
  k: tf.Tensor4D; // [batch, heads, len, dKv]
  v: tf.Tensor4D; // [batch, heads, len, dKv]
}

/** Cross-attention context: projected encoder keys/values per decoder block and the additive mask. */
export interface CrossContext {
  kv: KV[]; // one per decoder block
  mask: tf.Tensor4D; // [batch, 1, 1, srcLen]
}

export interface EncoderPrefix {
  states: tf.Tensor3D; // [batch, pLen, dModel]
  mask: tf.Tensor2D; // [batch, pLen]
}

export interface T5ForwardArgs {
  inputIds: tf.Tensor2D; // int32 [batch, srcLen]
  attentionMask?: tf.Tensor2D; // [batch, srcLen] 1 = token, 0 = pad
  labels?: tf.Tensor2D; // int32 [batch, tgtLen], -100 ignored
  decoderInputIds?: tf.Tensor2D; // default shiftRight(labels)
  adapters?: DeltaMap;
  encoderPrefix?: EncoderPrefix;
  encoderOutputs?: tf.Tensor3D;
  /** Run after every encoder block (ignored with `encoderOutputs`); see {@link EncoderLayerHook}. */
  encoderLayerHook?: EncoderLayerHook;
  /** Dropout randomness in training mode. */
  rng?: Rng;
}

export interface T5ForwardOutput {
  logits: tf.Tensor3D; // [batch, tgtLen, vocab]
  loss?: tf.Scalar;
  encoderLastHiddenState: tf.Tensor3D; // [batch, srcLen, dModel]
}

/** One decoder pass: final hidden states and, with a cache, the grown self-attention cache. */
export interface DecoderOutput {
  hidden: tf.Tensor3D; // [batch, tgtLen, dModel]
  cache: KV[]; // one per decoder block
}

/**
 * What the decoding loops need from a T5: encode once, project the cross-attention context once, run the
 * decoder on new positions with a cache and a precomputed position bias, and the LM head.
 */
export interface Seq2SeqLM {
  readonly config: T5Config;
  readonly training: boolean;
  train(on?: boolean): unknown;
  eval(): unknown;
  /** Throws a T5InputError unless ids are int32 [batch, len] within the vocabulary (reads the ids). */
  checkIds(ids: tf.Tensor, name: string, allowIgnore?: boolean): void;
  encode(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, adapters?: DeltaMap, rng?: Rng, encoderLayerHook?: EncoderLayerHook): tf.Tensor3D;
  crossContext(encoderStates: tf.Tensor3D, attentionMask: tf.Tensor2D | undefined, adapters?: DeltaMap, prefix?: EncoderPrefix): CrossContext;
  /** Additive self-attention bias (position bias + causal mask) for queries 0..len-1 against keys 0..len-1: [1, heads, len, len]. */
  decoderSelfBias(len: number): tf.Tensor4D;
  /**
   * Decoder over ids [batch, tgtLen] whose first position is the cache length; `selfBias` [1, heads, tgtLen,
   * cacheLen + tgtLen] replaces the bias the decoder would compute.
   */
  decode(ids: tf.Tensor2D, cross: CrossContext, adapters?: DeltaMap, cache?: KV[], selfBias?: tf.Tensor4D): DecoderOutput;
  lmHead(hidden: tf.Tensor3D, adapters?: DeltaMap): tf.Tensor3D;
  forward(args: T5ForwardArgs): T5ForwardOutput;
}
