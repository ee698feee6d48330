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

/**
 * Mean cross-entropy over labels ≠ -100 (HF's CrossEntropyLoss(ignore_index=-100)), with its gradient
 * beside it: d loss / d logits = (softmax − onehot(label)) · valid / count, as PyTorch's fused kernel. The
 * generic chain (gather → UnsortedSegmentSum over batch·tgtLen·vocab, then logSoftmax's backward) took
 * 334 ms of a 4.3 s t5-small LoRA step on tensorflow for the segment sum alone.
 */
export function crossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  const [b, t, v] = logits.shape;
  return tf.tidy(() => crossEntropyRows(tf.reshape(logits, [b * t, v]), labels));
}

/** `crossEntropy` on logits as rows [batch·tgtLen, vocab] (what the model computes) and labels [batch, tgtLen]. @internal */
export function crossEntropyRows(logits: tf.Tensor, labels: tf.Tensor2D): tf.Scalar {
  const [n, v] = logits.shape as [number, number];
  const ce = tf.customGrad(((flat: tf.Tensor2D, ids: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const valid = tf.cast(tf.notEqual(ids, IGNORE_INDEX), 'float32'); // [batch·tgtLen]
    const safe = tf.where(tf.notEqual(ids, IGNORE_INDEX), ids, tf.zerosLike(ids)); // [batch·tgtLen]
    const count = tf.maximum(tf.sum(valid), 1); // scalar
    const lsm = tf.logSoftmax(flat); // [batch·tgtLen, vocab]
    const flatIdx = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), safe); // [batch·tgtLen]
    const picked = tf.gather(tf.reshape(lsm, [n * v]), flatIdx); // [batch·tgtLen]
    save([lsm, safe, valid, count]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), count) as tf.Scalar,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [sLsm, sSafe, sValid, sCount] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Scalar];
        const scale = tf.div(tf.mul(sValid, dy), sCount); // [batch·tgtLen]
        // int32 one-hot, then cast: tfjs-backend-wasm 4.22's OneHot writes int bits into a float32 output
        const diff = tf.sub(tf.exp(sLsm), tf.cast(tf.oneHot(sSafe, v), 'float32')); // [batch·tgtLen, vocab]
        return [tf.mul(diff, tf.reshape(scale, [n, 1])), tf.zerosLike(sSafe)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, ids: tf.Tensor1D) => tf.Scalar;
  return tf.tidy(() => ce(logits as tf.Tensor2D, tf.reshape(labels, [n]) as tf.Tensor1D));
}

/** Consecutive rows of a seq2seq tensor batch and their share of the batch's `crossEntropy`. */
export interface Seq2SeqPart {
  /** First row of the batch in this part, and its number of rows. */
  readonly start: number;
  readonly rows: number;
  readonly inputIds: tf.Tensor2D; // [rows, srcLen]
  readonly attentionMask: tf.Tensor2D; // [rows, srcLen]
  readonly labels: tf.Tensor2D; // [rows, tgtLen]
  /** Scored labels (≠ -100) in the part. */
  readonly tokens: number;
  /** tokens / the batch's scored labels: Σ weight·crossEntropy(part) = crossEntropy(batch). */
  readonly weight: number;
}

/**
 * Cuts a seq2seq batch into consecutive parts of at most `size` rows, each with its share of the token-mean
 * cross-entropy, for tensor-core `fit`'s `microBatchSize` (an objective's `split` maps the parts to its batch
 * type). The parts own new tensors (free them with `tf.dispose`). Reads the labels back once to count the
 * scored tokens: call it where batches are made, not inside a tape. A batch that scores no token (loss 0, whole
 * or split) shares by rows.
 */
export function splitSeq2SeqBatch(
  batch: { readonly inputIds: tf.Tensor2D; readonly attentionMask: tf.Tensor2D; readonly labels: tf.Tensor2D },
  size: number,
): Seq2SeqPart[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`splitSeq2SeqBatch: size must be an integer >= 1, got ${size}`);
  const [n, tgtLen] = batch.labels.shape;
  if (batch.inputIds.shape[0] !== n || batch.attentionMask.shape[0] !== n) {
    throw new RangeError(
      `splitSeq2SeqBatch: inputIds, attentionMask and labels must have the same rows, got ${batch.inputIds.shape[0]}, ${batch.attentionMask.shape[0]}, ${n}`,
    );
  }
  const labels = batch.labels.dataSync();
  const scored = (from: number, rows: number) => {
    let t = 0;
    for (let i = from * tgtLen; i < (from + rows) * tgtLen; i++) if (labels[i] !== IGNORE_INDEX) t++;
    return t;
  };
  const total = scored(0, n);
  const parts: Seq2SeqPart[] = [];
  for (let start = 0; start < n; start += size) {
    const rows = Math.min(size, n - start);
    const tokens = scored(start, rows);
    const cut = (t: tf.Tensor2D) => tf.slice(t, [start, 0], [rows, -1]);
    parts.push({
      start,
      rows,
      inputIds: cut(batch.inputIds),
      attentionMask: cut(batch.attentionMask),
      labels: cut(batch.labels),
      tokens,
      weight: total > 0 ? tokens / total : rows / n,
    });
  }
  return parts;
}
