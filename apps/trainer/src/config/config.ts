// The one configuration of every `tagi` training command: its schema, validated once at the edge (the
// command line, a config file, a run dir's config.json) and trusted afterwards. Every problem is reported
// as `dot.path: message`, unknown keys with a "did you mean" suggestion. Presets and the resolution
// preset → file → overrides are in resolve.ts.
import { PROMPT_LIMITS } from '@tagi/run-dir';
import { z } from 'zod';
import { ConfigError } from '../common/errors.js';
import { didYouMean } from '../common/suggest.js';

const int = (min = 0) => z.number().int().min(min);
const positive = () => z.number().positive();
const nonNegative = () => z.number().min(0);
/**
 * peft's `target_modules`, the one target language end to end: a list of module names (a path equal to
 * the name or ending in `.<name>`), or a string = a regular expression matched against the whole path.
 */
const targetModules = () => z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

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
  /**
   * Examples per forward/backward pass (gradient accumulation inside one update, to bound memory): the
   * update is the whole batch's. Absent: the batch in one pass. Every training stage (base model, LoRA
   * teachers, multitask model, hypernetwork pretraining and finetuning).
   */
  microBatchSize: int(1).optional(),
  /**
   * Recompute each T5 block's activations in the backward pass instead of keeping them (HF Trainer's
   * gradient checkpointing): the activations alive at once are the block inputs plus one block's, for about
   * a third more compute. Absent or false: keep them.
   */
  recompute: z.boolean().optional(),
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
  /** 'embedded' (the default suite shipped in @tagi/datasets) or 'embedded:SUITE', a registered dataset name, or an SNI / P3 directory. */
  data: z.string().min(1),
  /** A hypernet dir: the pretrained one finetune starts from, or the one eval scores; flag --hypernet. */
  hypernetDir: z.string().min(1).optional(),
  /** A peft adapter dir: the multitask (instruction-concatenated) adapter finetune distils from and eval scores. */
  adapter: z.string().min(1).optional(),
  /** Teacher adapters dir of finetune's parameter alignment: one peft dir per category (or task), as `tagi teachers` writes. */
  teachersDir: z.string().min(1).optional(),
  /** Log a metrics line every N updates. */
  logEvery: int(1),
  /** Save a resumable checkpoint every N updates (0: only when stopped by Ctrl-C or SIGTERM). */
  checkpointEvery: int(0),
  // numPos and maxSourceLength bounds are @tagi/run-dir's PROMPT_LIMITS: a reader of the run's config.json checks the same
  prompt: z.strictObject({
    /** Positive examples in the instruction (Tk-Instruct "Def + 2 Pos" = 2). */
    numPos: int(PROMPT_LIMITS.numPos.min).max(PROMPT_LIMITS.numPos.max),
    /** Source tokens: instruction-concatenated inputs, student inputs and the hypernetwork's instruction are cut to this. */
    maxSourceLength: int(PROMPT_LIMITS.maxSourceLength.min),
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
    /**
     * 'analysis' (default): half span corruption over the data's pretraining text, half the data's
     * instruction-free pretraining pairs (embedded suite: input → input, or input → its fixed word-by-word
     * analysis), which give the frozen base the copy, position and word-mapping skills adapters route.
     * 'denoise': span corruption only. 'mixed': span corruption plus input → output of training instances
     * without their instructions. 'multitask': the latter only.
     */
    objective: z.enum(['analysis', 'mixed', 'denoise', 'multitask']),
    train: trainSchema,
  }),
  /** Stage 1: LoRA teachers by instance training. */
  teachers: z.strictObject({
    /**
     * One teacher per 'task' (the paper's) or per 'category'. A task's teacher reads the instance input
     * alone — what TAGI's student reads, so it is also a KD teacher the student can imitate; a category's
     * teacher reads the instruction-concatenated prompt (its tasks differ only in their instruction).
     */
    groupBy: z.enum(['category', 'task']),
    /**
     * Teachers trained together in one run (a bank: every example runs with its own group's LoRA), 0 = all
     * of them at once. Each bank is one stage, and one job on a queue.
     */
    bankSize: int(0),
    /** LoRA rank r of each teacher. */
    rank: int(1),
    /** lora_alpha; scaling = alpha / r. */
    alpha: positive(),
    /** Modules that get a LoRA (peft target_modules). */
    targetModules: targetModules(),
    /** Updates of each bank (batchSize examples of the bank's groups each). */
    train: trainSchema,
  }),
  /** The instruction-concatenated multitask baseline (Tk-Instruct analogue), also the KD teacher. */
  multitask: z.strictObject({
    /** 'lora' on the frozen base (full fine-tuning would need a second copy of the base; not offered). */
    mode: z.enum(['lora']),
    rank: int(1),
    alpha: positive(),
    /** Its own target modules (peft target_modules), independent of the teachers'. */
    targetModules: targetModules(),
    train: trainSchema,
  }),
  hypernet: z.strictObject({
    /** Rank of the generated LoRA. */
    rank: int(1),
    alpha: positive(),
    /** Width of the generator MLP. */
    hiddenDim: int(1),
    /**
     * How the encoded instruction reaches the student besides the adapter: 'concat' (prepended to the
     * encoder output for the decoder's cross-attention), 'cross-attention' (a trainable cross-attention over
     * it after every encoder block, the paper's), 'none' (the generated LoRA alone: its export is a plain
     * peft adapter; preset tiny-peft).
     */
    fusion: z.enum(['concat', 'none', 'cross-attention']),
    /**
     * How the encoded instruction becomes the generator's input: 'mean' (masked mean over its tokens, one
     * vector for every module) or 'queries' (each target module's learned query attends over the tokens, so a
     * module can read the words that concern it).
     */
    pooling: z.enum(['mean', 'queries']),
    /** Modules that get a generated LoRA (peft target_modules). */
    targetModules: targetModules(),
    /** Stage 2: text split a|b|c; token lengths of the segments. */
    pretrain: trainSchema.extend({ segmentA: int(1), segmentB: int(1), segmentC: int(1) }),
    /**
     * Stage 3: instruction → adapter with KD and parameter alignment. tasksPerBatch tasks share each
     * update (batchSize / tasksPerBatch examples each, one generated adapter per task).
     */
    finetune: trainSchema.extend({ tasksPerBatch: int(1) }),
    /** Independent trainings of the hypernetwork stages (pretraining and finetuning) with seeds seed, seed+1, …; the base, teachers and multitask model are trained once. */
    seeds: int(1).max(16),
  }),
  /** Stage 3 objective L = L_ce + λ1·L_kl + λ2·L_ins. */
  distill: z.strictObject({
    temperature: positive(),
    lambdaKl: nonNegative(),
    lambdaIns: nonNegative(),
    alignment: z.enum(['delta', 'factors']),
    /**
     * Whose logits L_kl imitates: 'multitask' (the instruction-concatenated model on the Tk-Instruct
     * prompt), 'teachers' (each task's own LoRA teacher on the input the student reads; needs
     * teachers.groupBy=task), or 'both' (the mean of the two KL terms).
     */
    klTeacher: z.enum(['multitask', 'teachers', 'both']),
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
    /**
     * Evaluation settings, each a column of results.md: 'seen-train' (training tasks, training instances),
     * 'seen-new' (training tasks, fresh instances; datasets that have them), 'heldout' (held-out tasks:
     * the embedded suite's are split into 'heldout-combination' and 'heldout-family').
     */
    splits: z.array(z.enum(['seen-train', 'seen-new', 'heldout'])).min(1),
    /** Training instances per task scored in 'seen-train'. */
    seenTrainInstancesPerTask: int(1),
    /**
     * How a generated adapter is served: 'merged' (W + s·B·A once per task, then the plain batched forward
     * on the task's inputs — what the cost column should measure) or 'unmerged' (per-example LoRA factors,
     * several tasks per batch). The outputs agree (logits within float rounding).
     */
    serving: z.enum(['merged', 'unmerged']),
    /**
     * Control rows that show whether TAGI reads its instruction: each task's adapter generated from another
     * task's instruction of the same setting (a fixed derangement), and from an empty instruction.
     */
    controls: z.boolean(),
  }),
});

