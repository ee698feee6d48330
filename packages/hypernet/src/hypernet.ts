// The TAGI hypernetwork: encoded instruction → pooled vector → (joined with a learned embedding of each
// target module) → MLP → LoRA factors A [r, in] and B [out, r] for every target Linear of a frozen T5.
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, type LowRankDelta, Linear, Module, ModuleList, RMSNorm, Rng, normalInit, uniformInit, zerosInit, bmm, matmul } from '@tagi/tensor-core';
import { type EncoderLayerHook, T5Stack } from '@tagi/t5-model';
import type { BaseSeq2SeqModel } from './base-model.js';
import { type TargetModules, TargetMatchError, matchTargets } from '@tagi/lora';
import { type HypernetConfig, resolveHypernetConfig } from './config.js';
import { HypernetConfigError, HypernetInputError } from './errors.js';

/** One Linear of the base model that receives a generated adapter. */
export interface TargetModule {
  /** Full module path, e.g. 'encoder.block.0.layer.0.SelfAttention.q'. */
  readonly path: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Index of the generator head group (targets with equal [in, out] share the heads). */
  readonly group: number;
}

/** An encoded batch of instructions (one row per task, or per example in mixed batches). */
export interface InstructionEncoding {
  /** `[rows, len, dModel]` encoder states. */
  readonly states: tf.Tensor3D;
  /** `[rows, len]` float, 1 = token, 0 = padding. */
  readonly mask: tf.Tensor2D;
}

/**
 * The Linear layers of the base model that config targets select (@tagi/lora's target language, matched
 * by @tagi/lora), in model order grouped by shape. Nothing selected is a {@link HypernetConfigError}.
 */
export function resolveTargets(base: Module, targets: TargetModules): TargetModule[] {
  let found: { path: string; inFeatures: number; outFeatures: number }[];
  try {
    found = matchTargets(base, targets).map(({ path, inFeatures, outFeatures }) => ({ path, inFeatures, outFeatures }));
  } catch (e) {
    if (!(e instanceof TargetMatchError)) throw e;
    const shown = typeof targets === 'string' ? `/${targets}/` : targets.map((p) => JSON.stringify(p)).join(', ');
    const near = e.candidates.length > 0 ? `; closest Linear module names: ${e.candidates.join(', ')}` : '';
    throw new HypernetConfigError([`targets: no Linear module of the base model matches ${shown}${near}`]);
  }
  const shapes: string[] = [];
  const withGroup = found.map((t) => {
    const key = `${t.inFeatures}x${t.outFeatures}`;
    if (!shapes.includes(key)) shapes.push(key);
    return { ...t, group: shapes.indexOf(key) };
  });
  // heads run once per group over a contiguous slice of module rows, so order targets by group (stable)
  return withGroup.sort((a, b) => a.group - b.group);
}

/** Masked mean over the non-padding positions: `[rows, len, d]`, `[rows, len]` → `[rows, d]`. */
export function maskedMeanPool(states: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.expandDims(tf.cast(mask, 'float32'), -1); // [rows, len, 1]
    const summed = tf.sum(tf.mul(states, m), 1); // [rows, d]
    const count = tf.maximum(tf.sum(m, 1), tf.scalar(1)); // [rows, 1]
    return tf.div(summed, count) as tf.Tensor2D;
  });
}

/** Generator heads for one [in, out] shape. */
class HeadGroup extends Module {
  readonly a_head: Linear;
  readonly b_head: Linear;
  constructor(
    hidden: number,
    readonly rank: number,
    readonly inFeatures: number,
    readonly outFeatures: number,
    c: HypernetConfig,
    rng: Rng,
  ) {
    super();
    // A: instruction-dependent part small, bias as LoRA's A init (kaiming-uniform bound 1/sqrt(in));
    // B: zero (by default), so every generated ΔW = s·B·A starts at exactly 0 and the student starts as the base.
    const bound = 1 / Math.sqrt(inFeatures);
    this.a_head = this.registerModule(
      'a_head',
      new Linear(hidden, rank * inFeatures, {
        rng: rng.fork('a'),
        init: normalInit({ std: c.aHeadInitStd }),
        biasInit: uniformInit({ low: -bound, high: bound }),
      }),
    );
    this.b_head = this.registerModule(
      'b_head',
      new Linear(hidden, outFeatures * rank, {
        rng: rng.fork('b'),
        init: c.bHeadInitStd > 0 ? normalInit({ std: c.bHeadInitStd }) : zerosInit,
        biasInit: zerosInit,
      }),
    );
  }
}

