// Inference cost model for T5 with and without the instruction in every input.
//
// Counting convention (the one TAGI / HINT use for "relative FLOPs"):
//   - one multiply-add = 2 FLOPs; only matrix products are counted (linear layers, attention
//     scores Q·Kᵀ and the weighted sum A·V). Norms, softmax, activations, residual adds, position
//     biases and embedding lookups are ignored: they are O(tokens·dModel), well below 1% here.
//   - the decoder is counted as incremental decoding with a KV cache: target token t (1-based)
//     attends to t self-attention keys. Cross-attention keys/values over the memory are projected
//     once per sequence.
//   - inner = numHeads·dKv (T5's attention width, which need not equal dModel).
//
// Scenarios for one task with N instances:
//   (a) concatenated: encoder input = instruction + input, every instance (Tk-Instruct / HINT-free).
//   (b) adapter: the hypernetwork turns the instruction into an adapter once per task (its FLOPs are
//       given by the caller, e.g. encoderFlops(instruction) + generator MLP), then each instance runs
//       the plain input. With instruction fusion the decoder also cross-attends over the encoded
//       instruction states (prefixLength extra memory states, encoded once per task).
//   Amortised per-instance cost of (b) = oncePerTask / N + perInstance.

import { EvalInputError, expectFiniteNumber } from './errors.js';

/** The shape of a T5 as far as cost goes (camelCase mirror of HF `config.json`). */
export interface T5CostConfig {
  /** hidden size (`d_model`) */
  readonly dModel: number;
  /** per-head width (`d_kv`) */
  readonly dKv: number;
  /** feed-forward width (`d_ff`) */
  readonly dFf: number;
  /** encoder layers (`num_layers`) */
  readonly numLayers: number;
  /** decoder layers (`num_decoder_layers`); default numLayers */
  readonly numDecoderLayers?: number;
  /** attention heads (`num_heads`) */
  readonly numHeads: number;
  /** output vocabulary (`vocab_size`), for the LM head */
  readonly vocabSize: number;
  /** gated feed-forward (v1.1 / LM-adapt `gated-gelu`): wi_0 and wi_1, three matrices instead of two */
  readonly gated: boolean;
}

/** An unmerged LoRA adds x·Aᵀ·Bᵀ per targeted projection; a merged one costs nothing per token. */
export interface LoraCost {
  readonly rank: number;
  /** attention projections adapted in every attention module (TAGI: q and v) */
  readonly targets: readonly ('q' | 'k' | 'v' | 'o')[];
  /** merged into the base weights once per task (then only the merge is counted, in oncePerTask) */
  readonly merged?: boolean;
}

export interface ForwardShape {
  /** tokens run through the encoder */
  readonly encoderLength: number;
  /** decoder tokens (generated or scored) */
  readonly targetLength: number;
  /** extra memory states the decoder cross-attends to without encoding them (instruction fusion) */
  readonly prefixLength?: number;
  readonly lora?: LoraCost;
  /** count the LM head (default true) */
  readonly lmHead?: boolean;
}

export interface FlopsBreakdown {
  readonly encoder: number;
  readonly decoder: number;
  readonly lmHead: number;
  /** unmerged LoRA branches (0 when merged or absent) */
  readonly lora: number;
  readonly total: number;
}

/** Reads the cost fields of an HF T5 `config.json` object. */
export function costConfigFromHf(json: Record<string, unknown>): T5CostConfig {
  const num = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback;
    expectFiniteNumber('costConfigFromHf', `config.${key}`, v, { min: 1, integer: true });
    return v;
  };
  const proj = json['feed_forward_proj'] ?? 'relu';
  if (typeof proj !== 'string') throw new EvalInputError('costConfigFromHf', 'config.feed_forward_proj', 'a string', proj);
  const numLayers = num('num_layers');
  return {
    dModel: num('d_model'),
    dKv: num('d_kv'),
    dFf: num('d_ff'),
    numLayers,
    numDecoderLayers: num('num_decoder_layers', numLayers),
    numHeads: num('num_heads'),
    vocabSize: num('vocab_size'),
    gated: proj.startsWith('gated-'),
  };
}

