// The hypernetwork's configuration: a camelCase runtime object and the snake_case `hypernet_config.json`,
// one parser and one writer between them (peft's pattern).
import { type TargetModules, isTargetPattern, targetPatternError } from '@tagi/lora';
import { HypernetConfigError } from './errors.js';

/** How the pooled instruction vector is formed from the encoded instruction. */
export type PoolingKind = 'mean' | 'queries';
/** How the encoded instruction reaches the student beyond the generated adapter. */
export type FusionKind = 'concat' | 'none' | 'cross-attention';
/** Which network encodes instructions. */
export type EncoderKind = 'base' | 'separate';

export interface HypernetConfig {
  /**
   * The Linear layers that receive a generated adapter, in @tagi/lora's target language (peft's
   * `target_modules`, defined in @tagi/lora's target-modules.ts): a string is a regular expression matched
   * against the whole module path (`'.*SelfAttention\\.(q|v)'`); a list holds module names, each selecting
   * the paths equal to it or ending in `.<name>` (`['q', 'v']`); a list entry holding regex syntax is a
   * full-match regex (the form of {@link DEFAULT_TARGETS} and of hypernet_config.json files written before
   * lists of names were accepted).
   * Default: `q` and `v` of encoder self-attention, decoder self-attention and decoder cross-attention (TAGI / HINT).
   */
  readonly targets: TargetModules;
  /** Rank r of every generated adapter (paper: 32). */
  readonly rank: number;
  /**
   * LoRA alpha; scaling = alpha / r. Default = rank (scaling 1), so the generator's output scale is the adapter's.
   * The hypernetwork's own default, deliberately not @tagi/lora's `LORA_CONFIG_DEFAULTS.loraAlpha` (8): a
   * generated adapter has no initialisation that alpha is tuned against (the generator learns the factors'
   * scale), so alpha is only a constant factor on the generator's output, and alpha = r keeps it at 1 for any
   * rank; peft's 8 at the paper's rank 32 would scale every generated ΔW by 1/4. It is the scaling of peft's
   * default (8 / 8 = 1), followed across ranks.
   */
  readonly loraAlpha: number;
  /** Hidden width of the generator MLP. */
  readonly hiddenDim: number;
  /** Width of the learned per-layer/per-module embedding joined with the pooled instruction. */
  readonly moduleEmbeddingDim: number;
  /** `mean`: masked mean over non-padding instruction tokens. `queries`: one learned query per target module attends over the instruction (HINT-style). */
  readonly pooling: PoolingKind;
  /**
   * `concat` (default): encoded instruction prepended to the encoder output for the decoder's cross-attention;
   * `none`: adapter only; `cross-attention`: after every encoder block a trainable cross-attention over the
   * encoded instruction is added to the hidden states (the paper's per-layer fusion; zero at initialisation).
   */
  readonly fusion: FusionKind;
  /** `base` (default): the frozen base T5 encoder encodes instructions (the paper re-uses it). `separate`: a trainable copy of it. */
  readonly encoder: EncoderKind;
  /** Standard deviation of the A-head weights (small: A starts near the instruction-independent bias). */
  readonly aHeadInitStd: number;
  /** Standard deviation of the B-head weights; 0 (default) makes every generated ΔW exactly 0 at initialisation. */
  readonly bHeadInitStd: number;
  /**
   * Longest instruction (tokens, eos included) `generateAdapter`/`generateAdapters` accept; a longer one is an
   * error naming both lengths. Instructions are cut once, by @tagi/datasets' `prepareInstruction` (eos kept).
   */
  readonly maxInstructionLength: number;
}

/** q and v of every attention module of a T5 (encoder self, decoder self, decoder cross). */
export const DEFAULT_TARGETS: readonly string[] = [
  'encoder\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.(q|v)',
  'decoder\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.(q|v)',
  'decoder\\.block\\.\\d+\\.layer\\.1\\.EncDecAttention\\.(q|v)',
];

export const DEFAULT_HYPERNET_CONFIG: HypernetConfig = {
  targets: DEFAULT_TARGETS,
  rank: 32,
  loraAlpha: 32,
  hiddenDim: 256,
  moduleEmbeddingDim: 64,
  pooling: 'mean',
  fusion: 'concat',
  encoder: 'base',
  aHeadInitStd: 1e-3,
  bHeadInitStd: 0,
  maxInstructionLength: 512,
};

/**
 * The fusion-free hypernetwork (`fusion: 'none'`): the generated LoRA is the whole task model. Its exports
 * are plain peft adapters that reproduce the TAGI student exactly (Python `PeftModel.from_pretrained`, or
 * `AdapterSet.merge` for plain-cost inference), and nothing about the instruction is needed at inference.
 * The price is the fusion path (the paper's "w/o fusion" ablation). Spread it into a config:
 * `new HyperNetwork(base, { ...PEFT_ONLY_HYPERNET_CONFIG, rank: 32 })`.
 */
export const PEFT_ONLY_HYPERNET_CONFIG: Partial<HypernetConfig> = Object.freeze({ fusion: 'none' as const });

