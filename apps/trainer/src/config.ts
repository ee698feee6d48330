// The one configuration of every `tagi` command: a preset, then a config file, then `--key=value`
// overrides (dotted keys), validated once by one schema. Every problem is reported as `dot.path: message`,
// unknown keys with a "did you mean" suggestion. The resolved config is saved in the run dir.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, CliError } from './errors.js';
import { PRESETS, PRESET_NAMES } from './presets.js';
import { didYouMean } from './suggest.js';

const int = (min = 0) => z.number().int().min(min);
const positive = () => z.number().positive();
const nonNegative = () => z.number().min(0);

/** One training run's optimisation settings (steps are optimiser updates). */
const trainSchema = z.strictObject({
  /** Optimiser updates. */
  steps: int(0),
  /** Examples per update. */
  batchSize: int(1),
  /** Peak learning rate. */
  lr: positive(),
  /** Linear warmup updates before the schedule. */
  warmupSteps: int(0),
});

export const configSchema = z.strictObject({
  /** Name of the preset this config started from. */
  preset: z.string(),
  /** Seed of every random choice: initial weights, data order, dropout. */
  seed: int(0),
  /** tfjs backend: auto tries tensorflow (native), then wasm, then cpu. */
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']),
  /** Run directory (default runs/<name or timestamp>). */
  runDir: z.string().min(1).optional(),
  /** Run name used for the default run dir. */
  name: z.string().min(1).optional(),
  /** A Hugging Face T5 directory (config.json + safetensors + tokenizer). Absent: the demo pretrains a small base. */
  model: z.string().min(1).optional(),
  /** 'embedded' (the suite shipped in @tagi/datasets), a registered dataset name, or an SNI / P3 directory. */
  data: z.string().min(1),
  /** A hypernet dir (eval, generate); flag --hypernet. */
  hypernetDir: z.string().min(1).optional(),
  /** A peft adapter dir (eval with a fixed adapter). */
  adapter: z.string().min(1).optional(),
  /** Teacher adapters dir (finetune: one peft dir per category/task). */
  teachersDir: z.string().min(1).optional(),
  /** The instruction text (generate). */
  instruction: z.string().min(1).optional(),
  /** Output directory (generate: the peft adapter dir). */
  out: z.string().min(1).optional(),
  /** Log a metrics line every N updates. */
  logEvery: int(1),
  /** Save a resumable checkpoint every N updates (0: only at the end of a stage and on Ctrl-C). */
  checkpointEvery: int(0),
  prompt: z.strictObject({
    /** Positive examples in the instruction (Tk-Instruct "Def + 2 Pos" = 2). */
    numPos: int(0).max(8),
    /** Source tokens (instruction-concatenated inputs are truncated to this). */
    maxSourceLength: int(8),
    /** Target tokens (and generation length). */
    maxTargetLength: int(1),
    /** Training instances per task. */
    maxInstancesPerTask: int(1),
    /** Evaluation instances per held-out task (SNI: 100). */
    maxEvalInstancesPerTask: int(1),
  }),
  /** The base T5 the demo pretrains when no --model is given. */
  base: z.strictObject({
    dModel: int(8),
    dKv: int(2),
    numHeads: int(1),
    dFf: int(8),
    numLayers: int(1),
    numDecoderLayers: int(1),
    feedForwardProj: z.enum(['relu', 'gated-gelu']),
    relativeAttentionNumBuckets: int(2),
    relativeAttentionMaxDistance: int(2),
    dropoutRate: nonNegative().max(0.9),
    /** Keep only the token ids the suite uses (smaller embedding and softmax). */
    pruneVocab: z.boolean(),
    /** 'mixed': span-corruption denoising on the suite's texts plus multitask on training instances without instructions. */
    objective: z.enum(['mixed', 'denoise', 'multitask']),
    train: trainSchema,
  }),
  /** Stage 1: LoRA teachers by instance training. */
  teachers: z.strictObject({
    groupBy: z.enum(['category', 'task']),
    rank: int(1),
    alpha: positive(),
    targetModules: z.array(z.string().min(1)).min(1),
    train: trainSchema,
  }),
  /** The instruction-concatenated multitask baseline (Tk-Instruct analogue), also the KD teacher. */
  multitask: z.strictObject({
    /** 'lora' on the frozen base (full fine-tuning would need a second copy of the base; not offered). */
    mode: z.enum(['lora']),
    rank: int(1),
    alpha: positive(),
    train: trainSchema,
  }),
  hypernet: z.strictObject({
    rank: int(1),
    alpha: positive(),
    hiddenDim: int(1),
    fusion: z.enum(['concat', 'none']),
    targetModules: z.array(z.string().min(1)).min(1),
    /** Stage 2: text split a|b|c; token lengths of the segments. */
    pretrain: trainSchema.extend({ segmentA: int(1), segmentB: int(1), segmentC: int(1) }),
    /** Stage 3: instruction → adapter with KD and parameter alignment. */
    finetune: trainSchema,
  }),
  /** Stage 3 objective L = L_ce + λ1·L_kl + λ2·L_ins. */
  distill: z.strictObject({
    temperature: positive(),
    lambdaKl: nonNegative(),
    lambdaIns: nonNegative(),
    alignment: z.enum(['delta', 'factors']),
  }),
  optim: z.strictObject({
    optimizer: z.enum(['adamw', 'adafactor']),
    weightDecay: nonNegative(),
    maxGradNorm: nonNegative(),
    schedule: z.enum(['constant', 'linear', 'cosine']),
  }),
  eval: z.strictObject({
    batchSize: int(1),
    numBeams: int(1),
  }),
});

export type TagiConfig = z.infer<typeof configSchema>;
export type TrainSettings = z.infer<typeof trainSchema>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

