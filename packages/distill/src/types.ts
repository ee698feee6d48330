import type * as tf from '@tensorflow/tfjs-core';

// Structural copies of tensor-core's LowRankDelta / DeltaMap (docs/CONTRACTS.md); any DeltaMap from
// tensor-core, lora or hypernet is accepted as-is.
export interface LowRankDelta {
  /** shared `[r, in]` or per example `[batch, r, in]` */
  readonly A: tf.Tensor;
  /** shared `[out, r]` or per example `[batch, out, r]` */
  readonly B: tf.Tensor;
  /** alpha / r (or alpha / sqrt(r) for rsLoRA) */
  readonly scaling: number;
}
export type DeltaMap = ReadonlyMap<string, LowRankDelta>;