/** A small preset for tests and the embedded demo (tiny T5s): rank 4, hidden 64. */
export const TINY_HYPERNET_CONFIG: Partial<HypernetConfig> = { rank: 4, loraAlpha: 8, hiddenDim: 64, moduleEmbeddingDim: 16, maxInstructionLength: 128 };

const POOLINGS: readonly PoolingKind[] = ['mean', 'queries'];
const FUSIONS: readonly FusionKind[] = ['concat', 'none', 'cross-attention'];
const ENCODERS: readonly EncoderKind[] = ['base', 'separate'];

/** Defaults + validation of a partial config; every fault reported as `field: message`. */
export function resolveHypernetConfig(partial: Partial<HypernetConfig> = {}, source = 'HypernetConfig'): HypernetConfig {
  const c: HypernetConfig = { ...DEFAULT_HYPERNET_CONFIG, ...partial };
  if (partial.rank !== undefined && partial.loraAlpha === undefined) (c as { loraAlpha: number }).loraAlpha = partial.rank;
  const problems: string[] = [];
  const posInt = (k: keyof HypernetConfig) => {
    const v = c[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) problems.push(`${k}: expected a positive integer, got ${JSON.stringify(v)}`);
  };
  posInt('rank');
  posInt('hiddenDim');
  posInt('moduleEmbeddingDim');
  posInt('maxInstructionLength');
  if (!(typeof c.loraAlpha === 'number' && Number.isFinite(c.loraAlpha) && c.loraAlpha > 0))
    problems.push(`loraAlpha: expected a number > 0, got ${JSON.stringify(c.loraAlpha)}`);
  for (const k of ['aHeadInitStd', 'bHeadInitStd'] as const) {
    if (!(typeof c[k] === 'number' && Number.isFinite(c[k]) && c[k] >= 0)) problems.push(`${k}: expected a number >= 0, got ${JSON.stringify(c[k])}`);
  }
  if (!POOLINGS.includes(c.pooling)) problems.push(`pooling: expected one of ${POOLINGS.join(', ')}, got ${JSON.stringify(c.pooling)}`);
  if (!FUSIONS.includes(c.fusion)) problems.push(`fusion: expected one of ${FUSIONS.join(', ')}, got ${JSON.stringify(c.fusion)}`);
  if (!ENCODERS.includes(c.encoder)) problems.push(`encoder: expected one of ${ENCODERS.join(', ')}, got ${JSON.stringify(c.encoder)}`);
  if (typeof c.targets === 'string') {
    if (c.targets.length === 0) problems.push('targets: expected a non-empty regular expression or a non-empty list of module names');
    else checkRegex(c.targets, 'targets', problems);
  } else if (!Array.isArray(c.targets) || c.targets.length === 0) {
    problems.push('targets: expected a regular expression (string) or a non-empty list of module names (peft target_modules)');
  } else {
    c.targets.forEach((p, i) => {
      if (typeof p !== 'string' || p.length === 0) problems.push(`targets.${i}: expected a non-empty string, got ${JSON.stringify(p)}`);
      else if (isTargetPattern(p)) checkRegex(p, `targets.${i}`, problems);
    });
  }
  if (problems.length > 0) throw new HypernetConfigError(problems, source);
  return Object.freeze({ ...c, targets: typeof c.targets === 'string' ? c.targets : Object.freeze([...c.targets]) });
}

function checkRegex(p: string, where: string, problems: string[]): void {
  const error = targetPatternError(p);
  if (error !== undefined) problems.push(`${where}: invalid regular expression (${error})`);
}

/** Runtime config → the snake_case JSON fields (sorted keys). */
export function hypernetConfigToJson(c: HypernetConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {
    a_head_init_std: c.aHeadInitStd,
    b_head_init_std: c.bHeadInitStd,
    encoder: c.encoder,
    fusion: c.fusion,
    hidden_dim: c.hiddenDim,
    lora_alpha: c.loraAlpha,
    max_instruction_length: c.maxInstructionLength,
    module_embedding_dim: c.moduleEmbeddingDim,
    pooling: c.pooling,
    rank: c.rank,
    targets: typeof c.targets === 'string' ? c.targets : [...c.targets],
  };
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

const JSON_KEYS: Record<string, keyof HypernetConfig> = {
  a_head_init_std: 'aHeadInitStd',
  b_head_init_std: 'bHeadInitStd',
  encoder: 'encoder',
  fusion: 'fusion',
  hidden_dim: 'hiddenDim',
  lora_alpha: 'loraAlpha',
  max_instruction_length: 'maxInstructionLength',
  module_embedding_dim: 'moduleEmbeddingDim',
  pooling: 'pooling',
  rank: 'rank',
  targets: 'targets',
};

/** snake_case JSON → runtime config. Unknown keys are returned in `unknown` (kept, not fatal). */
export function parseHypernetConfig(json: unknown, source = 'hypernet_config.json'): { config: HypernetConfig; unknown: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HypernetConfigError([`(root): expected an object`], source);
  const partial: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(json)) {
    const key = JSON_KEYS[k];
    if (key) partial[key] = v;
    else unknown.push(k);
  }
  return { config: resolveHypernetConfig(partial as Partial<HypernetConfig>, source), unknown };
}
