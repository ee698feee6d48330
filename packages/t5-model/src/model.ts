// T5ForConditionalGeneration with Hugging Face module names and numerics, in dependency order:
// norm → feed-forward → attention → block → stack → conditional-generation model.
// Attribute names are the checkpoint format (`encoder.block.0.layer.0.SelfAttention.q.weight`).
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, Linear, Module, RMSNorm, Rng, dropout, fastMatMul, lowRankForward, recompute, type DeltaMap, type LowRankDelta } from '@tagi/tensor-core';
import type { T5Activation, T5Config } from './config.js';
import { IGNORE_INDEX } from './collator.js';
import { crossEntropyRows } from './loss.js';
import {
  bmm,
  constLinear,
  freezeWeights,
  frozenGather,
  linear2d,
  mergeDeltaIsCheaper,
  mergedDeltaLinear,
  onTensorflow,
  recording,
  releaseFrozen,
} from './ops.js';
import { generate as runGenerate, scoreTargets as runScore, type GenerateOptions, type ScoreArgs, type ScoreResult } from './generate.js';
import {
  T5InputError,
  type CrossContext,
  type DecoderOutput,
  type EncoderLayerHook,
  type EncoderPrefix,
  type KV,
  type Seq2SeqLM,
  type T5ForwardArgs,
  type T5ForwardOutput,
} from './types.js';

export { T5InputError };
export type { CrossContext, DecoderOutput, EncoderLayerHook, EncoderPrefix, KV, T5ForwardArgs, T5ForwardOutput };

// Additive mask value for disallowed keys: exp() underflows to exactly 0 in float32, as HF's finfo.min does.
const MASKED = -1e9;

/** Low-rank deltas for one forward pass, keyed by module path. */
export type Adapters = DeltaMap | undefined;

// Set while a model is constructed only to receive loaded weights: skip drawing random numbers.
let emptyInit = false;

/** N(0, std²) initialiser drawn from the seeded Rng (HF `_init_weights` recipe per module kind). */
function normal(std: number) {
  return (shape: readonly number[], rng: Rng): tf.Tensor => {
    if (emptyInit) return tf.zeros([...shape]);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    return tf.tensor(data, [...shape], 'float32');
  };
}

/** A weight that gets no gradient in this call: frozen (freezeBase), or no tape is recording (generation, scoring). */
function constant(w: tf.Variable): boolean {
  return !w.trainable || !recording();
}

// Inside the stacks hidden states are rows [batch·len, dModel] (example i's positions consecutive), so a
// linear layer is one 2-D product: on tfjs-node every reshape is a kernel of its own (with a shape tensor
// uploaded), and a 3-D activation would need two per linear layer. Attention reshapes to heads itself.

/** x [n, in] → [n, out] with the layer's weight and its delta, if any; `batch` rows of examples for per-example deltas. */
function applyLinear(layer: Linear, x: tf.Tensor, adapters: Adapters, batch: number): tf.Tensor {
  const delta = adapters?.get(layer.path);
  const fixed = !layer.bias && constant(layer.weight);
  if (
    delta &&
    fixed &&
    delta.A.rank === 2 &&
    onTensorflow() &&
    mergeDeltaIsCheaper(x.shape[0] as number, layer.inFeatures, layer.outFeatures, delta.A.shape[0] as number, recording())
  ) {
    return mergedDeltaLinear(x, layer.weight, delta.A, delta.B, delta.scaling); // [n, out]: one product with W + s·B·A
  }
  // tensor-core's fast linear with weight gradients, or the fastest product when the weight needs none
  const y = fixed ? constLinear(x, layer.weight) : layer.forward(x); // [n, out]
  if (!delta) return y;
  return tf.tidy(() => tf.add(y, lowRankRows(x, delta, batch, layer)));
}

/**
 * scaling·(x·Aᵀ)·Bᵀ for rows x [n, in] of `batch` examples. Per-example factors [batch, r, in] (or per group of
 * consecutive examples, [groups, r, in]) see x as [groups, n/groups, in]: a group's rows are consecutive.
 */
function lowRankRows(x: tf.Tensor, delta: LowRankDelta, batch: number, layer: Linear): tf.Tensor {
  const { inFeatures: inF, outFeatures: outF, path } = layer;
  if (delta.A.rank !== 3) return lowRankForward(x, delta, inF, outF, path); // [n, out]
  const n = x.shape[0] as number;
  const groups = delta.A.shape[0] as number;
  if (batch % groups !== 0)
    throw new T5InputError(`${path}: a per-example delta for batch ${groups} needs a batch of a multiple of ${groups} examples, got ${batch}`);
  const y = lowRankForward(tf.reshape(x, [groups, n / groups, inF]), delta, inF, outF, path); // [groups, rows, out]
  return tf.reshape(y, [n, outF]); // [n, out]
}

/** x [n, in] · Wᵀ for any weight variable (fastest path when it needs no gradient). */
function project(x: tf.Tensor2D, w: tf.Variable): tf.Tensor2D {
  return (constant(w) ? constLinear(x, w) : linear2d(x, w)) as tf.Tensor2D;
}

/** Rows of embeddings [n, dModel] for ids of any shape (n = ids.size). */
function embedRows(table: Embedding, ids: tf.Tensor): tf.Tensor {
  const flat = tf.reshape(ids, [-1]); // [n]
  return constant(table.weight) ? frozenGather(table.weight, flat) : table.forward(flat); // [n, dModel]
}

/** Dropout in training mode; in eval mode the input itself (no copy: every op counts in a decoding step). */
function drop(x: tf.Tensor, rate: number, training: boolean, rng?: Rng): tf.Tensor {
  return training && rate > 0 ? dropout(x, rate, training, rng) : x;
}

