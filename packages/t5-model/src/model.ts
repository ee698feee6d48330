// T5ForConditionalGeneration with Hugging Face module names and numerics, in dependency order:
// norm → feed-forward → attention → block → stack → conditional-generation model.
// Attribute names are the checkpoint format (`encoder.block.0.layer.0.SelfAttention.q.weight`).
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, Linear, Module, RMSNorm, Rng, dropout, lowRankForward, type DeltaMap, type LowRankDelta } from '@tagi/tensor-core';
import type { T5Activation, T5Config } from './config.js';
import { IGNORE_INDEX } from './collator.js';
import { crossEntropy } from './loss.js';
import { bmm, constLinear, freezeWeights, frozenGather, linear2d, recording, releaseFrozen } from './ops.js';
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

function applyLinear(layer: Linear, x: tf.Tensor, adapters: Adapters): tf.Tensor {
  const delta = adapters?.get(layer.path);
  if (layer.bias || !constant(layer.weight)) return layer.forward(x, delta); // tensor-core's fast linear with weight gradients
  const y = constLinear(x, layer.weight); // [..., out]
  if (!delta) return y;
  return tf.tidy(() => tf.add(y, lowRankForward(x, delta, layer.inFeatures, layer.outFeatures, layer.path)));
}

/** x [n, in] · Wᵀ for any weight variable (fastest path when it needs no gradient). */
function project(x: tf.Tensor2D, w: tf.Variable): tf.Tensor2D {
  return (constant(w) ? constLinear(x, w) : linear2d(x, w)) as tf.Tensor2D;
}

