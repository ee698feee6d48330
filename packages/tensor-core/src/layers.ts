// Layers with PyTorch / HF parameter layout and names.
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';
import { Rng } from './rng.js';
import { type Initializer, kaimingUniformInit, normalInit, onesInit, uniformInit } from './init.js';
import { bmm, lazyGradOp, linear } from './linear.js';
import { fastMatMul } from './native-product.js';

/**
 * A low-rank weight update supplied at call time: ΔW = scaling·B·A. This is the one way LoRA and
 * generated adapters enter a model. Shared: A `[r, in]`, B `[out, r]`; per example:
 * A `[batch, r, in]`, B `[batch, out, r]` (row i of the batch uses its own A[i], B[i]). More generally
 * per group of consecutive examples: A `[groups, r, in]`, B `[groups, out, r]` with `groups` dividing the
 * batch, example i using A[⌊i / (batch / groups)⌋] (a batch sorted by task runs each task's adapter once,
 * without expanding it to every example; groups = batch is per example).
 */
export interface LowRankDelta {
  A: tf.Tensor;
  B: tf.Tensor;
  /** alpha / r (or alpha / sqrt(r) for rsLoRA). */
  scaling: number;
}

/** Deltas keyed by full module path, e.g. 'encoder.block.0.layer.0.SelfAttention.q'. */
export type DeltaMap = ReadonlyMap<string, LowRankDelta>;

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

// A default generator for layers built without one; seeded so that runs are still repeatable.
let defaultRng: Rng | undefined;
function fallbackRng(): Rng {
  defaultRng ??= new Rng(0);
  return defaultRng;
}

export interface LinearOptions {
  /** Add a bias `[out]` (default true, as PyTorch; T5 uses none). */
  bias?: boolean;
  rng?: Rng;
  /** Weight initialiser (default: PyTorch's kaiming-uniform with a = sqrt(5)). */
  init?: Initializer;
  /** Bias initialiser (default: PyTorch's U(-1/sqrt(in), 1/sqrt(in))). */
  biasInit?: Initializer;
  trainable?: boolean;
}

export class Linear extends Module {
  readonly weight: tf.Variable; // [out, in]
  readonly bias: tf.Variable | undefined; // [out]

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`Linear: ${name} must be a positive integer, got ${v}`);
    }
    const rng = opts.rng ?? fallbackRng();
    const init = opts.init ?? kaimingUniformInit();
    const trainable = opts.trainable ?? true;
    this.weight = this.registerParameter('weight', init([outFeatures, inFeatures], rng), { trainable });
    if (opts.bias ?? true) {
      const bound = 1 / Math.sqrt(inFeatures);
      const biasInit = opts.biasInit ?? uniformInit({ low: -bound, high: bound });
      this.bias = this.registerParameter('bias', biasInit([outFeatures], rng), { trainable });
    } else {
      this.bias = undefined;
    }
  }

  /** x `[..., in]` → `[..., out]`: y = x·Wᵀ (+ b) (+ scaling·(x·Aᵀ)·Bᵀ). */
  forward(x: tf.Tensor, delta?: LowRankDelta): tf.Tensor {
    return tf.tidy(() => {
      const y = linear(x, this.weight, this.bias);
      if (delta === undefined) return y;
      return tf.add(y, lowRankForward(x, delta, this.inFeatures, this.outFeatures, this.path));
    });
  }
}

/**
 * scaling·(x·Aᵀ)·Bᵀ for a shared or per-example delta. x `[..., in]`; for per-example deltas x must be
 * `[batch, ..., in]` with the same batch as A and B.
 */
