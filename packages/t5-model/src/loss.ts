// Per-token log-likelihoods and the seq2seq loss over labels with -100 at ignored positions. No host
// reads: these run inside training steps.
import * as tf from '@tensorflow/tfjs-core';
import { IGNORE_INDEX } from './collator.js';

/** Per-position log-likelihood of labels [batch, tgtLen] (0 where the label is -100) and the 0/1 mask. */
export function labelLogProbs(logits: tf.Tensor3D, labels: tf.Tensor2D): { logp: tf.Tensor2D; mask: tf.Tensor2D } {
  return tf.tidy(() => {
    const [b, t, v] = logits.shape;
    const valid = tf.notEqual(labels, IGNORE_INDEX); // [batch, tgtLen]
    const safe = tf.where(valid, labels, tf.zerosLike(labels)); // [batch, tgtLen]
    const lsm = tf.reshape(tf.logSoftmax(tf.reshape(logits, [b * t, v])), [b * t * v]); // [batch·tgtLen·vocab]
    const flatIdx = tf.add(tf.mul(tf.range(0, b * t, 1, 'int32'), tf.scalar(v, 'int32')), tf.reshape(safe, [b * t])); // [batch·tgtLen]
    const mask = tf.cast(valid, 'float32') as tf.Tensor2D;
    const picked = tf.reshape(tf.gather(lsm, flatIdx), [b, t]); // [batch, tgtLen]
    return { logp: tf.mul(picked, mask) as tf.Tensor2D, mask };
  });
}

/** Mean cross-entropy over labels ≠ -100 (HF's CrossEntropyLoss(ignore_index=-100)). */
export function crossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const { logp, mask } = labelLogProbs(logits, labels);
    return tf.div(tf.neg(tf.sum(logp)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