export type TagiConfig = z.infer<typeof configSchema>;

/**
 * Config keys a --resume may change: the learning rates and the clipping, what a diverged stage needs
 * (the schedules' positions and every shape stay as saved, so checkpoints still fit).
 */
export function resumeMayChange(key: string): boolean {
  return key === 'optim.maxGradNorm' || key.endsWith('.lr');
}
export type TrainSettings = z.infer<typeof trainSchema>;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

// ---- the schema as a tree of leaves, for dotted keys, coercion and suggestions ----

type LeafKind = 'string' | 'number' | 'boolean' | 'enum' | 'array' | 'targets';
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
  else if (s instanceof z.ZodUnion) out.set(prefix, { kind: 'targets' });
  else out.set(prefix, { kind: 'string' });
}

/** Every settable dotted key and its kind. */
export const CONFIG_KEYS: ReadonlyMap<string, Leaf> = (() => {
  const m = new Map<string, Leaf>();
  collectLeaves(configSchema, '', m);
  return m;
})();

/** Dotted keys including intermediate objects ('base', 'base.train'), for suggestions. */
export const ALL_PATHS: readonly string[] = (() => {
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
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    case 'targets':
      // peft target_modules: `q,v` is a list of module names; a JSON string ("...") is a regex; JSON lists work too
      if (/^\s*["[]/.test(raw)) {
        try {
          return JSON.parse(raw) as Json;
        } catch {
          throw new ConfigError(
            [`${key}: expected a comma-separated list of module names, a JSON list, or a JSON string (a regex), got '${raw}'`],
            'command line',
          );
        }
      }
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    default:
      return raw;
  }
}

export function unknownKeys(obj: JsonObject, prefix: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const full = prefix ? `${prefix}.${k}` : k;
    if (!ALL_PATHS.includes(full)) out.push(full);
    else if (isObject(v) && !CONFIG_KEYS.has(full)) out.push(...unknownKeys(v, full));
  }
  return out;
}

