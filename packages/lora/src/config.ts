// peft's LoRA configuration (`adapter_config.json`). Two shapes, as everywhere in TAGI-TS: the
// snake_case JSON object that peft reads and writes, and a camelCase readonly runtime object. One
// parser and one writer convert between them; every problem is reported as `dot.path: message`.

import { type TargetModules, isTargetPattern, targetModulesRegex, targetPatternError } from './target-modules.js';
import { stableJson } from '@tagi/tensor-core';

export type { TargetModules } from './target-modules.js';

/** The camelCase runtime form of peft's `LoraConfig`. */
export interface LoraConfig {
  /** Always 'LORA'; other peft methods are not LoRA and are rejected. */
  readonly peftType: 'LORA';
  /** Rank of the update ΔW = scaling·B·A (A `[r, in]`, B `[out, r]`). */
  readonly r: number;
  /** Numerator of the scaling: alpha / r, or alpha / sqrt(r) with `useRslora`. */
  readonly loraAlpha: number;
  /** Dropout on the adapter branch's input, training only. */
  readonly loraDropout: number;
  /** Regex (full match on the module path) or list (exact name or dotted suffix; an entry with regex syntax is a full-match regex; see target-modules.ts); null = model default. */
  readonly targetModules: TargetModules | null;
  /** Only 'none' is supported (no bias parameters are trained). */
  readonly bias: 'none';
  /** Only false: T5 stores Linear weights `[out, in]` (GPT-2's Conv1D would need true). */
  readonly fanInFanOut: false;
  /** rsLoRA (Kalajdzievski 2023): scaling alpha / sqrt(r), stable across ranks. */
  readonly useRslora: boolean;
  /** peft task type, e.g. 'SEQ_2_SEQ_LM'. */
  readonly taskType: string | null;
  /** Where the base model came from (an HF id or directory); informational. */
  readonly baseModelNameOrPath: string | null;
  /** true when saved for inference (peft freezes the adapter on load). */
  readonly inferenceMode: boolean;
  /** Every other key of the JSON file, kept verbatim (snake_case) and written back. */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** T5's attention query and value projections: peft's default for `model_type` 't5'. */
export const DEFAULT_T5_TARGETS: readonly string[] = ['q', 'v'];

/**
 * The one LoRA default of TAGI-TS, peft's `LoraConfig` defaults (r 8, alpha 8, dropout 0; targets: the
 * model's default). `loraConfig()`, `parseLoraConfig` and the training objectives fall back to it; presets
 * set their own values explicitly.
 */
export const LORA_CONFIG_DEFAULTS = {
  peftType: 'LORA',
  r: 8,
  loraAlpha: 8,
  loraDropout: 0,
  targetModules: null,
  bias: 'none',
  fanInFanOut: false,
  useRslora: false,
  taskType: 'SEQ_2_SEQ_LM',
  baseModelNameOrPath: null,
  inferenceMode: false,
  extra: {},
} as const satisfies LoraConfig;

/** Bad configuration values; `problems` holds one `dot.path: message` per fault. */
export class LoraConfigError extends Error {
  override readonly name = 'LoraConfigError';
  constructor(
    readonly problems: readonly string[],
    readonly source = 'LoraConfig',
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
  }
}

// The JSON keys this package interprets; everything else goes to `extra`.
const KNOWN_KEYS = [
  'peft_type',
  'r',
  'lora_alpha',
  'lora_dropout',
  'target_modules',
  'bias',
  'fan_in_fan_out',
  'use_rslora',
  'task_type',
  'base_model_name_or_path',
  'inference_mode',
] as const;

// peft fields that change the maths when set; silently keeping them would give a different adapter.
const UNSUPPORTED_WHEN_SET: Record<string, (v: unknown) => boolean> = {
  use_dora: (v) => v === true,
  rank_pattern: (v) => v !== null && v !== undefined && !(isPlainObject(v) && Object.keys(v).length === 0),
  alpha_pattern: (v) => v !== null && v !== undefined && !(isPlainObject(v) && Object.keys(v).length === 0),
  lora_bias: (v) => v === true,
  modules_to_save: (v) => Array.isArray(v) && v.length > 0,
  layers_to_transform: (v) => v !== null && v !== undefined,
  exclude_modules: (v) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0),
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNumbers(c: Omit<LoraConfig, 'extra'>, problems: string[], key: (camel: string, snake: string) => string): void {
  if (!Number.isInteger(c.r) || c.r <= 0) problems.push(`${key('r', 'r')}: must be a positive integer, got ${JSON.stringify(c.r)}`);
  if (typeof c.loraAlpha !== 'number' || !Number.isFinite(c.loraAlpha) || c.loraAlpha <= 0) {
    problems.push(`${key('loraAlpha', 'lora_alpha')}: must be a positive number, got ${JSON.stringify(c.loraAlpha)}`);
  }
  if (typeof c.loraDropout !== 'number' || !(c.loraDropout >= 0 && c.loraDropout < 1)) {
    problems.push(`${key('loraDropout', 'lora_dropout')}: must be a number in [0, 1), got ${JSON.stringify(c.loraDropout)}`);
  }
}

function checkTargets(t: unknown, problems: string[], where: string): TargetModules | null {
  if (t === null || t === undefined) return null;
  if (typeof t === 'string') {
    if (t.length === 0) problems.push(`${where}: must not be an empty string`);
    const error = targetPatternError(t);
    if (error !== undefined) problems.push(`${where}: not a valid regular expression (${error})`);
    return t;
  }
  if (Array.isArray(t)) {
    const bad = t.findIndex((x) => typeof x !== 'string' || x.length === 0);
    if (bad >= 0) {
      problems.push(`${where}.${bad}: must be a non-empty module name, got ${JSON.stringify(t[bad])}`);
      return null;
    }
    if (t.length === 0) problems.push(`${where}: must list at least one module name`);
    (t as string[]).forEach((x, i) => {
      const error = isTargetPattern(x) ? targetPatternError(x) : undefined;
      if (error !== undefined) problems.push(`${where}.${i}: not a valid regular expression (${error})`);
    });
    // peft stores a set: order carries no meaning and duplicates collapse.
    return [...new Set(t as string[])].sort();
  }
  problems.push(`${where}: must be a regex string or a list of module names, got ${JSON.stringify(t)}`);
  return null;
}

/**
 * Parses peft's snake_case `adapter_config.json` object. Unknown keys are kept in `extra` (and
 * written back by {@link loraConfigToJson}); fields that would change the maths and are not
 * implemented (DoRA, rank/alpha patterns, …) are rejected rather than ignored.
 */
export function parseLoraConfig(json: unknown, source = 'adapter_config.json'): LoraConfig {
  if (!isPlainObject(json)) throw new LoraConfigError([`<root>: expected a JSON object, got ${JSON.stringify(json)}`], source);
  const problems: string[] = [];
  const get = <T>(k: string, def: T): unknown => (k in json ? json[k] : def);
  const peftType = get('peft_type', 'LORA');
  if (peftType !== 'LORA') problems.push(`peft_type: only 'LORA' is supported, got ${JSON.stringify(peftType)}`);
  const bias = get('bias', 'none');
  if (bias !== 'none') problems.push(`bias: only 'none' is supported, got ${JSON.stringify(bias)}`);
  const fanInFanOut = get('fan_in_fan_out', false);
  if (fanInFanOut !== false) problems.push(`fan_in_fan_out: only false is supported (weights are [out, in]), got ${JSON.stringify(fanInFanOut)}`);
  const bool = (k: string, def: boolean): boolean => {
    const v = get(k, def);
    if (typeof v !== 'boolean') {
      problems.push(`${k}: must be true or false, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const strOrNull = (k: string, def: string | null): string | null => {
    const v = get(k, def);
    if (v !== null && typeof v !== 'string') {
      problems.push(`${k}: must be a string or null, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const base = {
    peftType: 'LORA' as const,
    r: get('r', LORA_CONFIG_DEFAULTS.r) as number,
    loraAlpha: get('lora_alpha', LORA_CONFIG_DEFAULTS.loraAlpha) as number,
    loraDropout: get('lora_dropout', LORA_CONFIG_DEFAULTS.loraDropout) as number,
    targetModules: checkTargets(get('target_modules', null), problems, 'target_modules'),
    bias: 'none' as const,
    fanInFanOut: false as const,
    useRslora: bool('use_rslora', false),
    taskType: strOrNull('task_type', LORA_CONFIG_DEFAULTS.taskType),
    baseModelNameOrPath: strOrNull('base_model_name_or_path', null),
    inferenceMode: bool('inference_mode', false),
  };
  checkNumbers(base, problems, (_c, s) => s);
  for (const [k, isSet] of Object.entries(UNSUPPORTED_WHEN_SET)) {
    if (k in json && isSet(json[k])) problems.push(`${k}: not supported by @tagi/lora, got ${JSON.stringify(json[k])}`);
  }
  if (problems.length > 0) throw new LoraConfigError(problems, source);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!(KNOWN_KEYS as readonly string[]).includes(k)) extra[k] = v;
  return Object.freeze({ ...base, extra: Object.freeze(extra) });
}

/** Options for building a config in code: camelCase, every field optional. */
export type LoraConfigInit = Partial<Omit<LoraConfig, 'peftType' | 'extra'>> & { extra?: Record<string, unknown> };

/** Builds a validated runtime config from camelCase options and the defaults. */
export function loraConfig(init: LoraConfigInit = {}): LoraConfig {
  const json = configJson({ ...LORA_CONFIG_DEFAULTS, ...init, peftType: 'LORA', extra: init.extra ?? {} } as LoraConfig, false);
  try {
    return parseLoraConfig(json, 'loraConfig');
  } catch (e) {
    if (!(e instanceof LoraConfigError)) throw e;
    // Report the camelCase names the caller used.
    const camel = (p: string) => p.replace(/^[a-z_]+/, (k) => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
    throw new LoraConfigError(e.problems.map(camel), 'loraConfig');
  }
}

/**
 * The JSON object peft writes for `config` (snake_case; unknown keys from `extra` included). A
 * `target_modules` list with regex entries is written as the one equivalent regex, which Python peft reads
 * the same way.
 */
export function loraConfigToJson(config: LoraConfig): Record<string, unknown> {
  return configJson(config, true);
}

/** snake_case fields of `config`; `forPeft` rewrites a target list with regex entries as one regex (for files). */
function configJson(config: LoraConfig, forPeft: boolean): Record<string, unknown> {
  const t = config.targetModules;
  const known: Record<string, unknown> = {
    peft_type: config.peftType,
    r: config.r,
    lora_alpha: config.loraAlpha,
    lora_dropout: config.loraDropout,
    // (not for files: the caller's order, so that a problem's index is the caller's; the parser sorts)
    target_modules: t === null ? null : typeof t === 'string' ? t : !forPeft ? [...t] : t.some(isTargetPattern) ? targetModulesRegex(t) : [...t].sort(),
    bias: config.bias,
    fan_in_fan_out: config.fanInFanOut,
    use_rslora: config.useRslora,
    task_type: config.taskType,
    base_model_name_or_path: config.baseModelNameOrPath,
    inference_mode: config.inferenceMode,
  };
  return { ...config.extra, ...known };
}

/** `adapter_config.json` text: sorted keys at every level, 2-space indent, trailing newline. */
export function stringifyLoraConfig(config: LoraConfig): string {
  return stableJson(loraConfigToJson(config));
}

/** Parses `adapter_config.json` text. */
export function parseLoraConfigText(text: string, source = 'adapter_config.json'): LoraConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LoraConfigError([`<root>: not valid JSON (${(e as Error).message})`], source);
  }
  return parseLoraConfig(json, source);
}

/** scaling = alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScaling(config: Pick<LoraConfig, 'r' | 'loraAlpha' | 'useRslora'>): number {
  return config.useRslora ? config.loraAlpha / Math.sqrt(config.r) : config.loraAlpha / config.r;
}