function checkConfig(fn: string, c: T5CostConfig): Required<T5CostConfig> {
  if (c === null || typeof c !== 'object') throw new EvalInputError(fn, 'config', 'a T5 cost config object', c);
  for (const key of ['dModel', 'dKv', 'dFf', 'numLayers', 'numHeads', 'vocabSize'] as const) {
    expectFiniteNumber(fn, `config.${key}`, c[key], { min: 1, integer: true });
  }
  const numDecoderLayers = c.numDecoderLayers ?? c.numLayers;
  expectFiniteNumber(fn, 'config.numDecoderLayers', numDecoderLayers, { min: 0, integer: true });
  if (typeof c.gated !== 'boolean') throw new EvalInputError(fn, 'config.gated', 'a boolean', c.gated);
  return { ...c, numDecoderLayers };
}

function checkLength(fn: string, name: string, v: unknown): number {
  expectFiniteNumber(fn, name, v, { min: 0, integer: true });
  return v;
}

function loraPerModule(fn: string, c: T5CostConfig, lora: LoraCost | undefined): { projections: Set<string>; perToken: number; merge: number } {
  if (!lora) return { projections: new Set(), perToken: 0, merge: 0 };
  expectFiniteNumber(fn, 'lora.rank', lora.rank, { min: 1, integer: true });
  if (!Array.isArray(lora.targets) || lora.targets.some((t) => !['q', 'k', 'v', 'o'].includes(t))) {
    throw new EvalInputError(fn, 'lora.targets', "a list of 'q' | 'k' | 'v' | 'o'", lora.targets);
  }
  const inner = c.numHeads * c.dKv;
  // x·Aᵀ (in -> r) then ·Bᵀ (r -> out); every projection maps dModel <-> inner
  return {
    projections: new Set(lora.targets),
    perToken: lora.merged ? 0 : 2 * lora.rank * (c.dModel + inner),
    merge: 2 * lora.rank * c.dModel * inner, // ΔW = B·A for one projection
  };
}

/** FLOPs of the encoder over `length` tokens (use it to price encoding an instruction once). */
export function encoderFlops(config: T5CostConfig, length: number): number {
  const c = checkConfig('encoderFlops', config);
  const E = checkLength('encoderFlops', 'length', length);
  const inner = c.numHeads * c.dKv;
  const ffn = (c.gated ? 3 : 2) * 2 * E * c.dModel * c.dFf;
  const perLayer = 4 * 2 * E * c.dModel * inner + 2 * 2 * E * E * inner + ffn;
  return c.numLayers * perLayer;
}

/** FLOPs of one forward pass (encode + decode `targetLength` tokens) of one sequence. */
export function t5ForwardFlops(config: T5CostConfig, shape: ForwardShape): FlopsBreakdown {
  const fn = 't5ForwardFlops';
  const c = checkConfig(fn, config);
  if (shape === null || typeof shape !== 'object') throw new EvalInputError(fn, 'shape', 'a ForwardShape object', shape);
  const E = checkLength(fn, 'shape.encoderLength', shape.encoderLength);
  const T = checkLength(fn, 'shape.targetLength', shape.targetLength);
  const P = checkLength(fn, 'shape.prefixLength', shape.prefixLength ?? 0);
  const M = E + P; // memory the decoder cross-attends to
  const inner = c.numHeads * c.dKv;
  const ffnMatrices = c.gated ? 3 : 2;

  const encoder = encoderFlops(c, E);

  const selfProjections = 4 * 2 * T * c.dModel * inner; // q, k, v, o on each target token
  const selfAttention = 2 * 2 * inner * ((T * (T + 1)) / 2); // token t: Q·Kᵀ and A·V over t keys
  const crossQO = 2 * 2 * T * c.dModel * inner;
  const crossKV = T > 0 ? 2 * 2 * M * c.dModel * inner : 0; // once per sequence over the memory (if anything is decoded)
  const crossAttention = 2 * 2 * T * M * inner;
  const ffn = ffnMatrices * 2 * T * c.dModel * c.dFf;
  const decoder = c.numDecoderLayers * (selfProjections + selfAttention + crossQO + crossKV + crossAttention + ffn);

  const lmHead = shape.lmHead === false ? 0 : 2 * T * c.dModel * c.vocabSize;

  const { projections, perToken } = loraPerModule(fn, c, shape.lora);
  let loraTokens = 0; // token-projection applications that carry a LoRA branch
  for (const p of projections) {
    loraTokens += c.numLayers * E; // encoder self-attention
    loraTokens += c.numDecoderLayers * T; // decoder self-attention
    loraTokens += c.numDecoderLayers * (p === 'k' || p === 'v' ? (T > 0 ? M : 0) : T); // cross-attention
  }
  const lora = perToken * loraTokens;
  return { encoder, decoder, lmHead, lora, total: encoder + decoder + lmHead + lora };
}