/** A head's output as one tensor per module: `x` reshaped to `[n, ...]`, then split along the first axis. */
function unstackModules(x: tf.Tensor, shape: number[]): tf.Tensor[] {
  // one module: a reshape (tfjs's Unpack gradient hands a single-output Unpack its dy as a tensor, not a list, and fails)
  if (shape[0] === 1) return [tf.reshape(x, shape.slice(1))];
  return tf.unstack(tf.reshape(x, shape));
}

/** Learned per-target tensors (module embeddings, pooling queries) held as named parameters. */
class TargetParams extends Module {
  readonly module_embeddings: tf.Variable; // [modules, E]
  readonly queries: tf.Variable | undefined; // [modules, dModel]
  constructor(modules: number, embDim: number, dModel: number, withQueries: boolean, rng: Rng) {
    super();
    this.module_embeddings = this.registerParameter('module_embeddings', normalInit({ std: 1 })([modules, embDim], rng.fork('emb')));
    this.queries = withQueries ? this.registerParameter('queries', normalInit({ std: 1 })([modules, dModel], rng.fork('q'))) : undefined;
  }
}

/**
 * One per-layer fusion block (`fusion: 'cross-attention'`): h + o(attention(q(RMSNorm(h)), k(I), v(I))) over the
 * encoded instruction I (padding masked out), multi-head with the base's head count and width, scores
 * scaled by 1/√dKv. `o` starts at zero, so at initialisation the block is the identity.
 */
export class CrossAttentionFusion extends Module {
  readonly layer_norm: RMSNorm;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  constructor(
    dModel: number,
    readonly numHeads: number,
    readonly dKv: number,
    eps: number,
    rng: Rng,
  ) {
    super();
    const inner = numHeads * dKv;
    this.layer_norm = this.registerModule('layer_norm', new RMSNorm(dModel, eps));
    this.q = this.registerModule('q', new Linear(dModel, inner, { bias: false, rng: rng.fork('q') }));
    this.k = this.registerModule('k', new Linear(dModel, inner, { bias: false, rng: rng.fork('k') }));
    this.v = this.registerModule('v', new Linear(dModel, inner, { bias: false, rng: rng.fork('v') }));
    this.o = this.registerModule('o', new Linear(inner, dModel, { bias: false, rng: rng.fork('o'), init: zerosInit }));
  }

  /** hidden `[b, len, d]`, instruction states `[b, iLen, d]` and float mask `[b, iLen]` → `[b, len, d]`. */
  forward(hidden: tf.Tensor3D, states: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, len] = hidden.shape;
      const iLen = states.shape[1];
      const h = this.numHeads;
      const dk = this.dKv;
      const heads = (x: tf.Tensor, n: number) => tf.reshape(tf.transpose(tf.reshape(x, [b, n, h, dk]), [0, 2, 1, 3]), [b * h, n, dk]); // [b·heads, n, dKv]
      const q = heads(this.q.forward(this.layer_norm.forward(hidden)), len);
      const k = heads(this.k.forward(states), iLen);
      const v = heads(this.v.forward(states), iLen);
      const additive = tf.reshape(tf.tile(tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [b, 1, 1, iLen]), [1, h, 1, 1]), [b * h, 1, iLen]); // [b·heads, 1, iLen]
      const weights = tf.softmax(tf.add(tf.mul(bmm(q, k, false, true), 1 / Math.sqrt(dk)), additive)); // [b·heads, len, iLen]
      const ctx = tf.reshape(tf.transpose(tf.reshape(bmm(weights, v), [b, h, len, dk]), [0, 2, 1, 3]), [b, len, h * dk]); // [b, len, heads·dKv]
      return tf.add(hidden, this.o.forward(ctx)) as tf.Tensor3D;
    });
  }
}

export interface HyperNetworkOptions {
  /** Seed of the initialisation (default 0). */
  readonly seed?: number;
  /** Informational name of the base model (HF id or directory), written into checkpoints. */
  readonly baseModelName?: string;
}