export function lowRankForward(x: tf.Tensor, delta: LowRankDelta, inFeatures: number, outFeatures: number, where = ''): tf.Tensor {
  const { A, B, scaling } = delta;
  const at = where === '' ? 'low-rank delta' : `low-rank delta for '${where}'`;
  if (!Number.isFinite(scaling)) throw new RangeError(`${at}: scaling must be a finite number, got ${scaling}`);
  return tf.tidy(() => {
    if (A.rank === 2 && B.rank === 2) {
      const r = A.shape[0] as number;
      if (A.shape[1] !== inFeatures || B.shape[0] !== outFeatures || B.shape[1] !== r) {
        throw new RangeError(`${at}: expected A [r, ${inFeatures}] and B [${outFeatures}, r], got A ${shapeStr(A.shape)}, B ${shapeStr(B.shape)}`);
      }
      // scaling·B [out, r] instead of scaling × the product [..., out]: a kernel pass over far fewer elements
      // (the same product rounded in another order; identical when the scaling is a power of two, as alpha = 2r)
      const xa = linear(x, A); // [..., r]
      return linear(xa, scaling === 1 ? B : tf.mul(B, scaling)); // [..., out]
    }
    if (A.rank === 3 && B.rank === 3) {
      const [groups, r] = A.shape as [number, number, number];
      if (A.shape[2] !== inFeatures || B.shape[0] !== groups || B.shape[1] !== outFeatures || B.shape[2] !== r) {
        throw new RangeError(
          `${at}: expected A [batch, r, ${inFeatures}] and B [batch, ${outFeatures}, r], got A ${shapeStr(A.shape)}, B ${shapeStr(B.shape)}`,
        );
      }
      if (x.rank < 2 || (x.shape[0] as number) % groups !== 0) {
        throw new RangeError(
          `${at}: per-example delta for batch ${groups} needs x [${groups}, ..., ${inFeatures}], got ${shapeStr(x.shape)} (or a batch of a multiple of ${groups} examples, in consecutive groups)`,
        );
      }
      const lead = x.shape.slice(0, -1);
      // the rows of one group are consecutive: [groups, rows of the group, in]
      const x3 = x.rank === 3 && x.shape[0] === groups ? x : tf.reshape(x, [groups, -1, inFeatures]); // [groups, L, in]
      const xa = bmm(x3, A, false, true); // [groups, L, r]
      // the scaling multiplies the smaller of B [groups, out, r] and the product [groups, L, out] (as above)
      const scaleB = scaling !== 1 && B.size < xa.shape[1] * groups * outFeatures;
      const y3 = bmm(xa, scaleB ? tf.mul(B, scaling) : B, false, true); // [groups, L, out]
      const y = x3 === x ? y3 : tf.reshape(y3, [...lead, outFeatures]); // [..., out]
      return scaling === 1 || scaleB ? y : tf.mul(y, scaling);
    }
    throw new RangeError(`${at}: A and B must both be 2-D (shared) or both 3-D (per example), got A ${shapeStr(A.shape)}, B ${shapeStr(B.shape)}`);
  });
}

export interface EmbeddingOptions {
  rng?: Rng;
  /** Default: N(0, 1), as PyTorch's nn.Embedding. */
  init?: Initializer;
  trainable?: boolean;
}

export class Embedding extends Module {
  readonly weight: tf.Variable; // [num, dim]

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    for (const [name, v] of [
      ['numEmbeddings', numEmbeddings],
      ['embeddingDim', embeddingDim],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`Embedding: ${name} must be a positive integer, got ${v}`);
    }
    const init = opts.init ?? normalInit();
    this.weight = this.registerParameter('weight', init([numEmbeddings, embeddingDim], opts.rng ?? fallbackRng()), {
      trainable: opts.trainable ?? true,
    });
  }

  /** ids (int32, any shape) → `[...ids.shape, dim]`. */
  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new TypeError(`Embedding.forward: ids must be int32, got ${ids.dtype}`);
    return tf.gather(this.weight, ids); // [...ids, dim]
  }
}

/**
 * T5's LayerNorm: y = weight · x / sqrt(mean(x²) + eps) over the last axis, with no mean subtraction
 * and no bias; the statistics are computed in float32.
 */