/** Sequence lengths of one instance of a task. */
export interface InstanceLengths {
  /** tokens of the instruction (definition, demonstrations) */
  readonly instruction: number;
  /** tokens of the instance input */
  readonly input: number;
  /** target tokens */
  readonly target: number;
}

export interface AdapterCostOptions {
  /** FLOPs of turning the instruction into an adapter, once per task (hypernet incl. instruction encoding) */
  readonly hypernetFlops: number;
  /** instances served with one generated adapter (N) */
  readonly instances: number;
  /** instruction fusion: the decoder cross-attends over the encoded instruction (default false) */
  readonly fusion?: boolean;
  /** fused instruction states; default `lengths.instruction` */
  readonly fusionLength?: number;
  readonly lora?: LoraCost;
  readonly lmHead?: boolean;
}

export interface AdapterCost {
  /** hypernet (+ LoRA merge when merged), paid once per task */
  readonly oncePerTask: number;
  /** one instance with the adapter and the plain input */
  readonly perInstance: number;
  /** oncePerTask / N + perInstance */
  readonly amortisedPerInstance: number;
  /** oncePerTask + N · perInstance */
  readonly total: number;
}

/** (a) Per-instance FLOPs with the instruction concatenated into the input. */
export function concatenatedInstanceFlops(config: T5CostConfig, lengths: InstanceLengths, opts: { lmHead?: boolean } = {}): number {
  const fn = 'concatenatedInstanceFlops';
  checkLength(fn, 'lengths.instruction', lengths?.instruction);
  checkLength(fn, 'lengths.input', lengths.input);
  return t5ForwardFlops(config, {
    encoderLength: lengths.instruction + lengths.input,
    targetLength: lengths.target,
    ...(opts.lmHead === undefined ? {} : { lmHead: opts.lmHead }),
  }).total;
}

/** (b) Instruction -> adapter once, then plain per-instance inference (optionally with fusion). */
export function adapterInstanceCost(config: T5CostConfig, lengths: InstanceLengths, opts: AdapterCostOptions): AdapterCost {
  const fn = 'adapterInstanceCost';
  const c = checkConfig(fn, config);
  checkLength(fn, 'lengths.instruction', lengths?.instruction);
  checkLength(fn, 'lengths.input', lengths.input);
  expectFiniteNumber(fn, 'opts.hypernetFlops', opts?.hypernetFlops, { min: 0 });
  expectFiniteNumber(fn, 'opts.instances', opts.instances, { min: 1, integer: true });
  const prefixLength = opts.fusion ? checkLength(fn, 'opts.fusionLength', opts.fusionLength ?? lengths.instruction) : 0;
  const perInstance = t5ForwardFlops(c, {
    encoderLength: lengths.input,
    targetLength: lengths.target,
    prefixLength,
    ...(opts.lora ? { lora: opts.lora } : {}),
    ...(opts.lmHead === undefined ? {} : { lmHead: opts.lmHead }),
  }).total;
  let merge = 0;
  if (opts.lora?.merged) {
    const { projections, merge: perModule } = loraPerModule(fn, c, opts.lora);
    merge = perModule * projections.size * (c.numLayers + 2 * c.numDecoderLayers);
  }
  const oncePerTask = opts.hypernetFlops + merge;
  return {
    oncePerTask,
    perInstance,
    amortisedPerInstance: oncePerTask / opts.instances + perInstance,
    total: oncePerTask + opts.instances * perInstance,
  };
}

export interface CostComparison {
  /** (a) per instance */
  readonly concatenated: number;
  /** (b) */
  readonly adapter: AdapterCost;
  /** amortised (b) / (a): TAGI reports ×0.39 of Tk-Instruct on SNI */
  readonly relative: number;
}

/** Relative inference cost of the adapter route against instruction concatenation. */
export function compareInstructionCost(config: T5CostConfig, lengths: InstanceLengths, opts: AdapterCostOptions): CostComparison {
  const concatenated = concatenatedInstanceFlops(config, lengths, opts.lmHead === undefined ? {} : { lmHead: opts.lmHead });
  const adapter = adapterInstanceCost(config, lengths, opts);
  return { concatenated, adapter, relative: adapter.amortisedPerInstance / concatenated };
}