// ---------------------------------------------------------------------------------------------
// Norm: T5's LayerNorm is RMSNorm (no mean subtraction, no bias); tensor-core's RMSNorm.

// ---------------------------------------------------------------------------------------------
// Feed-forward

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * Tanh-approximated GELU 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) as one op with its gradient
 * beside it: the backward pass keeps only x instead of every intermediate (a large share of a
 * training step's memory in the feed-forward blocks).
 */
const geluTanh = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const value = tf.tidy(() => {
    const t = tf.tanh(tf.mul(GELU_C, tf.add(x, tf.mul(0.044715, tf.mul(x, tf.square(x))))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, t));
  });
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const sx = saved[0] as tf.Tensor;
        const x2 = tf.square(sx);
        const t = tf.tanh(tf.mul(GELU_C, tf.add(sx, tf.mul(0.044715, tf.mul(sx, x2)))));
        // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)
        const du = tf.mul(GELU_C, tf.add(1, tf.mul(3 * 0.044715, x2)));
        const d = tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(tf.mul(0.5, sx), tf.sub(1, tf.square(t))), du));
        return [tf.mul(dy, d)];
      }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

function activation(name: T5Activation, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'gelu':
      // exact erf GELU; tf.erf has a gradient in tfjs-core
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
    case 'gelu_fast': {
      const inner = tf.mul(tf.mul(x, 0.7978845608), tf.add(1, tf.mul(tf.mul(x, x), 0.044715)));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'quick_gelu':
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case 'silu':
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
  }
}

/**
 * The gated tanh-GELU of T5 v1.1 / LM-adapt, gelu(a)·b, as one op with its gradient beside it. The value uses
 * 0.5·(1 + tanh(z)) = sigmoid(2z): gelu(a) = a·sigmoid(2·√(2/π)·(a + 0.044715·a³)), 7 activation-sized kernels
 * where the tanh form and a separate product take 10; the backward pass takes 10 where tfjs's chain through
 * geluTanh and the product took about 22 (casts, the recomputed tanh, each product's two gradients).
 * With s = sigmoid(2z) and g = a·s: d/da = dy·b·(s + g·(1 − s)·2√(2/π)·(1 + 3·0.044715·a²)), d/db = dy·g.
 * @internal exported for its tests
 */