export function setDotted(obj: JsonObject, key: string, value: Json): void {
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
  // relations between keys (the schema checks each key alone)
  const f = r.data.hypernet.finetune;
  if (f.batchSize % f.tasksPerBatch !== 0) {
    throw new ConfigError([`hypernet.finetune.tasksPerBatch: ${f.tasksPerBatch} must divide hypernet.finetune.batchSize (${f.batchSize})`], source);
  }
  const d = r.data.distill;
  if (d.klTeacher !== 'multitask' && r.data.teachers.groupBy !== 'task') {
    throw new ConfigError(
      [
        `distill.klTeacher: '${d.klTeacher}' imitates each task's own teacher on the student's input, which needs teachers.groupBy 'task' (got '${r.data.teachers.groupBy}'); or use 'multitask'`,
      ],
      source,
    );
  }
  return r.data;
}

/**
 * The config of a prompt setting with `numPos` demonstrations when not the config's (the Def+2Pos setting of
 * `tagi experiment paper`): the source budget grows with the demonstrations, ×(1 + numPos)/(1 + the config's),
 * so a preset sized for "Def" does not cut the added demonstrations away (the tiny preset's 64 tokens cut every
 * Def+2Pos prompt of the embedded suite). The config itself when the setting is its own.
 */
export function withNumPos(c: TagiConfig, numPos: number | undefined): TagiConfig {
  if (numPos === undefined || numPos === c.prompt.numPos) return c;
  const maxSourceLength = Math.max(c.prompt.maxSourceLength, Math.ceil((c.prompt.maxSourceLength * (1 + numPos)) / (1 + c.prompt.numPos)));
  return { ...c, prompt: { ...c.prompt, numPos, maxSourceLength } };
}