function embed(table: Embedding, ids: tf.Tensor): tf.Tensor {
  return constant(table.weight) ? frozenGather(table.weight, ids) : table.forward(ids);
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

  forward(x: tf.Tensor, adapters: Adapters, rng?: Rng): tf.Tensor {
    const c = this.config;
    let h: tf.Tensor; // [batch, seq, dFf]
    if (this.wi0 && this.wi1) h = tf.mul(activation(c.denseActFn, applyLinear(this.wi0, x, adapters)), applyLinear(this.wi1, x, adapters));
    else h = activation(c.denseActFn, applyLinear(this.wi as Linear, x, adapters));
    h = drop(h, c.dropoutRate, this.training, rng);
    return applyLinear(this.wo, h, adapters); // [batch, seq, dModel]
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

  forward(x: tf.Tensor, adapters: Adapters, rng?: Rng): tf.Tensor {
    // one tidy per sub-layer: intermediates are freed as the stack proceeds (the tape keeps what gradients need)
    return tf.tidy(() => {
      const y = this.DenseReluDense.forward(this.layer_norm.forward(x), adapters, rng);
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

/** One-hot [qLen·kLen, numBuckets] of the bucket of every (query, key) pair; query positions start at qOffset. */
function bucketOneHot(qLen: number, kLen: number, qOffset: number, bidirectional: boolean, numBuckets: number, maxDistance: number): tf.Tensor2D {
  const data = new Float32Array(qLen * kLen * numBuckets);
  for (let i = 0; i < qLen; i++) {
    for (let j = 0; j < kLen; j++) {
      const b = relativePositionBucket(j - (i + qOffset), bidirectional, numBuckets, maxDistance);
      data[(i * kLen + j) * numBuckets + b] = 1;
    }
  }
  return tf.tensor2d(data, [qLen * kLen, numBuckets]);
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
      const values = tf.matMul(onehot, emb.weight); // [qLen·kLen, heads] (one-hot product instead of a gather: its gradient is a plain product too)
      return tf.transpose(tf.reshape(values, [1, qLen, kLen, c.numHeads]), [0, 3, 1, 2]) as tf.Tensor4D; // [1, heads, qLen, kLen]
    });
  }

  /** [batch, len, heads·dKv] → [batch, heads, len, dKv] */
  private split(x: tf.Tensor): tf.Tensor4D {
    const [b, s] = x.shape as [number, number, number];
    const { numHeads: h, dKv } = this.config;
    if (s === 1) return tf.reshape(x, [b, h, 1, dKv]); // one position (a decoding step): same memory order, no transpose
    return tf.transpose(tf.reshape(x, [b, s, h, dKv]), [0, 2, 1, 3]) as tf.Tensor4D;
  }

  /** Keys and values of a source [batch, len, dModel] (cross-attention caches these once). */
  projectKV(source: tf.Tensor, adapters: Adapters): KV {
    return { k: this.split(applyLinear(this.k, source, adapters)), v: this.split(applyLinear(this.v, source, adapters)) };
  }

  /**
   * hidden [batch, qLen, dModel]; keys/values from `kv` (already projected); `bias` [1|batch, heads, qLen, kLen]
   * holds position bias plus mask. T5 does not scale scores by 1/sqrt(dKv) (folded into the init).
   */
  attend(hidden: tf.Tensor, kv: KV, bias: tf.Tensor, adapters: Adapters, rng?: Rng): tf.Tensor {
    const [b, qLen] = hidden.shape as [number, number, number];
    const q = this.split(applyLinear(this.q, hidden, adapters)); // [batch, heads, qLen, dKv]
    const scores = tf.add(bmm(q, kv.k, false, true), bias); // [batch, heads, qLen, kLen]
    let weights = tf.softmax(scores); // [batch, heads, qLen, kLen]
    weights = drop(weights, this.config.dropoutRate, this.training, rng);
    const ctx = bmm(weights, kv.v, false, false); // [batch, heads, qLen, dKv]
    const heads = qLen === 1 ? ctx : tf.transpose(ctx, [0, 2, 1, 3]); // [batch, qLen, heads, dKv] (one query: same memory order)
    const merged = tf.reshape(heads, [b, qLen, this.inner]); // [batch, qLen, heads·dKv]
    return applyLinear(this.o, merged, adapters); // [batch, qLen, dModel]
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

  /** With `cache`, the new keys/values are appended to it and the grown cache is returned. */
  forward(x: tf.Tensor, bias: tf.Tensor, adapters: Adapters, rng?: Rng, cache?: KV): { out: tf.Tensor; kv: KV } {
    return tf.tidy((): tf.TensorContainer => {
      const normed = this.layer_norm.forward(x);
      let kv = this.SelfAttention.projectKV(normed, adapters);
      if (cache) kv = { k: tf.concat([cache.k, kv.k], 2) as tf.Tensor4D, v: tf.concat([cache.v, kv.v], 2) as tf.Tensor4D }; // [batch, heads, past+qLen, dKv]
      const y = this.SelfAttention.attend(normed, kv, bias, adapters, rng);
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

  forward(x: tf.Tensor, kv: KV, mask: tf.Tensor, adapters: Adapters, rng?: Rng): tf.Tensor {
    return tf.tidy(() => {
      const y = this.EncDecAttention.attend(this.layer_norm.forward(x), kv, mask, adapters, rng);
      return tf.add(x, drop(y, this.config.dropoutRate, this.training, rng));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Block

/** What one block reads besides its input: attention biases, deltas, dropout randomness, caches. */
export interface BlockContext {
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

  /** hidden [batch, len, dModel] → [batch, len, dModel], with this block's (grown) self-attention keys/values. */
  forward(hidden: tf.Tensor, ctx: BlockContext): { hidden: tf.Tensor; kv: KV } {
    const self = this.selfAttn.forward(hidden, ctx.selfBias, ctx.adapters, ctx.rng, ctx.cache);
    let x = self.out;
    if (this.crossAttn) {
      if (!ctx.cross) throw new T5InputError(`${this.path}: a decoder block needs the cross-attention context`);
      x = this.crossAttn.forward(x, ctx.cross.kv, ctx.cross.mask, ctx.adapters, ctx.rng);
    }
    return { hidden: this.ff.forward(x, ctx.adapters, ctx.rng), kv: self.kv };
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
    const floatMask = hook ? (tf.cast(mask, 'float32') as tf.Tensor2D) : undefined;
    let x = drop(embed(this.embedTokens, ids), c.dropoutRate, this.training, rng); // [batch, srcLen, dModel]
    const pad = tf.mul(tf.sub(1, tf.reshape(tf.cast(mask, 'float32'), [b, 1, 1, s])), MASKED); // [batch, 1, 1, srcLen]
    const selfBias = tf.add(this.biasModule().computeBias(s, s), pad); // [batch, heads, srcLen, srcLen]
    this.blocks.forEach((block, i) => {
      x = block.forward(x, { selfBias, adapters, rng }).hidden;
      if (hook) {
        const y = hook(i, x as tf.Tensor3D, floatMask as tf.Tensor2D);
        if (y.rank !== 3 || y.shape[0] !== b || y.shape[1] !== s || y.shape[2] !== c.dModel) {
          throw new T5InputError(`encoderLayerHook: layer ${i} must return [${b}, ${s}, ${c.dModel}], got [${y.shape.join(', ')}]`);
        }
        x = y;
      }
    });
    return drop(this.final_layer_norm.forward(x), c.dropoutRate, this.training, rng) as tf.Tensor3D;
  }

  /** Cross-attention keys/values of every decoder block for encoder states [batch, srcLen, dModel]. */
  crossContext(states: tf.Tensor, mask: tf.Tensor, adapters: Adapters): CrossContext {
    const [b, s] = mask.shape as [number, number];
    const additive = tf.mul(tf.sub(1, tf.reshape(tf.cast(mask, 'float32'), [b, 1, 1, s])), MASKED) as tf.Tensor4D; // [batch, 1, 1, srcLen]
    return { kv: this.blocks.map((bl) => (bl.crossAttn as T5LayerCrossAttention).EncDecAttention.projectKV(states, adapters)), mask: additive };
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
    const c = this.config;
    const tLen = ids.shape[1] as number;
    const past = cache?.[0]?.k.shape[2] ?? 0;
    let x = drop(embed(this.embedTokens, ids), c.dropoutRate, this.training, rng); // [batch, tgtLen, dModel]
    const kLen = past + tLen;
    let bias = selfBias;
    if (!bias) {
      bias = this.biasModule().computeBias(tLen, kLen, past); // [1, heads, tgtLen, kLen]
      if (tLen > 1) bias = tf.add(bias, causalMask(tLen, kLen, past)); // a single new query may see every key
    }
    const newCache: KV[] = [];
    this.blocks.forEach((block, i) => {
      const r = block.forward(x, { selfBias: bias, adapters, rng, cross: { kv: cross.kv[i] as KV, mask: cross.mask }, cache: cache?.[i] });
      newCache.push(r.kv);
      x = r.hidden;
    });
    return { hidden: drop(this.final_layer_norm.forward(x), c.dropoutRate, this.training, rng) as tf.Tensor3D, cache: newCache };
  }
}

function causalMask(qLen: number, kLen: number, past: number): tf.Tensor4D {
  const data = new Float32Array(qLen * kLen);
  for (let i = 0; i < qLen; i++) for (let j = past + i + 1; j < kLen; j++) data[i * kLen + j] = MASKED;
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
  if (t.rank !== rank || dims.some((d, i) => d !== undefined && t.shape[i] !== d)) throw new T5InputError(`${name}: expected shape ${want}, got [${t.shape.join(', ')}]`);
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
      if (!config.tieWordEmbeddings) this.lm_head = this.registerModule('lm_head', new Linear(config.dModel, config.vocabSize, { bias: false, rng, init: normal(f) }));
    } finally {
      emptyInit = false;
    }
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
    return tf.tidy(() => {
      const x = this.config.scaleDecoderOutputs ? tf.mul(hidden, d ** -0.5) : hidden; // [batch, tgtLen, dModel]
      if (this.lm_head) return applyLinear(this.lm_head, x, adapters) as tf.Tensor3D;
      const flat = tf.reshape(x, [b * t, d]) as tf.Tensor2D; // [batch·tgtLen, dModel]
      return tf.reshape(project(flat, this.shared.weight), [b, t, this.config.vocabSize]) as tf.Tensor3D; // [batch, tgtLen, vocab]
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
      const { hidden } = this.decoder.decode(decIds, cross, adapters, rng);
      const logits = this.lmHead(hidden, adapters);
      const loss = labels ? crossEntropy(logits, labels) : undefined;
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