/**
 * The hypernetwork. It owns only its own parameters; the base T5 stays frozen and is passed in.
 * Parameter names: `targets.module_embeddings`, `targets.queries` (queries pooling), `fusion_layers.<i>.{layer_norm,q,k,v,o}.weight` (cross-attention fusion), `input_proj.*`,
 * `embed_proj.weight`, `heads.<group>.{a_head,b_head}.{weight,bias}`.
 */
export class HyperNetwork extends Module {
  readonly config: HypernetConfig;
  readonly targetModules: readonly TargetModule[];
  readonly dModel: number;
  readonly baseModelName: string | undefined;
  readonly targets: TargetParams;
  readonly input_proj: Linear;
  readonly embed_proj: Linear;
  readonly heads: ModuleList<HeadGroup>;
  /** `encoder: 'separate'`: a trainable T5 encoder stack initialised from the base encoder (it reads the base's frozen token embedding). */
  readonly instruction_encoder: T5Stack | undefined;
  /** `fusion: 'cross-attention'`: one {@link CrossAttentionFusion} per encoder block of the base. */
  readonly fusion_layers: ModuleList<CrossAttentionFusion> | undefined;
  /** Number of instruction-encoder calls made through this hypernetwork (tests assert per-task caching with it). */
  encoderCalls = 0;
  /** Target modules per head group, in group order (targets are sorted by group). */
  private readonly groupSizes: readonly number[];

  constructor(
    readonly base: BaseSeq2SeqModel,
    config: Partial<HypernetConfig> = {},
    opts: HyperNetworkOptions = {},
  ) {
    super();
    this.config = resolveHypernetConfig(config);
    this.baseModelName = opts.baseModelName;
    this.dModel = base.config.dModel;
    this.targetModules = resolveTargets(base, this.config.targets);
    const rng = new Rng(opts.seed ?? 0);
    const c = this.config;
    this.targets = this.registerModule(
      'targets',
      new TargetParams(this.targetModules.length, c.moduleEmbeddingDim, this.dModel, c.pooling === 'queries', rng.fork('targets')),
    );
    this.input_proj = this.registerModule('input_proj', new Linear(this.dModel, c.hiddenDim, { rng: rng.fork('input_proj') }));
    this.embed_proj = this.registerModule('embed_proj', new Linear(c.moduleEmbeddingDim, c.hiddenDim, { bias: false, rng: rng.fork('embed_proj') }));
    this.heads = this.registerModule('heads', new ModuleList<HeadGroup>());
    if (c.encoder === 'separate') {
      this.instruction_encoder = this.registerModule('instruction_encoder', new T5Stack(base.config, false, base.shared, rng.fork('instruction_encoder')));
      // start from the base encoder's weights (keys relative to the stack: block.*, final_layer_norm.weight)
      this.instruction_encoder.loadStateDict(base.encoder.stateDict());
      this.instruction_encoder.setTrainable(true);
      this.instruction_encoder.eval(); // no dropout inside the instruction encoder
    } else {
      this.instruction_encoder = undefined;
    }
    if (c.fusion === 'cross-attention') {
      this.fusion_layers = this.registerModule('fusion_layers', makeFusionLayers(base, rng));
    } else {
      this.fusion_layers = undefined;
    }
    const groups = new Map<number, TargetModule>();
    for (const t of this.targetModules) if (!groups.has(t.group)) groups.set(t.group, t);
    this.groupSizes = [...groups.keys()].sort((a, b) => a - b).map((g) => this.targetModules.filter((t) => t.group === g).length);
    for (const [g, t] of [...groups].sort((a, b) => a[0] - b[0])) {
      this.heads.push(new HeadGroup(c.hiddenDim, c.rank, t.inFeatures, t.outFeatures, c, rng.fork(`heads.${g}`)));
    }
  }

  /** alpha / r */
  get scaling(): number {
    return this.config.loraAlpha / this.config.rank;
  }

  /** True with `encoder: 'separate'`: encodings depend on trained weights and must not be cached across steps. */
  get encoderIsTrainable(): boolean {
    return this.instruction_encoder !== undefined;
  }

