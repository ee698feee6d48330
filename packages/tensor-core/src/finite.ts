// A check that weights hold no NaN or ±Inf, run once where weights enter a program (after loading a
// model, an adapter, a hypernetwork) and where the training loop is about to persist them, never in
// forward or loss. A model with a NaN weight otherwise runs "fine" and scores 0 with no hint why.
import * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap } from './layers.js';
import type { Module } from './module.js';

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
 * Weights to check, named as their files name them: a Module (its dotted parameter names), a DeltaMap
 * (`<path>.lora_A` / `<path>.lora_B`, e.g. an AdapterSet's `deltas`), or named tensors.
 */
export type NamedWeights = Module | DeltaMap | Iterable<readonly [string, tf.Tensor]>;

function entriesOf(weights: NamedWeights): (readonly [string, tf.Tensor])[] {
  // by shape, not instanceof: a Module or tensor from another copy of the library is still one
  if (typeof (weights as Module).namedParameters === 'function') return (weights as Module).namedParameters();
  const out: (readonly [string, tf.Tensor])[] = [];
  for (const [name, v] of weights as Iterable<readonly [string, tf.Tensor | { A: tf.Tensor; B: tf.Tensor }]>) {
    if ('dtype' in v) out.push([name, v]);
    else out.push([`${name}.lora_A`, v.A], [`${name}.lora_B`, v.B]);
  }
  return out;
}

/**
 * The first float tensor (in iteration order) holding NaN or ±Inf, with its counts; undefined when all
 * are finite. One host read for all tensors (x·0 is 0 for finite x and NaN otherwise, so each tensor
 * reduces to one number); a second read counts the bad values of the offending tensor only.
 */
export function findNonFinite(weights: NamedWeights): { tensor: string; nan: number; inf: number } | undefined {
  const floats = entriesOf(weights).filter(([, t]) => t.dtype === 'float32');
  if (floats.length === 0) return undefined;
  const flags = tf.tidy(() => tf.stack(floats.map(([, t]) => tf.sum(tf.mul(t, 0)))).dataSync()); // [tensors]
  const bad = flags.findIndex((v) => v !== 0);
  if (bad < 0) return undefined;
  const [name, t] = floats[bad] as readonly [string, tf.Tensor];
  const [nan, inf] = tf.tidy(() => {
    const isNan = tf.sum(tf.cast(tf.isNaN(t), 'int32'));
    const isInf = tf.sum(tf.cast(tf.isInf(t), 'int32'));
    return tf.stack([isNan, isInf]).dataSync();
  });
  return { tensor: name, nan: nan ?? 0, inf: inf ?? 0 };
}

/** Throws NonFiniteError naming `source` and the first float tensor holding NaN or ±Inf (see {@link findNonFinite}). */
export function assertFinite(weights: NamedWeights, source: string): void {
  const bad = findNonFinite(weights);
  if (bad !== undefined) throw new NonFiniteError(source, bad.tensor, bad.nan, bad.inf);
}