export class RMSNorm extends Module {
  readonly weight: tf.Variable; // [dim]

  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    opts: { trainable?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`RMSNorm: dim must be a positive integer, got ${dim}`);
    if (!(eps >= 0)) throw new RangeError(`RMSNorm: eps must be >= 0, got ${eps}`);
    this.weight = this.registerParameter('weight', onesInit([dim], fallbackRng()), { trainable: opts.trainable ?? true });
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.dim) {
      throw new RangeError(`RMSNorm.forward: x must be [..., ${this.dim}], got ${shapeStr(x.shape)}`);
    }
    return tf.tidy(() => rmsNorm(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), this.weight, this.eps));
  }
}

/**
 * weight · x / sqrt(mean(x²) + eps) over the last axis, with its gradient beside it. With x̂ = x·r,
 * r = (mean(x²) + eps)^-½ and g = dy·weight: dx = r·(g − x̂·mean(g·x̂)), dweight = Σ dy·x̂ over the leading
 * axes. tfjs's generic chain through square, mean, rsqrt and two broadcasting products costs about twice the
 * activation-sized kernels (a ones-fill, the mean's division, casts, the sums of every broadcast product); the
 * weight's gradient is computed only when the tape asks for it (a frozen norm under LoRA or a hypernetwork
 * gets none). Off tfjs-node the forward is the plain formula's ops in its order (bit-identical values).
 */
function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return lazyGradOp(
    [x, weight],
    (save) => {
      const r = tf.rsqrt(tf.add(meanLastAxis(tf.square(x)), eps)); // [..., 1]
      const xhat = tf.mul(x, r); // [..., dim]
      save([xhat, r, weight]);
      return tf.mul(weight, xhat); // [..., dim]
    },
    [
      (dy, [xhat, r, w]) =>
        tf.tidy(() => {
          const g = tf.mul(dy, w as tf.Tensor); // [..., dim]
          const c = meanLastAxis(tf.mul(g, xhat as tf.Tensor)); // [..., 1]
          return tf.mul(tf.sub(g, tf.mul(xhat as tf.Tensor, c)), r as tf.Tensor); // [..., dim]
        }),
      (dy, [xhat]) => tf.tidy(() => sumLeadingAxes(tf.mul(dy, xhat as tf.Tensor))), // [dim]
    ],
  );
}

// TensorFlow's CPU reductions over the short last axis of rows are slow next to a product with a vector of
// ones (measured on [2496, 64]: Mean 202 µs, Sum 176 µs, MatMul with a [64, 1] column 34 µs), so on tfjs-node
// the norm's row reductions are products; the sums then run in another order (float rounding only).
function onTensorflow(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** [n, d] → [n, 1] (any rank elsewhere): the mean over the last axis. */
function meanLastAxis(x: tf.Tensor): tf.Tensor {
  if (!onTensorflow() || x.rank !== 2) return tf.mean(x, -1, true);
  const d = x.shape[1] as number;
  return fastMatMul(x, tf.tensor2d(new Float32Array(d).fill(1 / d), [d, 1])); // [n, 1]
}

/** [..., d] → [d]: the sum over every leading axis. */
function sumLeadingAxes(x: tf.Tensor): tf.Tensor {
  if (!onTensorflow() || x.rank !== 2) return tf.sum(x, [...Array(x.rank - 1).keys()]);
  const [n, d] = x.shape as [number, number];
  return tf.reshape(fastMatMul(tf.tensor2d(new Float32Array(n).fill(1), [1, n]), x), [d]); // [d]
}

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the rest by 1/(1-rate)
 * when `training`; identity otherwise. With an `rng` the mask is reproducible.
 */
export function dropout(x: tf.Tensor, rate: number, training: boolean, rng?: Rng): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout: rate must be in [0, 1), got ${rate}`);
  if (!training || rate === 0) return tf.clone(x);
  return tf.tidy(() => {
    const keep = 1 - rate;
    let mask: tf.Tensor;
    if (rng !== undefined) {
      const m = new Float32Array(x.size);
      for (let i = 0; i < m.length; i++) m[i] = rng.next() < keep ? 1 / keep : 0;
      mask = tf.tensor(m, x.shape, 'float32');
    } else {
      mask = tf.div(tf.cast(tf.less(tf.randomUniform(x.shape), keep), 'float32'), keep);
    }
    return tf.mul(x, mask);
  });
}