  /**
   * Encodes instructions (no adapter): ids `[rows, len]` int32, mask `[rows, len]` → states and a float
   * mask. With the default frozen base encoder, cache the result per task: it never changes during
   * training. With `encoder: 'separate'` call it inside the gradient tape so the encoder is trained.
   */
  encodeInstructions(ids: tf.Tensor2D, mask: tf.Tensor2D): InstructionEncoding {
    if (ids.rank !== 2 || mask.rank !== 2 || ids.shape[0] !== mask.shape[0] || ids.shape[1] !== mask.shape[1]) {
      throw new HypernetInputError('instruction mask', `the shape of the ids [${ids.shape.join(', ')}]`, `[${mask.shape.join(', ')}]`);
    }
    this.encoderCalls++;
    const enc = this.instruction_encoder;
    const states = enc ? tf.tidy(() => enc.encode(ids, tf.cast(mask, 'float32'), undefined)) : this.base.encode(ids, mask);
    return { states, mask: tf.cast(mask, 'float32') as tf.Tensor2D };
  }

  /**
   * Pooled instruction per target: `mean` → `[rows, dModel]` (masked mean over non-padding tokens);
   * `queries` → `[rows, modules, dModel]` (each target's learned query attends over the tokens).
   */
  pool(enc: InstructionEncoding): tf.Tensor {
    if (this.config.pooling === 'mean') return maskedMeanPool(enc.states, enc.mask);
    return tf.tidy(() => {
      const [rows, len, d] = enc.states.shape;
      const q = this.targets.queries as tf.Variable; // [modules, d]
      const modules = q.shape[0] as number;
      const scores = tf.reshape(matmul(tf.reshape(enc.states, [rows * len, d]), q, false, true), [rows, len, modules]); // [rows, len, modules]
      const additive = tf.mul(tf.sub(tf.scalar(1), enc.mask), tf.scalar(-1e9)); // [rows, len]
      const logits = tf.add(tf.mul(tf.transpose(scores, [0, 2, 1]), tf.scalar(1 / Math.sqrt(d))), tf.expandDims(additive, 1)); // [rows, modules, len]
      const weights = tf.softmax(logits); // [rows, modules, len]
      return bmm(weights, enc.states); // [rows, modules, d]
    });
  }

  /**
   * Generates one adapter per row of `enc` (per task, or per example): every target gets
   * A `[rows, r, in]`, B `[rows, out, r]`. With `shared: true` (requires one row) A `[r, in]`, B `[out, r]`.
   * The returned tensors belong to the caller (dispose with {@link disposeDeltas}).
   */
  generate(enc: InstructionEncoding, opts: { shared?: boolean } = {}): Map<string, LowRankDelta> {
    const rows = enc.states.shape[0];
    if (opts.shared === true && rows !== 1) throw new HypernetInputError('enc', 'one instruction row for a shared adapter', `${rows} rows`);
    const c = this.config;
    const r = c.rank;
    const out = new Map<string, LowRankDelta>();
    const tensors = tf.tidy(() => {
      const pooled = this.pool(enc); // [rows, d] | [rows, modules, d]
      const he = this.embed_proj.forward(this.targets.module_embeddings); // [modules, H]
      const hp = this.input_proj.forward(pooled); // [rows, H] | [rows, modules, H]
      // module-major: row j·rows + i is (module j, instruction row i), so each module's rows are one
      // contiguous block of the heads' output and one unstack hands out every module's factors
      const hpm = hp.rank === 2 ? tf.expandDims(hp, 0) : tf.transpose(hp, [1, 0, 2]); // [1|modules, rows, H]
      const h = tf.relu(tf.add(hpm, tf.expandDims(he, 1))); // [modules, rows, H]
      const modules = this.targetModules.length;
      const result: tf.Tensor[] = [];
      let start = 0;
      for (let g = 0; g < this.heads.length; g++) {
        const n = this.groupSizes[g] as number;
        const head = this.heads.at(g);
        const hSlice = n === modules ? h : tf.slice(h, [start, 0, 0], [n, rows, c.hiddenDim]); // [n, rows, H]
        const hg = tf.reshape(hSlice, [n * rows, c.hiddenDim]); // [n·rows, H]
        // One unstack per head (its gradient is one stack), not a gather per module: on tfjs-node every
        // kernel counts (48 gathers and their 48 scatter-adds for the 24 modules of the tiny model), and
        // wasm's Unpack reads its input in place (tensor-core's kernel)
        const shapeA = opts.shared ? [n, r, head.inFeatures] : [n, rows, r, head.inFeatures];
        const shapeB = opts.shared ? [n, head.outFeatures, r] : [n, rows, head.outFeatures, r];
        const as = unstackModules(head.a_head.forward(hg), shapeA); // n × [r, in] | [rows, r, in]
        const bs = unstackModules(head.b_head.forward(hg), shapeB); // n × [out, r] | [rows, out, r]
        for (let j = 0; j < n; j++) result.push(as[j] as tf.Tensor, bs[j] as tf.Tensor);
        start += n;
      }
      return result;
    });
    // targets are sorted by group, so their order is the order of `tensors`
    this.targetModules.forEach((t, k) => out.set(t.path, { A: tensors[2 * k] as tf.Tensor, B: tensors[2 * k + 1] as tf.Tensor, scaling: this.scaling }));
    return out;
  }

