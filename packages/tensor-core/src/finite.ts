// A check that loaded weights hold no NaN or ±Inf, run once where weights enter a program (after loading
// a model, an adapter, a hypernetwork), never in forward or loss. A model with a NaN weight otherwise runs
// "fine" and scores 0 with no hint why.
import * as tf from '@tensorflow/tfjs-core';

/** A tensor holding NaN or ±Inf values; names the source (a file) and the tensor. */
export class NonFiniteError extends Error {
  override readonly name = 'NonFiniteError';
  constructor(
    readonly source: string,
    readonly tensor: string,
    readonly nan: number,
    readonly inf: number,
  ) {
    super(`${source}: tensor '${tensor}' holds non-finite values (NaN: ${nan}, ±Inf: ${inf}): corrupt or diverged weights`);
  }
}

/**
 * Throws NonFiniteError for the first float tensor (in iteration order) holding NaN or ±Inf. One host
 * read for all tensors (x·0 is 0 for finite x and NaN otherwise, so each tensor reduces to one number);
 * a second read counts the bad values of the offending tensor only.
 */
export function assertFinite(tensors: Iterable<readonly [string, tf.Tensor]>, source: string): void {
  const floats = [...tensors].filter(([, t]) => t.dtype === 'float32');
  if (floats.length === 0) return;
  const flags = tf.tidy(() => tf.stack(floats.map(([, t]) => tf.sum(tf.mul(t, 0)))).dataSync()); // [tensors]
  const bad = flags.findIndex((v) => v !== 0);
  if (bad < 0) return;
  const [name, t] = floats[bad] as readonly [string, tf.Tensor];
  const [nan, inf] = tf.tidy(() => {
    const isNan = tf.sum(tf.cast(tf.isNaN(t), 'int32'));
    const isInf = tf.sum(tf.cast(tf.isInf(t), 'int32'));
    return tf.stack([isNan, isInf]).dataSync();
  });
  throw new NonFiniteError(source, name, nan ?? 0, inf ?? 0);
}