export const gatedGeluTanh = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  const a2 = tf.square(a);
  const s = tf.sigmoid(tf.mul(a, tf.add(tf.mul(a2, 2 * GELU_C * 0.044715), 2 * GELU_C))); // sigmoid(2z)
  const g = tf.mul(a, s); // gelu(a)
  save([a2, b, s, g]);
  return {
    value: tf.mul(g, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa2, sb, ss, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return tf.tidy(() => {
        const dz = tf.add(tf.mul(sa2, 6 * GELU_C * 0.044715), 2 * GELU_C); // d(2z)/da
        const dgelu = tf.add(ss, tf.mul(tf.mul(sg, tf.sub(1, ss)), dz));
        return [tf.mul(tf.mul(dy, sb), dgelu), tf.mul(dy, sg)];
      });
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** `DenseReluDense`: wo(act(wi x)) or, gated, wo(act(wi_0 x) · wi_1 x). */
export class T5DenseActDense extends Module {
  readonly wi?: Linear;
  readonly wi0?: Linear;
  readonly wi1?: Linear;
  readonly wo: Linear;
  constructor(
    private readonly config: T5Config,
    rng?: Rng,
  ) {
    super();
    const f = config.initializerFactor;
    const wiInit = { bias: false, rng, init: normal(f * config.dModel ** -0.5) };
    if (config.isGatedAct) {
      this.wi0 = this.registerModule('wi_0', new Linear(config.dModel, config.dFf, wiInit));
      this.wi1 = this.registerModule('wi_1', new Linear(config.dModel, config.dFf, wiInit));
    } else {
      this.wi = this.registerModule('wi', new Linear(config.dModel, config.dFf, wiInit));
    }
    this.wo = this.registerModule('wo', new Linear(config.dFf, config.dModel, { bias: false, rng, init: normal(f * config.dFf ** -0.5) }));
  }

  /** x [batch·len, dModel] → [batch·len, dModel]; `batch` for per-example deltas. */
  forward(x: tf.Tensor, adapters: Adapters, rng: Rng | undefined, batch: number): tf.Tensor {
    const c = this.config;
    let h: tf.Tensor; // [batch·len, dFf]
    if (this.wi0 && this.wi1) {
      const gate = applyLinear(this.wi0, x, adapters, batch);
      const lin = applyLinear(this.wi1, x, adapters, batch);
      h = c.denseActFn === 'gelu_new' || c.denseActFn === 'gelu_pytorch_tanh' ? gatedGeluTanh(gate, lin) : tf.mul(activation(c.denseActFn, gate), lin);
    } else h = activation(c.denseActFn, applyLinear(this.wi as Linear, x, adapters, batch));
    h = drop(h, c.dropoutRate, this.training, rng);
    return applyLinear(this.wo, h, adapters, batch); // [batch·len, dModel]
  }
}

/** `layer.{1|2}`: x + dropout(DenseReluDense(layer_norm(x))). */
export class T5LayerFF extends Module {
  readonly DenseReluDense: T5DenseActDense;
  readonly layer_norm: RMSNorm;
  constructor(
    private readonly config: T5Config,
    rng?: Rng,
  ) {
    super();
    this.DenseReluDense = this.registerModule('DenseReluDense', new T5DenseActDense(config, rng));
    this.layer_norm = this.registerModule('layer_norm', new RMSNorm(config.dModel, config.layerNormEpsilon));
  }

  /** x [batch·len, dModel] → [batch·len, dModel]. */
  forward(x: tf.Tensor, adapters: Adapters, rng: Rng | undefined, batch: number): tf.Tensor {
    // one tidy per sub-layer: intermediates are freed as the stack proceeds (the tape keeps what gradients need)
    return tf.tidy(() => {
      const y = this.DenseReluDense.forward(this.layer_norm.forward(x), adapters, rng, batch);
      return tf.add(x, drop(y, this.config.dropoutRate, this.training, rng));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Attention

/**
 * HF `_relative_position_bucket` for relative position (key − query), computed in JS with float32
 * rounding at each step so the bucket boundaries match torch's float32 log exactly.
 */
export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let ret = 0;
  let n: number;
  let nb = numBuckets;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (relative > 0) ret += nb;
    n = Math.abs(relative);
  } else {
    n = Math.max(-relative, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (n < maxExact) return ret + n;
  const f = Math.fround;
  const ratio = f(f(Math.log(f(n / maxExact))) / f(Math.log(f(maxDistance / maxExact))));
  const large = maxExact + Math.trunc(f(ratio * (nb - maxExact)));
  return ret + Math.min(large, nb - 1);
}

// Bucket one-hots and causal masks depend only on shapes: their host arrays are kept per shape (a training
// run meets a handful of lengths), so a forward pass uploads them instead of recomputing s² buckets in JS.
// Host arrays, not tensors: a cached tensor would outlive tidy scopes and leak checks, and be tied to a backend.
const SHAPE_CACHE_ENTRIES = 64;
const shapeArrays = new Map<string, Float32Array>();
function shapeArray(key: string, make: () => Float32Array): Float32Array {
  let a = shapeArrays.get(key);
  if (a === undefined) {
    a = make();
    if (shapeArrays.size >= SHAPE_CACHE_ENTRIES) shapeArrays.delete(shapeArrays.keys().next().value as string);
    shapeArrays.set(key, a);
  }
  return a;
}

/** One-hot [numBuckets, qLen·kLen] of the bucket of every (query, key) pair; query positions start at qOffset. */
function bucketOneHot(qLen: number, kLen: number, qOffset: number, bidirectional: boolean, numBuckets: number, maxDistance: number): tf.Tensor2D {
  const data = shapeArray(`buckets ${qLen} ${kLen} ${qOffset} ${bidirectional} ${numBuckets} ${maxDistance}`, () => {
    const d = new Float32Array(numBuckets * qLen * kLen);
    for (let i = 0; i < qLen; i++) {
      for (let j = 0; j < kLen; j++) {
        const b = relativePositionBucket(j - (i + qOffset), bidirectional, numBuckets, maxDistance);
        d[b * qLen * kLen + i * kLen + j] = 1;
      }
    }
    return d;
  });
  return tf.tensor2d(data, [numBuckets, qLen * kLen]);
}

/** `SelfAttention` / `EncDecAttention`: q, k, v, o and (block 0 only) `relative_attention_bias`. */
export class T5Attention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly relative_attention_bias?: Embedding;
  private readonly inner: number;

  constructor(
    private readonly config: T5Config,
    readonly isDecoder: boolean,
    hasRelativeAttentionBias: boolean,
    rng?: Rng,
  ) {
    super();
    this.inner = config.numHeads * config.dKv;
    const f = config.initializerFactor;
    const kv = { bias: false, rng, init: normal(f * config.dModel ** -0.5) };
    this.q = this.registerModule('q', new Linear(config.dModel, this.inner, { bias: false, rng, init: normal(f * (config.dModel * config.dKv) ** -0.5) }));
    this.k = this.registerModule('k', new Linear(config.dModel, this.inner, kv));
    this.v = this.registerModule('v', new Linear(config.dModel, this.inner, kv));
    this.o = this.registerModule('o', new Linear(this.inner, config.dModel, { bias: false, rng, init: normal(f * this.inner ** -0.5) }));
    if (hasRelativeAttentionBias) {
      this.relative_attention_bias = this.registerModule(
        'relative_attention_bias',
        new Embedding(config.relativeAttentionNumBuckets, config.numHeads, { rng, init: normal(f * config.dModel ** -0.5) }),
      );
    }
  }

  /** Position bias [1, heads, qLen, kLen] for queries at qOffset.. against keys 0..kLen-1. */
  computeBias(qLen: number, kLen: number, qOffset = 0): tf.Tensor4D {
    const c = this.config;
    const emb = this.relative_attention_bias;
    if (!emb) throw new Error(`${this.path}: only block 0 owns relative_attention_bias`);
    return tf.tidy(() => {
      const onehot = bucketOneHot(qLen, kLen, qOffset, !this.isDecoder, c.relativeAttentionNumBuckets, c.relativeAttentionMaxDistance);
      // weightᵀ·one-hot: the heads come out leading, so no transpose (one-hot product instead of a gather: its gradient is a plain product too)
      const values = fastMatMul(emb.weight, onehot, true, false); // [heads, qLen·kLen]
      return tf.reshape(values, [1, c.numHeads, qLen, kLen]) as tf.Tensor4D; // [1, heads, qLen, kLen]
    });
  }

  /** Rows [batch·len, heads·dKv] → [batch, heads, len, dKv] */
  private split(x: tf.Tensor, batch: number): tf.Tensor4D {
    const len = (x.shape[0] as number) / batch;
    const { numHeads: h, dKv } = this.config;
    if (len === 1) return tf.reshape(x, [batch, h, 1, dKv]); // one position (a decoding step): same memory order, no transpose
    return tf.transpose(tf.reshape(x, [batch, len, h, dKv]), [0, 2, 1, 3]) as tf.Tensor4D;
  }

  /** Keys and values of source rows [batch·len, dModel] (cross-attention caches these once). */
  projectKV(source: tf.Tensor, batch: number, adapters: Adapters): KV {
    return { k: this.split(applyLinear(this.k, source, adapters, batch), batch), v: this.split(applyLinear(this.v, source, adapters, batch), batch) };
  }

  /**
   * hidden rows [batch·qLen, dModel]; keys/values from `kv` (already projected); `bias` [1|batch, heads, qLen, kLen]
   * holds position bias plus mask. T5 does not scale scores by 1/sqrt(dKv) (folded into the init).
   */
  attend(hidden: tf.Tensor, batch: number, kv: KV, bias: tf.Tensor, adapters: Adapters, rng?: Rng): tf.Tensor {
    const rows = hidden.shape[0] as number;
    const q = this.split(applyLinear(this.q, hidden, adapters, batch), batch); // [batch, heads, qLen, dKv]
    const scores = tf.add(bmm(q, kv.k, false, true), bias); // [batch, heads, qLen, kLen]
    let weights = tf.softmax(scores); // [batch, heads, qLen, kLen]
    weights = drop(weights, this.config.dropoutRate, this.training, rng);
    const ctx = bmm(weights, kv.v, false, false); // [batch, heads, qLen, dKv]
    const heads = rows === batch ? ctx : tf.transpose(ctx, [0, 2, 1, 3]); // [batch, qLen, heads, dKv] (one query: same memory order)
    const merged = tf.reshape(heads, [rows, this.inner]); // [batch·qLen, heads·dKv]
    return applyLinear(this.o, merged, adapters, batch); // [batch·qLen, dModel]
  }
}

/** `layer.0` of every block: x + dropout(SelfAttention(layer_norm(x))). */
export class T5LayerSelfAttention extends Module {
  readonly SelfAttention: T5Attention;
  readonly layer_norm: RMSNorm;
  constructor(
    private readonly config: T5Config,
    isDecoder: boolean,
    hasBias: boolean,
    rng?: Rng,
  ) {
    super();
    this.SelfAttention = this.registerModule('SelfAttention', new T5Attention(config, isDecoder, hasBias, rng));
    this.layer_norm = this.registerModule('layer_norm', new RMSNorm(config.dModel, config.layerNormEpsilon));
  }

  /** x [batch·len, dModel]. With `cache`, the new keys/values are appended to it and the grown cache is returned. */
  forward(x: tf.Tensor, batch: number, bias: tf.Tensor, adapters: Adapters, rng?: Rng, cache?: KV): { out: tf.Tensor; kv: KV } {
    return tf.tidy((): tf.TensorContainer => {
      const normed = this.layer_norm.forward(x);
      let kv = this.SelfAttention.projectKV(normed, batch, adapters);
      if (cache) kv = { k: tf.concat([cache.k, kv.k], 2) as tf.Tensor4D, v: tf.concat([cache.v, kv.v], 2) as tf.Tensor4D }; // [batch, heads, past+qLen, dKv]
      const y = this.SelfAttention.attend(normed, batch, kv, bias, adapters, rng);
      return { out: tf.add(x, drop(y, this.config.dropoutRate, this.training, rng)), kv: { k: kv.k, v: kv.v } };
    }) as unknown as { out: tf.Tensor; kv: KV };
  }
}

/** `layer.1` of decoder blocks: x + dropout(EncDecAttention(layer_norm(x), encoder states)). */
export class T5LayerCrossAttention extends Module {
  readonly EncDecAttention: T5Attention;
  readonly layer_norm: RMSNorm;
  constructor(
    private readonly config: T5Config,
    rng?: Rng,
  ) {
    super();
    this.EncDecAttention = this.registerModule('EncDecAttention', new T5Attention(config, true, false, rng));
    this.layer_norm = this.registerModule('layer_norm', new RMSNorm(config.dModel, config.layerNormEpsilon));
  }

  /** x [batch·len, dModel] → [batch·len, dModel]. */
  forward(x: tf.Tensor, batch: number, kv: KV, mask: tf.Tensor, adapters: Adapters, rng?: Rng): tf.Tensor {
    return tf.tidy(() => {
      const y = this.EncDecAttention.attend(this.layer_norm.forward(x), batch, kv, mask, adapters, rng);
      return tf.add(x, drop(y, this.config.dropoutRate, this.training, rng));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Block

/** What one block reads besides its input: attention biases, deltas, dropout randomness, caches. */
export interface BlockContext {
  /** Examples in the batch: the block's hidden states are their rows [batch·len, dModel]. */
  batch: number;
  /** Self-attention position bias plus padding/causal mask [1|batch, heads, qLen, kLen]. */
  selfBias: tf.Tensor;
  adapters: Adapters;
  rng?: Rng;
  /** Decoder blocks: projected encoder keys/values and their additive mask [batch, 1, 1, srcLen]. */
  cross?: { kv: KV; mask: tf.Tensor };
  /** Decoder blocks while decoding incrementally: this block's self-attention keys/values so far. */
  cache?: KV;
}

/** `block.{i}`: self-attention, cross-attention (decoder only), feed-forward — HF's T5Block. */
export class T5Block extends Module {
  readonly selfAttn: T5LayerSelfAttention;
  readonly crossAttn?: T5LayerCrossAttention;
  readonly ff: T5LayerFF;
  constructor(config: T5Config, isDecoder: boolean, hasBias: boolean, rng?: Rng) {
    super();
    const layers = new LayerList();
    this.registerModule('layer', layers);
    this.selfAttn = layers.add(new T5LayerSelfAttention(config, isDecoder, hasBias, rng));
    if (isDecoder) this.crossAttn = layers.add(new T5LayerCrossAttention(config, rng));
    this.ff = layers.add(new T5LayerFF(config, rng));
  }

  /** hidden [batch·len, dModel] → [batch·len, dModel], with this block's (grown) self-attention keys/values. */
  forward(hidden: tf.Tensor, ctx: BlockContext): { hidden: tf.Tensor; kv: KV } {
    const self = this.selfAttn.forward(hidden, ctx.batch, ctx.selfBias, ctx.adapters, ctx.rng, ctx.cache);
    let x = self.out;
    if (this.crossAttn) {
      if (!ctx.cross) throw new T5InputError(`${this.path}: a decoder block needs the cross-attention context`);
      x = this.crossAttn.forward(x, ctx.batch, ctx.cross.kv, ctx.cross.mask, ctx.adapters, ctx.rng);
    }
    return { hidden: this.ff.forward(x, ctx.adapters, ctx.rng, ctx.batch), kv: self.kv };
  }
}

/** A numbered list of modules (`block.0`, `layer.1`, ...). */
export class LayerList extends Module {
  private count = 0;
  add<M extends Module>(m: M): M {
    return this.registerModule(String(this.count++), m);
  }
}

// ---------------------------------------------------------------------------------------------
// Stack

export class T5Stack extends Module {
  readonly blocks: T5Block[] = [];
  readonly final_layer_norm: RMSNorm;
  /**
   * Recompute each block's activations in the backward pass instead of keeping them (HF's gradient
   * checkpointing): a training step then holds the blocks' inputs and one block's intermediates at a time, for
   * one more forward of every block. Only while a gradient tape records (generation and scoring are unchanged).
   * With dropout, each block draws its masks from `rng.fork('block-<i>')` (both passes alike), so a run with
   * recomputation draws other masks than one without.
   */
  recomputeBlocks = false;
  constructor(
    private readonly config: T5Config,
    readonly isDecoder: boolean,
    private readonly embedTokens: Embedding,
    rng?: Rng,
  ) {
    super();
    const list = this.registerModule('block', new LayerList());
    const n = isDecoder ? config.numDecoderLayers : config.numLayers;
    for (let i = 0; i < n; i++) this.blocks.push(list.add(new T5Block(config, isDecoder, i === 0, rng)));
    this.final_layer_norm = this.registerModule('final_layer_norm', new RMSNorm(config.dModel, config.layerNormEpsilon));
  }

  private biasModule(): T5Attention {
    return (this.blocks[0] as T5Block).selfAttn.SelfAttention;
  }

  /** Encoder: ids [batch, srcLen], mask [batch, srcLen] → [batch, srcLen, dModel]. */
  encode(ids: tf.Tensor, mask: tf.Tensor, adapters: Adapters, rng?: Rng, hook?: EncoderLayerHook): tf.Tensor3D {
    const c = this.config;
    const [b, s] = ids.shape as [number, number];
    const floatMask = tf.cast(mask, 'float32') as tf.Tensor2D; // [batch, srcLen]
    let x = drop(embedRows(this.embedTokens, ids), c.dropoutRate, this.training, rng); // [batch·srcLen, dModel]
    const selfBias = tf.add(this.biasModule().computeBias(s, s), additiveMask(floatMask)); // [batch, heads, srcLen, srcLen]
    this.blocks.forEach((block, i) => {
      x = this.blockHidden(block, i, x, { batch: b, selfBias, adapters, rng });
      if (hook) {
        const y = hook(i, tf.reshape(x, [b, s, c.dModel]) as tf.Tensor3D, floatMask);
        if (y.rank !== 3 || y.shape[0] !== b || y.shape[1] !== s || y.shape[2] !== c.dModel) {
          throw new T5InputError(`encoderLayerHook: layer ${i} must return [${b}, ${s}, ${c.dModel}], got [${y.shape.join(', ')}]`);
        }
        x = tf.reshape(y, [b * s, c.dModel]);
      }
    });
    const out = drop(this.final_layer_norm.forward(x), c.dropoutRate, this.training, rng); // [batch·srcLen, dModel]
    return tf.reshape(out, [b, s, c.dModel]) as tf.Tensor3D;
  }

  private recomputing(cache?: unknown): boolean {
    return this.recomputeBlocks && cache === undefined && recording();
  }

  /**
   * One block's output rows, recomputed in the backward pass when `recomputeBlocks` is on and a tape records.
   * The recomputed function reads every non-persistent tensor it needs as an argument (hidden rows, bias,
   * cross-attention keys/values and mask, this block's low-rank factors, which may be generated by another
   * network), and the block's trainable weights as persistent inputs.
   */
  private blockHidden(block: T5Block, i: number, x: tf.Tensor, ctx: BlockContext): tf.Tensor {
    if (!this.recomputing(ctx.cache)) return block.forward(x, ctx).hidden;
    const prefix = `${block.path}.`;
    const deltas = [...(ctx.adapters ?? new Map<string, LowRankDelta>())].filter(([k]) => k.startsWith(prefix));
    const inputs = [x, ctx.selfBias, ...(ctx.cross ? [ctx.cross.kv.k, ctx.cross.kv.v, ctx.cross.mask] : []), ...deltas.flatMap(([, d]) => [d.A, d.B])];
    const trainable = block
      .namedParameters()
      .map(([, v]) => v)
      .filter((v) => v.trainable);
    const run = (...xs: tf.Tensor[]): tf.Tensor => {
      let j = 2;
      const next = () => xs[j++] as tf.Tensor;
      const cross = ctx.cross ? { kv: { k: next() as tf.Tensor4D, v: next() as tf.Tensor4D }, mask: next() } : undefined;
      let adapters = ctx.adapters;
      if (deltas.length > 0) {
        const m = new Map(ctx.adapters);
        for (const [k, d] of deltas) m.set(k, { ...d, A: next(), B: next() });
        adapters = m;
      }
      const rng = ctx.rng?.fork(`block-${i}`);
      return tf.tidy(
        () =>
          block.forward(xs[0] as tf.Tensor, { batch: ctx.batch, selfBias: xs[1] as tf.Tensor, adapters, ...(rng ? { rng } : {}), ...(cross ? { cross } : {}) })
            .hidden,
      );
    };
    return recompute(run, inputs, trainable);
  }

  /** Cross-attention keys/values of every decoder block for encoder states [batch, srcLen, dModel]. */
  crossContext(states: tf.Tensor, mask: tf.Tensor, adapters: Adapters): CrossContext {
    const [b, s] = mask.shape as [number, number];
    const rows = tf.reshape(states, [b * s, this.config.dModel]); // [batch·srcLen, dModel]
    const additive = additiveMask(tf.cast(mask, 'float32')); // [batch, 1, 1, srcLen]
    return { kv: this.blocks.map((bl) => (bl.crossAttn as T5LayerCrossAttention).EncDecAttention.projectKV(rows, b, adapters)), mask: additive };
  }

  /** Decoder self-attention bias for queries 0..len-1 against keys 0..len-1: position bias + causal mask [1, heads, len, len]. */
  selfBias(len: number): tf.Tensor4D {
    return tf.tidy(() => tf.add(this.biasModule().computeBias(len, len, 0), causalMask(len, len, 0)) as tf.Tensor4D);
  }

  /**
   * Decoder over ids [batch, tgtLen] whose first position is `past` (0 without a cache). With `cache`
   * (one KV per block) the self-attention keys/values grow and the new cache is returned. `selfBias`
   * [1, heads, tgtLen, past + tgtLen] (position bias + causal mask) skips recomputing it: generation
   * slices it from one table per call.
   */
  decode(ids: tf.Tensor, cross: CrossContext, adapters: Adapters, rng?: Rng, cache?: KV[], selfBias?: tf.Tensor): DecoderOutput {
    const [b, t] = ids.shape as [number, number];
    const out = this.decodeRows(ids, cross, adapters, rng, cache, selfBias);
    return { hidden: tf.reshape(out.hidden, [b, t, this.config.dModel]) as tf.Tensor3D, cache: out.cache };
  }

  /** `decode` with the hidden states as rows [batch·tgtLen, dModel] (what the LM head and the loss read). @internal */
  decodeRows(ids: tf.Tensor, cross: CrossContext, adapters: Adapters, rng?: Rng, cache?: KV[], selfBias?: tf.Tensor): { hidden: tf.Tensor2D; cache: KV[] } {
    const c = this.config;
    const [b, tLen] = ids.shape as [number, number];
    const past = cache?.[0]?.k.shape[2] ?? 0;
    let x = drop(embedRows(this.embedTokens, ids), c.dropoutRate, this.training, rng); // [batch·tgtLen, dModel]
    const kLen = past + tLen;
    let bias = selfBias;
    if (!bias) {
      bias = this.biasModule().computeBias(tLen, kLen, past); // [1, heads, tgtLen, kLen]
      if (tLen > 1) bias = tf.add(bias, causalMask(tLen, kLen, past)); // a single new query may see every key
    }
    const newCache: KV[] = [];
    if (this.recomputing(cache)) {
      // training: the cache this returns is never read, and recomputed blocks do not keep their keys/values
      this.blocks.forEach(
        (block, i) => (x = this.blockHidden(block, i, x, { batch: b, selfBias: bias, adapters, rng, cross: { kv: cross.kv[i] as KV, mask: cross.mask } })),
      );
      return { hidden: drop(this.final_layer_norm.forward(x), c.dropoutRate, this.training, rng) as tf.Tensor2D, cache: newCache };
    }
    this.blocks.forEach((block, i) => {
      const r = block.forward(x, { batch: b, selfBias: bias, adapters, rng, cross: { kv: cross.kv[i] as KV, mask: cross.mask }, cache: cache?.[i] });
      newCache.push(r.kv);
      x = r.hidden;
    });
    return { hidden: drop(this.final_layer_norm.forward(x), c.dropoutRate, this.training, rng) as tf.Tensor2D, cache: newCache };
  }
}

/** Additive mask [batch, 1, 1, len] from a float 0/1 mask [batch, len]: 0 where 1, MASKED where 0. */
function additiveMask(mask: tf.Tensor): tf.Tensor4D {
  const [b, s] = mask.shape as [number, number];
  return tf.reshape(tf.mul(tf.sub(1, mask), MASKED), [b, 1, 1, s]) as tf.Tensor4D;
}

function causalMask(qLen: number, kLen: number, past: number): tf.Tensor4D {
  const data = shapeArray(`causal ${qLen} ${kLen} ${past}`, () => {
    const d = new Float32Array(qLen * kLen);
    for (let i = 0; i < qLen; i++) for (let j = past + i + 1; j < kLen; j++) d[i * kLen + j] = MASKED;
    return d;
  });
  return tf.tensor4d(data, [1, 1, qLen, kLen]);
}

// ---------------------------------------------------------------------------------------------
// Conditional generation model

/**
 * Keys a checkpoint may carry that alias `shared.weight` (declared as data, not hidden in branches):
 * HF writes them or not depending on version; they are accepted on load, never required.
 */
export const TIED_ALIAS_KEYS = ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'] as const;
/** The LM head's checkpoint key; an alias of `shared.weight` when the file's copy equals it (a tied head). */
export const TIED_LM_HEAD_KEY = 'lm_head.weight';

function checkShape(t: tf.Tensor, name: string, rank: number, dims: readonly (number | undefined)[], dtype?: tf.DataType): void {
  const want = `[${dims.map((d, i) => d ?? ['batch', 'len', 'dModel'][i]).join(', ')}]`;
  if (t.rank !== rank || dims.some((d, i) => d !== undefined && t.shape[i] !== d))
    throw new T5InputError(`${name}: expected shape ${want}, got [${t.shape.join(', ')}]`);
  if (dtype && t.dtype !== dtype) throw new T5InputError(`${name}: expected ${dtype} ids, got ${t.dtype}`);
}

export class T5ForConditionalGeneration extends Module implements Seq2SeqLM {
  readonly shared: Embedding;
  readonly encoder: T5Stack;
  readonly decoder: T5Stack;
  readonly lm_head?: Linear;

  constructor(
    readonly config: T5Config,
    opts: { rng?: Rng; /** 'empty' skips the random draw (weights are loaded next). */ init?: 'random' | 'empty' } = {},
  ) {
    super();
    // HF's `_init_weights` recipe; a seeded Rng makes random models reproducible (tiny presets, benches)
    const rng = opts.rng;
    const f = config.initializerFactor;
    emptyInit = opts.init === 'empty';
    try {
      this.shared = this.registerModule('shared', new Embedding(config.vocabSize, config.dModel, { rng, init: normal(f) }));
      this.encoder = this.registerModule('encoder', new T5Stack(config, false, this.shared, rng));
      this.decoder = this.registerModule('decoder', new T5Stack(config, true, this.shared, rng));
      if (!config.tieWordEmbeddings)
        this.lm_head = this.registerModule('lm_head', new Linear(config.dModel, config.vocabSize, { bias: false, rng, init: normal(f) }));
    } finally {
      emptyInit = false;
    }
  }

  /**
   * Activation recomputation in both stacks (HF's `gradient_checkpointing_enable`): training steps keep each
   * block's input and recompute its intermediates in the backward pass; less memory, one more forward per step.
   * See `T5Stack.recomputeBlocks`.
   */
  setRecomputeBlocks(on: boolean): this {
    this.encoder.recomputeBlocks = on;
    this.decoder.recomputeBlocks = on;
    return this;
  }

  /**
   * The explicit boundary check for ids that did not come through the collator: throws a T5InputError
   * unless ids is an int32 [batch, len] tensor with ids in [0, vocab) (or -100 with allowIgnore). Reads the
   * ids to the host, so forward never calls it; generate and scoreTargets do (they read results anyway).
   */
  checkIds(ids: tf.Tensor, name: string, allowIgnore = false): void {
    checkShape(ids, name, 2, [undefined, undefined], 'int32');
    const data = ids.dataSync();
    const v = this.config.vocabSize;
    for (let i = 0; i < data.length; i++) {
      const id = data[i] as number;
      if ((id < 0 || id >= v) && !(allowIgnore && id === IGNORE_INDEX)) {
        throw new T5InputError(`${name}: id ${id} at flat index ${i} is outside [0, ${v}) (vocab_size ${v})`);
      }
    }
  }

  /** Encoder output [batch, srcLen, dModel]. Shapes and dtypes are checked; id values are not (no host read). */
  encode(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, adapters?: DeltaMap, rng?: Rng, encoderLayerHook?: EncoderLayerHook): tf.Tensor3D {
    checkShape(inputIds, 'inputIds', 2, [undefined, undefined], 'int32');
    if (attentionMask) checkShape(attentionMask, 'attentionMask', 2, inputIds.shape);
    return tf.tidy(() => this.encoder.encode(inputIds, attentionMask ?? tf.onesLike(inputIds), adapters, rng, encoderLayerHook));
  }

  /** Cross-attention context over encoder states plus an optional prefix (instruction fusion). */
  crossContext(encoderStates: tf.Tensor3D, attentionMask: tf.Tensor2D | undefined, adapters?: DeltaMap, prefix?: EncoderPrefix): CrossContext {
    const [b, s] = encoderStates.shape;
    return tf.tidy(() => {
      let states: tf.Tensor = encoderStates;
      let mask: tf.Tensor = attentionMask ? tf.cast(attentionMask, 'float32') : tf.ones([b, s]);
      if (prefix) {
        if (prefix.states.rank !== 3 || prefix.states.shape[0] !== b || prefix.states.shape[2] !== this.config.dModel) {
          throw new T5InputError(`encoderPrefix.states: expected [${b}, pLen, ${this.config.dModel}], got [${prefix.states.shape.join(', ')}]`);
        }
        if (prefix.mask.rank !== 2 || prefix.mask.shape[0] !== b || prefix.mask.shape[1] !== prefix.states.shape[1]) {
          throw new T5InputError(`encoderPrefix.mask: expected [${b}, ${prefix.states.shape[1]}], got [${prefix.mask.shape.join(', ')}]`);
        }
        states = tf.concat([prefix.states, states], 1); // [batch, pLen+srcLen, dModel]
        mask = tf.concat([tf.cast(prefix.mask, 'float32'), mask], 1); // [batch, pLen+srcLen]
      }
      const cross = this.decoder.crossContext(states, mask, adapters);
      return { kv: cross.kv.map((kv) => ({ k: kv.k, v: kv.v })), mask: cross.mask } as unknown as tf.TensorContainer;
    }) as unknown as CrossContext;
  }

  /** Decoder self-attention bias table [1, heads, len, len] (position bias + causal mask); see T5Stack.selfBias. */
  decoderSelfBias(len: number): tf.Tensor4D {
    return this.decoder.selfBias(len);
  }

  /** Decoder pass in eval-style use (no dropout randomness): see T5Stack.decode. */
  decode(ids: tf.Tensor2D, cross: CrossContext, adapters?: DeltaMap, cache?: KV[], selfBias?: tf.Tensor4D): DecoderOutput {
    return this.decoder.decode(ids, cross, adapters, undefined, cache, selfBias);
  }

  /**
   * Decoder hidden states → logits [batch, tgtLen, vocab]: rescaled by dModel**-0.5 when
   * `scaleDecoderOutputs` (T5 v1.0), then projected by `lm_head` or, tied, by `shared`.
   */
  lmHead(hidden: tf.Tensor3D, adapters?: DeltaMap): tf.Tensor3D {
    const [b, t, d] = hidden.shape;
    return tf.tidy(() => tf.reshape(this.lmHeadRows(tf.reshape(hidden, [b * t, d]), b, adapters), [b, t, this.config.vocabSize]) as tf.Tensor3D); // [batch, tgtLen, vocab]
  }

  /** `lmHead` on rows [batch·tgtLen, dModel] → [batch·tgtLen, vocab]. */
  private lmHeadRows(hidden: tf.Tensor, batch: number, adapters: DeltaMap | undefined): tf.Tensor2D {
    const d = this.config.dModel;
    return tf.tidy(() => {
      const x = this.config.scaleDecoderOutputs ? tf.mul(hidden, d ** -0.5) : hidden; // [batch·tgtLen, dModel]
      if (this.lm_head) return applyLinear(this.lm_head, x, adapters, batch) as tf.Tensor2D;
      return project(x as tf.Tensor2D, this.shared.weight); // [batch·tgtLen, vocab]
    });
  }

  /**
   * HF's T5ForConditionalGeneration.forward: encode (or reuse `encoderOutputs`), decode `decoderInputIds`
   * (default shiftRight(labels)) against the encoder states (plus `encoderPrefix`), LM head, and the mean
   * cross-entropy over labels ≠ -100. Shapes and dtypes are checked here; id values are checked where
   * batches are made (the collator, `checkIds`), so a forward pass never reads a tensor back to the host.
   */
  forward(args: T5ForwardArgs): T5ForwardOutput {
    const { inputIds, attentionMask, labels, adapters, encoderPrefix, rng } = args;
    checkShape(inputIds, 'inputIds', 2, [undefined, undefined], 'int32');
    const batch = inputIds.shape[0];
    if (labels) checkShape(labels, 'labels', 2, [batch, undefined], 'int32');
    if (args.decoderInputIds) checkShape(args.decoderInputIds, 'decoderInputIds', 2, [batch, labels?.shape[1]], 'int32');
    if (!labels && !args.decoderInputIds) throw new T5InputError('forward: pass labels or decoderInputIds');
    let encoderLastHiddenState: tf.Tensor3D;
    if (args.encoderOutputs) {
      checkShape(args.encoderOutputs, 'encoderOutputs', 3, [batch, inputIds.shape[1], this.config.dModel]);
      encoderLastHiddenState = tf.clone(args.encoderOutputs);
    } else {
      encoderLastHiddenState = this.encode(inputIds, attentionMask, adapters, rng, args.encoderLayerHook);
    }
    const out = tf.tidy(() => {
      const decIds = args.decoderInputIds ?? shiftRightTensor(labels as tf.Tensor2D, this.config.decoderStartTokenId, this.config.padTokenId);
      const cross = this.crossContext(encoderLastHiddenState, attentionMask, adapters, encoderPrefix);
      const [b, t] = decIds.shape;
      const { hidden } = this.decoder.decodeRows(decIds, cross, adapters, rng); // [batch·tgtLen, dModel]
      const rows = this.lmHeadRows(hidden, b, adapters); // [batch·tgtLen, vocab]
      const logits = tf.reshape(rows, [b, t, this.config.vocabSize]) as tf.Tensor3D; // [batch, tgtLen, vocab]
      const loss = labels ? crossEntropyRows(rows, labels) : undefined;
      return loss ? { logits, loss } : { logits };
    });
    return { ...out, encoderLastHiddenState };
  }

  /** Greedy (numBeams 1) or beam search with a KV cache; rows start with the decoder start id. */
  async generate(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, opts: GenerateOptions = {}): Promise<number[][]> {
    return (await runGenerate(this, inputIds, attentionMask, opts)).sequences;
  }

  /** Sum and mean log-likelihood of each target row given its input row (rank classification). */
  scoreTargets(args: ScoreArgs): Promise<ScoreResult> {
    return runScore(this, args);
  }

  /**
   * Freeze every base weight (train adapters only). Frozen weights take a faster path: their transposes
   * are computed once here (extra memory: one copy of the 2-D weights) and nothing weight-sized is
   * saved for backward passes. Results are identical.
   */
  freezeBase(): this {
    this.setTrainable(false);
    freezeWeights(this.parameters());
    return this;
  }

  /** Make every base weight trainable again and drop the cached transposes. */
  unfreezeBase(): this {
    releaseFrozen(this.parameters());
    this.setTrainable(true);
    return this;
  }

  override dispose(): void {
    releaseFrozen(this.parameters());
    super.dispose();
  }
}

/** HF `_shift_right` on a tensor: start id first, last id dropped, -100 → pad. */
export function shiftRightTensor(labels: tf.Tensor2D, decoderStartTokenId: number, padTokenId: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t] = labels.shape;
    const start = tf.fill([b, 1], decoderStartTokenId, 'int32');
    const body = tf.slice(labels, [0, 0], [b, t - 1]);
    const shifted = tf.concat([start, body], 1); // [batch, tgtLen]
    return tf.where(tf.equal(shifted, IGNORE_INDEX), tf.fill([b, t], padTokenId, 'int32'), shifted) as tf.Tensor2D;
  });
}

/** A random-weight model (HF init recipe) from a seeded Rng: tiny presets, tests and benches. */
export function createRandomT5(config: T5Config, seed = 0): T5ForConditionalGeneration {
  return new T5ForConditionalGeneration(config, { rng: new Rng(seed) });
}

export type { LowRankDelta };