// ---- the schema as a tree of leaves, for dotted keys, coercion and suggestions ----

type LeafKind = 'string' | 'number' | 'boolean' | 'enum' | 'array';
interface Leaf {
  kind: LeafKind;
  values?: readonly string[];
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
  return cur;
}

function collectLeaves(schema: z.ZodType, prefix: string, out: Map<string, Leaf>): void {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) collectLeaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (s instanceof z.ZodNumber) out.set(prefix, { kind: 'number' });
  else if (s instanceof z.ZodBoolean) out.set(prefix, { kind: 'boolean' });
  else if (s instanceof z.ZodEnum) out.set(prefix, { kind: 'enum', values: s.options as string[] });
  else if (s instanceof z.ZodArray) out.set(prefix, { kind: 'array' });
  else out.set(prefix, { kind: 'string' });
}

/** Every settable dotted key and its kind. */
export const CONFIG_KEYS: ReadonlyMap<string, Leaf> = (() => {
  const m = new Map<string, Leaf>();
  collectLeaves(configSchema, '', m);
  return m;
})();

/** Dotted keys including intermediate objects ('base', 'base.train'), for suggestions. */
const ALL_PATHS: readonly string[] = (() => {
  const s = new Set<string>();
  for (const k of CONFIG_KEYS.keys()) {
    const parts = k.split('.');
    for (let i = 1; i <= parts.length; i++) s.add(parts.slice(0, i).join('.'));
  }
  return [...s];
})();

/** `run-dir` → `runDir`, per dotted segment. */
export function kebabToCamel(key: string): string {
  return key
    .split('.')
    .map((seg) => seg.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
    .join('.');
}

/** Converts a command-line string to the kind the schema expects at `key` (the schema then validates it). */
export function coerceValue(key: string, raw: string): Json {
  const leaf = CONFIG_KEYS.get(key);
  if (leaf === undefined) throw new ConfigError([`${key}: unknown key${didYouMean(key, ALL_PATHS)}`], 'command line');
  switch (leaf.kind) {
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError([`${key}: expected a number, got '${raw}'`], 'command line');
      return n;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError([`${key}: expected true or false, got '${raw}'`], 'command line');
    case 'array':
      if (raw.trim().startsWith('[')) {
        try {
          return JSON.parse(raw) as Json;
        } catch {
          throw new ConfigError([`${key}: expected a JSON array or a comma-separated list, got '${raw}'`], 'command line');
        }
      }
      return raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
    default:
      return raw;
  }
}

function unknownKeys(obj: JsonObject, prefix: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const full = prefix ? `${prefix}.${k}` : k;
    if (!ALL_PATHS.includes(full)) out.push(full);
    else if (isObject(v) && !CONFIG_KEYS.has(full)) out.push(...unknownKeys(v, full));
  }
  return out;
}

function setDotted(obj: JsonObject, key: string, value: Json): void {
  const parts = key.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (!isObject(next)) cur[p] = {};
    cur = cur[p] as JsonObject;
  }
  cur[parts[parts.length - 1] as string] = value;
}

function formatIssues(error: z.ZodError): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const full = at ? `${at}.${k}` : k;
        lines.push(`${full}: unknown key${didYouMean(full, ALL_PATHS)}`);
      }
    } else {
      lines.push(`${at || '(root)'}: ${issue.message}`);
    }
  }
  return lines;
}

/** Validates a plain object as a complete config; throws ConfigError listing every problem. */
export function validateConfig(obj: unknown, source: string): TagiConfig {
  const r = configSchema.safeParse(obj);
  if (!r.success) throw new ConfigError(formatIssues(r.error), source);
  return r.data;
}

export function presetConfig(name: string): JsonObject {
  const p = PRESETS[name];
  if (p === undefined) throw new CliError(`unknown preset '${name}'${didYouMean(name, PRESET_NAMES)}; expected one of ${PRESET_NAMES.join(', ')}`);
  return structuredClone(p) as unknown as JsonObject;
}

export interface ResolveOptions {
  /** --preset (otherwise the config file's preset, otherwise defaultPreset). */
  preset?: string;
  /** --config file.json */
  configFile?: string;
  /** `--key=value` overrides, keys dotted camelCase, values raw strings. */
  overrides?: readonly (readonly [string, string])[];
  defaultPreset?: string;
}

/** preset → config file → overrides, validated by the schema. */
export function resolveConfig(opts: ResolveOptions): TagiConfig {
  let fileObj: JsonObject | undefined;
  if (opts.configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.configFile, 'utf8');
    } catch (e) {
      throw new CliError(`--config: cannot read '${opts.configFile}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CliError(`--config: '${opts.configFile}' is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObject(parsed)) throw new CliError(`--config: '${opts.configFile}' must hold a JSON object`);
    fileObj = parsed;
  }
  const presetName =
    opts.preset ?? (fileObj !== undefined && typeof fileObj['preset'] === 'string' ? fileObj['preset'] : undefined) ?? opts.defaultPreset ?? 'tiny';
  let merged = presetConfig(presetName);
  if (fileObj !== undefined) {
    // the file's unknown keys are reported against the file, before merging
    const unknown = unknownKeys(fileObj, '').map((k) => `${k}: unknown key${didYouMean(k, ALL_PATHS)}`);
    if (unknown.length > 0) throw new ConfigError(unknown, opts.configFile ?? 'config file');
    merged = deepMerge(merged, fileObj);
  }
  merged['preset'] = presetName;
  for (const [key, raw] of opts.overrides ?? []) setDotted(merged, key, coerceValue(key, raw));
  return validateConfig(merged, opts.configFile ?? 'command line');
}

/** Deterministic JSON: sorted keys, 2 spaces, trailing newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]));
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}