  /**
   * Expands one adapter per task (`[tasks, ...]` rows) to one per example: `taskOfExample[i]` is the row
   * of example i. Differentiable (a one-hot product, no gather: gather has no gradient on wasm).
   */
  static selectRows(deltas: DeltaMap, taskOfExample: readonly number[]): Map<string, LowRankDelta> {
    const first = deltas.values().next().value as LowRankDelta | undefined;
    const tasks = first ? (first.A.shape[0] as number) : 0;
    for (const t of taskOfExample) {
      if (!Number.isInteger(t) || t < 0 || t >= tasks) throw new HypernetInputError('taskOfExample', `row indices in [0, ${tasks})`, String(t));
    }
    // oneHot needs depth >= 2; a single task is a plain repeat
    const sel = tf.tidy(() =>
      tasks === 1 ? tf.ones([taskOfExample.length, 1]) : tf.cast(tf.oneHot(tf.tensor1d([...taskOfExample], 'int32'), tasks), 'float32'),
    ); // [batch, tasks]
    const pick = (x: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        const [, m, n] = x.shape as [number, number, number];
        return tf.reshape(matmul(sel, tf.reshape(x, [tasks, m * n])), [taskOfExample.length, m, n]); // [batch, m, n]
      });
    const out = new Map<string, LowRankDelta>();
    for (const [k, d] of deltas) out.set(k, { A: pick(d.A), B: pick(d.B), scaling: d.scaling });
    sel.dispose();
    return out;
  }

  /**
   * The encoder prefix of `concat` fusion for a batch: the instruction states of each example's task.
   * `enc` has one row per task; `taskOfExample` (default: all examples use row 0) picks rows.
   * Returns undefined unless fusion is `concat`.
   */
  fusionPrefix(enc: InstructionEncoding, batch: number, taskOfExample?: readonly number[]): { states: tf.Tensor3D; mask: tf.Tensor2D } | undefined {
    if (this.config.fusion !== 'concat') return undefined;
    if (taskOfExample === undefined && enc.states.shape[0] === batch) return tf.tidy(() => ({ states: tf.clone(enc.states), mask: tf.clone(enc.mask) }));
    const idx = taskOfExample ?? new Array<number>(batch).fill(0);
    if (idx.length !== batch) throw new HypernetInputError('taskOfExample', `${batch} entries`, String(idx.length));
    const { states, mask } = selectEncodingRows(enc, idx); // [batch, len, d], [batch, len]
    return { states, mask };
  }
}

/**
 * The encoder layer hook of `cross-attention` fusion (undefined for other fusions): after encoder block i,
 * `fusion_layers.i` attends from the hidden states to the instruction states of `enc`. `enc` has one row
 * (shared by the whole batch) or one row per example. `enc` must outlive the forward pass that uses the hook.
 */
export function fusionHook(hn: HyperNetwork, enc: InstructionEncoding): EncoderLayerHook | undefined {
  return hn.fusion_layers ? crossAttentionHook(hn.fusion_layers, enc) : undefined;
}

/** The encoder layer hook running `layers[i]` after encoder block i over the instruction `enc` (1 row or one per example). */
export function crossAttentionHook(layers: ModuleList<CrossAttentionFusion>, enc: InstructionEncoding): EncoderLayerHook {
  return (i, hidden, _mask) =>
    tf.tidy(() => {
      const b = hidden.shape[0];
      const rows = enc.states.shape[0];
      if (rows !== 1 && rows !== b) throw new HypernetInputError('instruction encoding', `1 or ${b} rows (the batch)`, `${rows} rows`);
      const states = rows === b ? enc.states : (tf.tile(enc.states, [b, 1, 1]) as tf.Tensor3D); // [b, iLen, d]
      const mask = rows === b ? enc.mask : (tf.tile(enc.mask, [b, 1]) as tf.Tensor2D); // [b, iLen]
      return layers.at(i).forward(hidden, states, mask);
    });
}

