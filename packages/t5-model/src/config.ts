// T5 configuration: the snake_case HF `config.json` and the camelCase readonly runtime object, with one
// parser and one writer between them.

/** Activations HF's `ACT2FN` offers that a T5 feed-forward may name. */
export const T5_ACTIVATIONS = [
  'relu',
  'gelu',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'quick_gelu',
  'silu',
  'swish',
  'tanh',
  'sigmoid',
  'relu6',
] as const;
export type T5Activation = (typeof T5_ACTIVATIONS)[number];

export interface T5Config {
  /** Rows of the shared embedding (and of `lm_head`). */
  readonly vocabSize: number;
  /** Hidden size of every residual stream. */
  readonly dModel: number;
  /** Size of one attention head (q/k/v project to numHeads·dKv, which need not equal dModel). */
  readonly dKv: number;
  /** Inner size of the feed-forward block. */
  readonly dFf: number;
  /** Encoder blocks. */
  readonly numLayers: number;
  /** Decoder blocks; HF defaults it to numLayers when absent. */
  readonly numDecoderLayers: number;
  readonly numHeads: number;
  /** Buckets of the learned relative position bias (half per direction in the encoder). */
  readonly relativeAttentionNumBuckets: number;
  /** Distances at or beyond this share the last bucket. */
  readonly relativeAttentionMaxDistance: number;
  readonly dropoutRate: number;
  readonly layerNormEpsilon: number;
  /** The raw HF string, e.g. 'relu' (v1.0) or 'gated-gelu' (v1.1 / LM-adapt). */
  readonly feedForwardProj: string;
  /** Activation of the feed-forward block; HF maps 'gated-gelu' to 'gelu_new' for backward compatibility. */
  readonly denseActFn: T5Activation;
  /** Gated feed-forward (`wi_0`, `wi_1`) instead of a single `wi`. */
  readonly isGatedAct: boolean;
  /**
   * The LM head is `shared.weight` (no separate `lm_head`). In a file, absent means true (T5 v1.0).
   * transformers 4 read `false` as "separate head, no rescaling"; transformers 5 writes `true` for every T5
   * and decides by the checkpoint (a separate `lm_head.weight` that differs from `shared.weight` is kept):
   * a loaded model's config says what the checkpoint held (see `fromPretrained`).
   */
  readonly tieWordEmbeddings: boolean;
  /**
   * Multiply the decoder output by dModel**-0.5 before the LM head (T5 v1.0 did, v1.1 / LM-adapt do not).
   * transformers 5's `scale_decoder_outputs`; absent in a file, it is `tie_word_embeddings` (transformers 4's rule).
   */
  readonly scaleDecoderOutputs: boolean;
  readonly padTokenId: number;
  readonly eosTokenId: number;
  readonly decoderStartTokenId: number;
  readonly initializerFactor: number;
  /** Unknown keys, kept so the file round-trips. */
  readonly extra: Readonly<Record<string, unknown>>;
}

export class T5ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source = 'config.json') {
    super(`invalid T5 config (${source}):\n  ${problems.join('\n  ')}`);
    this.name = 'T5ConfigError';
    this.problems = problems;
  }
}

const KNOWN_KEYS = new Set([
  'vocab_size',
  'd_model',
  'd_kv',
  'd_ff',
  'num_layers',
  'num_decoder_layers',
  'num_heads',
  'relative_attention_num_buckets',
  'relative_attention_max_distance',
  'dropout_rate',
  'layer_norm_epsilon',
  'feed_forward_proj',
  'dense_act_fn',
  'is_gated_act',
  'tie_word_embeddings',
  'scale_decoder_outputs',
  'pad_token_id',
  'eos_token_id',
  'decoder_start_token_id',
  'initializer_factor',
]);

/** HF's rule: '<act>' or 'gated-<act>'; anything with more dashes or another prefix is rejected. */
export function parseFeedForwardProj(proj: string): { act: T5Activation; gated: boolean } | string {
  const parts = proj.split('-');
  const gated = parts[0] === 'gated' && parts.length === 2;
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'gated')) {
    return `'${proj}' is not '<act>' or 'gated-<act>'`;
  }
  let act = parts[parts.length - 1] as string;
  if (proj === 'gated-gelu') act = 'gelu_new';
  if (!(T5_ACTIVATIONS as readonly string[]).includes(act)) {
    return `unknown activation '${act}' in '${proj}' (expected one of ${T5_ACTIVATIONS.join(', ')})`;
  }
  return { act: act as T5Activation, gated };
}

