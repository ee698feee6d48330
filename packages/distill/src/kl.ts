import * as tf from '@tensorflow/tfjs-core';
import { expectPositive, expectRank, expectSameShape, shapeString } from './checks.js';
import { IGNORE_INDEX, labelMask } from './cross-entropy.js';
import { DistillInputError } from './errors.js';

export interface DistillKlOptions {
  /** Softmax temperature T applied to both teacher and student logits. Default 2 (Hinton et al.'s usual choice). */
  readonly temperature?: number;
  /** Label value marking positions that are not scored (padding). Default -100. */
  readonly ignoreIndex?: number;
  /**
   * Explicit `[batch, seq]` float mask (1 = scored) used instead of deriving one from `labels`.
   * Give either `labels` or `mask`.
   */
  readonly mask?: tf.Tensor;
}

/**
 * Knowledge-distillation loss `T² · KL(p_teacher ‖ p_student)` with `p = softmax(logits / T)`, computed
 * per target token and reduced as the **mean over non-padding tokens** (positions whose label is not
 * `-100`, or where `mask` is 1). The T² factor keeps the gradient magnitude independent of T.
 *
 * The teacher's logits are constants: gradients flow into the student only (pass tensors that are not
 * produced on the student's tape, e.g. from a teacher forward outside `variableGrads`).
 *
 * Student and teacher logits must have the same shape `[batch, seq, vocab]`: both are decoder outputs
 * over the same labels (the teacher may have seen a different encoder input, e.g. the instruction).
 *
 * @returns a scalar (0 when no token is scored); the caller owns it
 */
export function distillKl(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, labels: tf.Tensor | null, opts: DistillKlOptions = {}): tf.Scalar {
  const temperature = opts.temperature ?? 2;
  expectPositive(temperature, 'temperature');
  expectRank(studentLogits, 3, 'studentLogits', '[batch, seq, vocab]');
  expectSameShape(teacherLogits, studentLogits, 'teacherLogits', 'studentLogits');
  let mask: tf.Tensor;
  if (opts.mask) {
    const [b, s] = studentLogits.shape;
    if (opts.mask.rank !== 2 || opts.mask.shape[0] !== b || opts.mask.shape[1] !== s) {
      throw new DistillInputError('mask', `shape [${b}, ${s}]`, shapeString(opts.mask.shape));
    }
    mask = tf.cast(opts.mask, 'float32');
  } else if (labels) {
    mask = labelMask(studentLogits, labels, opts.ignoreIndex ?? IGNORE_INDEX);
  } else {
    throw new DistillInputError('labels', 'labels or opts.mask to know which tokens are padding', 'neither');
  }
  return tf.tidy(() => {
    const invT = tf.scalar(1 / temperature);
    const logPt = tf.logSoftmax(tf.mul(teacherLogits, invT)); // [batch, seq, vocab]
    const logPs = tf.logSoftmax(tf.mul(studentLogits, invT)); // [batch, seq, vocab]
    const klPerToken = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1); // [batch, seq]
    const count = tf.maximum(tf.sum(mask), tf.scalar(1));
    const out = tf.mul(tf.div(tf.sum(tf.mul(klPerToken, mask)), count), tf.scalar(temperature * temperature)) as tf.Scalar;
    mask.dispose();
    return out;
  });
}
