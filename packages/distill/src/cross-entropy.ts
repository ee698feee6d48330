import * as tf from '@tensorflow/tfjs-core';
import { expectRank, shapeString } from './checks.js';
import { DistillInputError } from './errors.js';

/** The label id HF uses for "no target here" (padding, prompt tokens). */
export const IGNORE_INDEX = -100;

export interface MaskedCrossEntropyOptions {
  /** Label value that contributes nothing to the loss. Default -100 (HF convention). */
  readonly ignoreIndex?: number;
}

/**
 * Checks `labels` against `logits` (ranks, shapes, dtype; no host read) and returns the float mask
 * `[batch, seq]` (1 = scored token). Label VALUES are not read here: a loss runs inside the gradient tape
 * once per step, so ids are checked once where they are made, with {@link checkLabelIds} in the collator.
 */
export function labelMask(logits: tf.Tensor, labels: tf.Tensor, ignoreIndex: number, argument = 'labels'): tf.Tensor2D {
  expectRank(logits, 3, 'logits', '[batch, seq, vocab]');
  expectRank(labels, 2, argument, '[batch, seq]');
  const [batch, seq] = logits.shape as [number, number, number];
  if (labels.shape[0] !== batch || labels.shape[1] !== seq) {
    throw new DistillInputError(argument, `shape [${batch}, ${seq}] matching logits`, shapeString(labels.shape));
  }
  if (labels.dtype !== 'int32') throw new DistillInputError(argument, 'an int32 tensor', labels.dtype);
  return tf.tidy(() => tf.cast(tf.notEqual(labels, tf.scalar(ignoreIndex, 'int32')), 'float32') as tf.Tensor2D);
}

/**
 * Checks label ids on the host, where a collator builds them: every id is in [0, vocab) or the ignore
 * index. An out-of-range id would otherwise score against an all-zero one-hot row (a wrong loss, no
 * error). `seq` locates the offending position as `labels[row, col]`.
 */
export function checkLabelIds(ids: ArrayLike<number>, seq: number, vocab: number, opts: { ignoreIndex?: number; argument?: string } = {}): void {
  const ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id !== ignoreIndex && !(Number.isInteger(id) && id >= 0 && id < vocab)) {
      throw new DistillInputError(
        `${opts.argument ?? 'labels'}[${Math.floor(i / seq)}, ${i % seq}]`,
        `a token id in [0, ${vocab}) or the ignore index ${ignoreIndex}`,
        String(id),
      );
    }
  }
}

/**
 * Token-level cross-entropy of `logits` against `labels`, **mean over the tokens whose label is not
 * `ignoreIndex`** (the HF `CrossEntropyLoss(ignore_index=-100)` reduction). A batch with no scored
 * token gives 0, not NaN.
 *
 * @param logits `[batch, seq, vocab]` float
 * @param labels `[batch, seq]` int32; `-100` (or `ignoreIndex`) marks positions to skip
 * @returns a scalar; the caller owns it
 */
export function maskedCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, opts: MaskedCrossEntropyOptions = {}): tf.Scalar {
  const ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
  const mask = labelMask(logits, labels, ignoreIndex);
  const vocab = logits.shape[2] as number;
  return tf.tidy(() => {
    // gather has no gradient on wasm (no UnsortedSegmentSum), so the label logit is picked by a one-hot product
    const safeLabels = tf.where(tf.cast(mask, 'bool'), labels, tf.zerosLike(labels)); // [batch, seq]
    const oneHot = tf.oneHot(safeLabels as tf.Tensor2D, vocab); // [batch, seq, vocab]
    const picked = tf.sum(tf.mul(logits, oneHot), -1); // [batch, seq]
    const nll = tf.sub(tf.logSumExp(logits, -1), picked); // [batch, seq]
    const count = tf.maximum(tf.sum(mask), tf.scalar(1));
    const out = tf.div(tf.sum(tf.mul(nll, mask)), count) as tf.Scalar;
    mask.dispose();
    return out;
  });
}