/** One {@link CrossAttentionFusion} per encoder block of `base` (the `fusion_layers` of a hypernetwork or of an export). */
export function makeFusionLayers(base: BaseSeq2SeqModel, rng: Rng): ModuleList<CrossAttentionFusion> {
  const bc = base.config;
  const layers = new ModuleList<CrossAttentionFusion>();
  for (let i = 0; i < bc.numLayers; i++)
    layers.push(new CrossAttentionFusion(bc.dModel, bc.numHeads, bc.dKv, bc.layerNormEpsilon, rng.fork(`fusion_layers.${i}`)));
  return layers;
}

/**
 * One row per example of an encoding with one row per task: row i is `enc`'s row `taskOfExample[i]`.
 * Differentiable (a one-hot product, as `selectRows`), so a trainable instruction encoder still learns.
 */
export function selectEncodingRows(enc: InstructionEncoding, taskOfExample: readonly number[]): InstructionEncoding {
  const [rows, len, d] = enc.states.shape;
  for (const t of taskOfExample) {
    if (!Number.isInteger(t) || t < 0 || t >= rows) throw new HypernetInputError('taskOfExample', `row indices in [0, ${rows})`, String(t));
  }
  return tf.tidy(() => {
    const b = taskOfExample.length;
    if (rows === 1) return { states: tf.tile(enc.states, [b, 1, 1]) as tf.Tensor3D, mask: tf.tile(enc.mask, [b, 1]) as tf.Tensor2D }; // [b, len, d]
    const sel = tf.cast(tf.oneHot(tf.tensor1d([...taskOfExample], 'int32'), rows), 'float32'); // [b, rows]
    const states = tf.reshape(matmul(sel, tf.reshape(enc.states, [rows, len * d])), [b, len, d]) as tf.Tensor3D; // [b, len, d]
    return { states, mask: matmul(sel, enc.mask) as tf.Tensor2D }; // mask [b, len]
  });
}

/**
 * Stacks per-task encodings (`[1, len_k, d]` each, e.g. from an instruction cache) into one `[tasks, maxLen, d]`
 * encoding, zero-padded with mask 0: every consumer (masked mean pooling, the concat prefix's attention mask,
 * the cross-attention fusion) ignores masked positions, so each row means what its own encoding meant.
 */
export function stackEncodings(encs: readonly InstructionEncoding[]): InstructionEncoding {
  if (encs.length === 0) throw new HypernetInputError('encodings', 'at least one encoding', 'none');
  for (const [i, e] of encs.entries()) {
    if (e.states.shape[0] !== 1) throw new HypernetInputError(`encodings[${i}]`, 'one row', `${e.states.shape[0]} rows`);
  }
  return tf.tidy(() => {
    const len = Math.max(...encs.map((e) => e.states.shape[1]));
    const pad = (e: InstructionEncoding) => {
      const extra = len - e.states.shape[1];
      return extra === 0
        ? { states: e.states, mask: e.mask }
        : {
            states: tf.pad(e.states, [
              [0, 0],
              [0, extra],
              [0, 0],
            ]),
            mask: tf.pad(e.mask, [
              [0, 0],
              [0, extra],
            ]),
          };
    };
    const padded = encs.map(pad);
    return {
      states: tf.concat(
        padded.map((p) => p.states),
        0,
      ) as tf.Tensor3D,
      mask: tf.concat(
        padded.map((p) => p.mask),
        0,
      ) as tf.Tensor2D,
    }; // [tasks, len, d], [tasks, len]
  });
}

/** Disposes every tensor of a generated delta map. */
export function disposeDeltas(deltas: DeltaMap): void {
  for (const d of deltas.values()) {
    d.A.dispose();
    d.B.dispose();
  }
}

/** Disposes an instruction encoding. */
export function disposeEncoding(enc: InstructionEncoding): void {
  enc.states.dispose();
  enc.mask.dispose();
}