/** Parse an HF `config.json` object; every bad field is named in one `T5ConfigError`. */
export function parseT5Config(json: unknown, source = 'config.json'): T5Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new T5ConfigError(['(root): expected a JSON object'], source);
  }
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  const int = (key: string, def: number | undefined, min = 1): number => {
    const v = o[key] ?? def;
    if (v === undefined) {
      problems.push(`${key}: required`);
      return 0;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problems.push(`${key}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
      return 0;
    }
    return v;
  };
  const num = (key: string, def: number, lo: number, hi: number): number => {
    const v = o[key] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      problems.push(`${key}: expected a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = o[key] ?? def;
    if (typeof v !== 'boolean') {
      problems.push(`${key}: expected a boolean, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const vocabSize = int('vocab_size', 32128);
  const dModel = int('d_model', 512);
  const dKv = int('d_kv', 64);
  const dFf = int('d_ff', 2048);
  const numLayers = int('num_layers', 6);
  const numDecoderLayers = int('num_decoder_layers', o['num_layers'] === undefined ? 6 : numLayers);
  const numHeads = int('num_heads', 8);
  const relativeAttentionNumBuckets = int('relative_attention_num_buckets', 32, 2);
  const relativeAttentionMaxDistance = int('relative_attention_max_distance', 128, 1);
  const dropoutRate = num('dropout_rate', 0.1, 0, 1 - 1e-9);
  const layerNormEpsilon = num('layer_norm_epsilon', 1e-6, 0, 1);
  const initializerFactor = num('initializer_factor', 1, 0, Number.MAX_VALUE);
  const tieWordEmbeddings = bool('tie_word_embeddings', true);
  const scaleDecoderOutputs = bool('scale_decoder_outputs', tieWordEmbeddings);
  const padTokenId = int('pad_token_id', 0, 0);
  const eosTokenId = int('eos_token_id', 1, 0);
  const decoderStartTokenId = int('decoder_start_token_id', padTokenId, 0);
  const ffRaw = o['feed_forward_proj'] ?? 'relu';
  let feedForwardProj = 'relu';
  let denseActFn: T5Activation = 'relu';
  let isGatedAct = false;
  if (typeof ffRaw !== 'string') {
    problems.push(`feed_forward_proj: expected a string, got ${JSON.stringify(ffRaw)}`);
  } else {
    const parsed = parseFeedForwardProj(ffRaw);
    if (typeof parsed === 'string') problems.push(`feed_forward_proj: ${parsed}`);
    else {
      feedForwardProj = ffRaw;
      denseActFn = parsed.act;
      isGatedAct = parsed.gated;
    }
  }
  for (const [key, id] of [
    ['pad_token_id', padTokenId],
    ['eos_token_id', eosTokenId],
    ['decoder_start_token_id', decoderStartTokenId],
  ] as const) {
    if (vocabSize > 0 && id >= vocabSize) problems.push(`${key}: ${id} is not below vocab_size ${vocabSize}`);
  }
  if (problems.length > 0) throw new T5ConfigError(problems, source);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!KNOWN_KEYS.has(k)) extra[k] = v;
  return Object.freeze({
    vocabSize,
    dModel,
    dKv,
    dFf,
    numLayers,
    numDecoderLayers,
    numHeads,
    relativeAttentionNumBuckets,
    relativeAttentionMaxDistance,
    dropoutRate,
    layerNormEpsilon,
    feedForwardProj,
    denseActFn,
    isGatedAct,
    tieWordEmbeddings,
    scaleDecoderOutputs,
    padTokenId,
    eosTokenId,
    decoderStartTokenId,
    initializerFactor,
    extra: Object.freeze(extra),
  });
}

/** Build a runtime config from camelCase overrides of the HF defaults (validated like a file). */
export function makeT5Config(overrides: Partial<Omit<T5Config, 'extra' | 'denseActFn' | 'isGatedAct'>> = {}): T5Config {
  const snake: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(overrides)) snake[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return parseT5Config(snake, 'makeT5Config');
}

/**
 * How the LM head goes into an HF directory so that transformers 4 and 5 both rebuild the same model.
 * transformers 4 knows one switch, `tie_word_embeddings` (true = head is `shared` AND the decoder output is
 * rescaled; false = separate `lm_head.weight`, no rescaling); transformers 5 reads `scale_decoder_outputs`
 * for the rescaling and ties the head unless the file holds an `lm_head.weight` that differs from
 * `shared.weight`. Declared as data, one row per runtime combination.
 */
export interface HfHeadLayout {
  /** The `tie_word_embeddings` value written. */
  readonly tieWordEmbeddings: boolean;
  /** The `scale_decoder_outputs` value written (transformers 5 reads it; 4 ignores it). */
  readonly scaleDecoderOutputs: boolean;
  /** 'own': the model's lm_head; 'copy-of-shared': shared.weight again (transformers 4 needs a head, 5 re-ties equal ones); 'none'. */
  readonly lmHeadInFile: 'own' | 'copy-of-shared' | 'none';
  /** Whether transformers 4 rebuilds this model exactly (it cannot express a separate head with rescaling). */
  readonly transformers4: boolean;
}

export function hfHeadLayout(c: Pick<T5Config, 'tieWordEmbeddings' | 'scaleDecoderOutputs'>): HfHeadLayout {
  if (c.tieWordEmbeddings && c.scaleDecoderOutputs) return { tieWordEmbeddings: true, scaleDecoderOutputs: true, lmHeadInFile: 'none', transformers4: true }; // T5 v1.0
  if (c.tieWordEmbeddings) return { tieWordEmbeddings: false, scaleDecoderOutputs: false, lmHeadInFile: 'copy-of-shared', transformers4: true }; // v1.1 made by transformers 5
  if (!c.scaleDecoderOutputs) return { tieWordEmbeddings: false, scaleDecoderOutputs: false, lmHeadInFile: 'own', transformers4: true }; // v1.1 / LM-adapt
  return { tieWordEmbeddings: false, scaleDecoderOutputs: true, lmHeadInFile: 'own', transformers4: false };
}

/**
 * Fields transformers 5's T5Config types as `float` (or `float | int`): written with a decimal point, because
 * `@strict` rejects an int for a float field and JSON from JS writes 1.0 as `1` (checked against
 * `__fixtures__/transformers5/t5config-fields.json` by the tests).
 */
export const T5_FLOAT_FIELDS: ReadonlySet<string> = new Set(['dropout_rate', 'layer_norm_epsilon', 'initializer_factor', 'classifier_dropout']);

/**
 * The HF `config.json` object: sorted keys, unknown keys preserved, HF's derived fields included, the head
 * fields as {@link hfHeadLayout} says. Numbers are JS numbers: write it with {@link stringifyT5Config}.
 */
export function t5ConfigToJson(c: T5Config): Record<string, unknown> {
  const head = hfHeadLayout(c);
  const o: Record<string, unknown> = {
    ...c.extra,
    vocab_size: c.vocabSize,
    d_model: c.dModel,
    d_kv: c.dKv,
    d_ff: c.dFf,
    num_layers: c.numLayers,
    num_decoder_layers: c.numDecoderLayers,
    num_heads: c.numHeads,
    relative_attention_num_buckets: c.relativeAttentionNumBuckets,
    relative_attention_max_distance: c.relativeAttentionMaxDistance,
    dropout_rate: c.dropoutRate,
    layer_norm_epsilon: c.layerNormEpsilon,
    feed_forward_proj: c.feedForwardProj,
    dense_act_fn: c.denseActFn,
    is_gated_act: c.isGatedAct,
    tie_word_embeddings: head.tieWordEmbeddings,
    scale_decoder_outputs: head.scaleDecoderOutputs,
    pad_token_id: c.padTokenId,
    eos_token_id: c.eosTokenId,
    decoder_start_token_id: c.decoderStartTokenId,
    initializer_factor: c.initializerFactor,
  };
  // the weights are float32 whatever the source file held (transformers ≥ 4.56 reads `dtype`, older `torch_dtype`)
  o['dtype'] = 'float32';
  if (o['torch_dtype'] !== undefined) o['torch_dtype'] = 'float32';
  if (o['model_type'] === undefined) o['model_type'] = 't5';
  if (o['is_encoder_decoder'] === undefined) o['is_encoder_decoder'] = true;
  if (o['architectures'] === undefined) o['architectures'] = ['T5ForConditionalGeneration'];
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

/** A JSON number as Python's json module writes a float: always with a fraction or exponent. */
function pythonFloat(x: number): string {
  const s = JSON.stringify(x);
  return /[.eE]/.test(s) || !Number.isFinite(x) ? s : `${s}.0`;
}

/**
 * `config.json` text that transformers 4 and 5 both load: 2-space indent, sorted keys, float fields
 * ({@link T5_FLOAT_FIELDS}) written as floats (`1.0`, not `1`), a trailing newline.
 */
export function stringifyT5Config(c: T5Config): string {
  const o = t5ConfigToJson(c);
  const lines = Object.keys(o).map((k) => {
    const v = o[k];
    const text = T5_FLOAT_FIELDS.has(k) && typeof v === 'number' ? pythonFloat(v) : JSON.stringify(v, null, 2).replace(/\n/g, '\n  ');
    return `  ${JSON.stringify(k)}: ${text}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** The runtime config namespace the contract names (`T5Config.fromJson`). */
export const T5Config = {
  fromJson: parseT5Config,
  toJson: t5ConfigToJson,
  stringify: stringifyT5Config,
  make: makeT5Config,
} as const;
