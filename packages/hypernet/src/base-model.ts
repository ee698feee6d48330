import type * as tf from '@tensorflow/tfjs-core';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';

/** The frozen base model the hypernetwork adapts (`@tagi/t5-model`). */
export type BaseSeq2SeqModel = T5ForConditionalGeneration;

/** The encoded instruction prepended to the encoder output for the decoder's cross-attention. */
export interface EncoderPrefixInput {
  readonly states: tf.Tensor3D; // [batch, pLen, dModel]
  readonly mask: tf.Tensor2D; // [batch, pLen]
}
