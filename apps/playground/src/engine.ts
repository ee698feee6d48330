// The model side of the playground, running in this Node process. It opens a run dir (or an HF T5
// dir), finds its checkpoints, and serves the three models of the Try page. Packages that have not
// shipped an API yet make their model "unavailable" with the reason, never a made-up output.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, initBackend } from '@tagi/tensor-core';
import { PRUNED_VOCAB_FILE, PrunedTokenizer, parseT5Config, T5ConfigError } from '@tagi/t5-model';
import { DEFAULT_TOKENIZER_DIR, T5ForConditionalGeneration, loadDefaultT5Tokenizer, loadT5Tokenizer, loadVocabMap } from '@tagi/t5-model/node';
import { formatDefinition, formatTaskInput } from '@tagi/datasets';
import { type AdapterSet, stringifyLoraConfig } from '@tagi/lora';
import { HYPERNET_CONFIG_FILE, HYPERNET_WEIGHTS_FILE, type HyperNetwork, type TaskAdapter } from '@tagi/hypernet';
import { loadHypernet } from '@tagi/hypernet/node';
import { loadAdapter } from '@tagi/lora/node';
import { serializeSafetensors } from '@tagi/tensor-core';
import type {
  AdapterDiffModule,
  GeneratedAdapterInfo,
  InPageFiles,
  ModelName,
  ModelRunResult,
  ModelSetInfo,
  ModelSlot,
  PlaygroundEngine,
  SuiteExample,
} from './engine-types';
import { HttpError } from './http';
import { type GeneratedTexts, type Logits, type RunLimits, type TextTokenizer, generateTaskAdapter, runPlain, runTagi, tagiLogits } from './model-runner';
import { type CheckpointInfo, checkpointKind, findCheckpoints, isRunDir } from './runs';

export interface TagiEngineOptions {
  readonly maxInstructionTokens?: number;
  readonly maxInputTokens?: number;
  readonly maxNewTokens?: number;
  readonly backend?: string;
  /** Generated adapters kept for export and comparison (oldest dropped first). */
  readonly keepAdapters?: number;
  /**
   * Called with every checkpoint dir before its files are read; throws to refuse it. The server passes
   * a check that every file resolves under its roots (a `config.json -> /etc/…` symlink is refused).
   */
  readonly checkDir?: (dir: string) => void;
}

/** Thrown for a checkpoint that cannot be used; the page shows the message. */
export class CheckpointError extends Error {
  constructor(
    readonly dir: string,
    readonly fault: string,
  ) {
    super(`${dir}: ${fault}`);
    this.name = 'CheckpointError';
  }
}

// Which checkpoint dir of a run plays which role, by the names `tagi demo` gives them. Declared as
// data so a new layout is one line here.
const CONCAT_NAME = /concat|multitask|tk-?instruct/i;
const TEACHER_NAME = /teacher/i;
/** Order of preference among hypernet dirs: the finetuned TAGI one, then others, then HINT-like, then pretrained only. */
function hypernetRank(rel: string): number {
  if (/pretrain/i.test(rel)) return 3;
  if (/hint|no-?distill|without/i.test(rel)) return 2;
  if (/tagi/i.test(rel)) return 0;
  return 1;
}

interface LoadedT5 {
  readonly dir: string;
  readonly model: T5ForConditionalGeneration;
  readonly tokenizer: TextTokenizer;
}

interface StoredAdapter {
  readonly id: string;
  readonly dir: string;
  readonly instruction: string;
  readonly task: TaskAdapter;
  readonly hypernetDir: string;
  readonly fusion: string;
}

interface ModelPlan {
  readonly info: ModelSetInfo;
  readonly checkpoints: CheckpointInfo[];
  readonly tokenizer: TextTokenizer;
}

/**
 * The concatenated prompt of the instruction-concatenated baseline: Tk-Instruct's "Definition: …"
 * block (kept as typed when the instruction already is one, as the suite's examples are) + the input.
 */
export function concatenatedInput(instruction: string, input: string): string {
  const def = /^\s*Definition:/.test(instruction) ? `${instruction.trimEnd()}\n\n` : formatDefinition(instruction);
  return def + formatTaskInput(input);
}

async function tokenizerFor(dir: string): Promise<TextTokenizer> {
  const full = fs.existsSync(path.join(dir, 'tokenizer.json')) ? loadT5Tokenizer(dir) : loadDefaultT5Tokenizer();
  const vocab = await loadVocabMap(dir);
  return vocab ? new PrunedTokenizer(full, vocab) : full;
}

/** The files tokenizerFor reads for a base model dir (the in-page runner fetches the same ones). */
function tokenizerFiles(dir: string): { tokenizer: string; tokenizerConfig: string | null; vocab: string | null } {
  const own = fs.existsSync(path.join(dir, 'tokenizer.json'));
  const tdir = own ? dir : DEFAULT_TOKENIZER_DIR;
  const cfg = path.join(tdir, 'tokenizer_config.json');
  const vocab = path.join(dir, PRUNED_VOCAB_FILE);
  return { tokenizer: path.join(tdir, 'tokenizer.json'), tokenizerConfig: fs.existsSync(cfg) ? cfg : null, vocab: fs.existsSync(vocab) ? vocab : null };
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(path.dirname(file), `${path.basename(file)} is not readable JSON (${(e as Error).message})`);
  }
}

/** Checks an HF T5 dir's config.json with the t5-model parser; the error names every bad key. */
function checkT5Dir(dir: string): void {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new CheckpointError(dir, 'no config.json: not an HF T5 dir');
  try {
    parseT5Config(readJson(file), file);
  } catch (e) {
    if (e instanceof T5ConfigError) throw new CheckpointError(dir, e.message);
    throw e;
  }
  if (!fs.existsSync(path.join(dir, 'model.safetensors')) && !fs.existsSync(path.join(dir, 'model.safetensors.index.json'))) {
    throw new CheckpointError(dir, 'no model.safetensors or model.safetensors.index.json');
  }
}

function pickBase(cps: CheckpointInfo[]): CheckpointInfo | undefined {
  const t5 = cps.filter((c) => c.kind === 't5' && !CONCAT_NAME.test(c.rel));
  return t5.find((c) => /base/i.test(c.rel)) ?? t5[0];
}

export class TagiEngine implements PlaygroundEngine {
  private readonly maxInstructionTokens: number;
  private readonly maxInputTokens: number;
  private readonly maxNewTokens: number;
  private readonly plans = new Map<string, Promise<ModelPlan>>();
  private readonly models = new Map<string, Promise<LoadedT5>>();
  private readonly hypernets = new Map<string, Promise<HyperNetwork>>();
  private readonly peftAdapters = new Map<string, Promise<AdapterSet>>();
  private readonly adapters = new Map<string, StoredAdapter>();
  private nextAdapter = 1;
  private backend: Promise<string> | undefined;

  constructor(private readonly opts: TagiEngineOptions = {}) {
    this.maxInstructionTokens = opts.maxInstructionTokens ?? 512;
    this.maxInputTokens = opts.maxInputTokens ?? 512;
    this.maxNewTokens = opts.maxNewTokens ?? 32;
  }

  private initBackend(): Promise<string> {
    this.backend ??= initBackend({ backend: (this.opts.backend ?? 'auto') as 'auto' }).then((r) => r.backend);
    return this.backend;
  }

  private async makePlan(dir: string): Promise<ModelPlan> {
    const kind = checkpointKind(dir);
    const run = isRunDir(dir);
    if (!run && kind !== 't5') {
      throw new CheckpointError(dir, 'neither a run dir (metrics.jsonl / results.json / results.md) nor an HF T5 dir (config.json + model.safetensors)');
    }
    const checkpoints = run ? findCheckpoints(dir) : [{ kind: 't5' as const, dir, rel: '' }];
    for (const c of checkpoints) this.opts.checkDir?.(c.dir);
    const base = pickBase(checkpoints);
    if (base) checkT5Dir(base.dir);
    const hypernet = checkpoints.filter((c) => c.kind === 'hypernet').sort((a, b) => hypernetRank(a.rel) - hypernetRank(b.rel))[0];
    const concat = checkpoints.find((c) => CONCAT_NAME.test(c.rel) && !TEACHER_NAME.test(c.rel));
    if (concat?.kind === 't5') checkT5Dir(concat.dir);
    if (concat?.kind === 'hypernet') throw new CheckpointError(concat.dir, 'a hypernet checkpoint named like the instruction-concatenated baseline');
    const none = (reason: string): ModelSlot => ({ available: false, reason });
    const models: Record<ModelName, ModelSlot> = {
      base: base ? { available: true, dir: base.dir } : none('no HF T5 checkpoint (config.json + model.safetensors) in this dir'),
      tagi: !base ? none('no base model') : hypernet ? { available: true, dir: hypernet.dir } : none('no hypernet checkpoint (hypernet_config.json) in this dir'),
      concat: !base
        ? none('no base model')
        : concat
          ? { available: true, dir: concat.dir }
          : none(kind === 't5' ? 'a plain HF T5 dir has no multitask checkpoint (the no-adapter column already reads the instruction)' : 'no instruction-concatenated checkpoint in this run dir'),
    };
    const tokenizer = base ? await tokenizerFor(base.dir) : loadDefaultT5Tokenizer();
    const backend = base ? await this.initBackend() : undefined;
    // the hypernet would cut a longer instruction silently: refuse it instead
    const hnMax = hypernet ? hypernetMaxInstruction(hypernet.dir) : undefined;
    const maxInstructionTokens = Math.min(this.maxInstructionTokens, hnMax ?? Infinity);
    return {
      info: { dir, kind: run ? 'run' : 't5', models, where: 'node-server', maxInstructionTokens, ...(backend ? { backend } : {}) },
      checkpoints,
      tokenizer,
    };
  }

  private async plan(dir: string): Promise<ModelPlan> {
    let p = this.plans.get(dir);
    if (!p) {
      p = this.makePlan(dir);
      this.plans.set(dir, p);
      // a failed plan is not cached: the user may fix the dir and retry
      p.catch(() => this.plans.delete(dir));
    }
    return rethrow(p);
  }

  /** Loads (once) an HF T5 dir; a broken checkpoint becomes a CheckpointError naming it. */
  private async t5(dir: string): Promise<LoadedT5> {
    let p = this.models.get(dir);
    if (!p) {
      this.opts.checkDir?.(dir);
      p = (async () => {
        await this.initBackend();
        const model = await T5ForConditionalGeneration.fromPretrained(dir);
        return { dir, model, tokenizer: await tokenizerFor(dir) };
      })();
      this.models.set(dir, p);
      p.catch(() => this.models.delete(dir));
    }
    try {
      return await p;
    } catch (e) {
      throw new CheckpointError(dir, `cannot load the T5 checkpoint: ${(e as Error).message}`);
    }
  }

  /** Token count of an instruction; throws a 413 naming the limit when it is too long. */
  private checkInstruction(plan: ModelPlan, instruction: string): number {
    const n = plan.tokenizer.encode(instruction).length;
    const max = plan.info.maxInstructionTokens;
    if (n > max) {
      const why = max < this.maxInstructionTokens ? "the hypernet's max_instruction_length" : '--max-instruction-tokens';
      throw new HttpError(413, 'InstructionTooLong', `instruction: ${n} tokens, more than the ${max} allowed (${why})`);
    }
    return n;
  }

  /** Limits every model run of this engine uses (the in-page runner is given the same). */
  get limits(): RunLimits {
    return { maxInputTokens: this.maxInputTokens, maxNewTokens: this.maxNewTokens };
  }

  private generateTexts(t5: LoadedT5, texts: string[], adapters?: DeltaMap): Promise<GeneratedTexts> {
    return runPlain(t5.model, t5.tokenizer, texts, this.limits, adapters);
  }

  async open(dir: string): Promise<ModelSetInfo> {
    // re-scan on every open: a run still in progress may have written new checkpoints since
    this.plans.delete(dir);
    return (await this.plan(dir)).info;
  }

  /** Loads (once) a hypernet checkpoint on the base model it was trained on. */
  private async hypernet(dir: string, base: LoadedT5): Promise<HyperNetwork> {
    const key = `${dir}\0${base.dir}`;
    let p = this.hypernets.get(key);
    if (!p) {
      this.opts.checkDir?.(dir);
      p = loadHypernet(dir, base.model);
      this.hypernets.set(key, p);
      p.catch(() => this.hypernets.delete(key));
    }
    try {
      return await p;
    } catch (e) {
      throw new CheckpointError(dir, `cannot load the hypernet checkpoint: ${(e as Error).message}`);
    }
  }

  /** Loads (once) a peft LoRA dir, checked against the base model's modules. */
  private async peft(dir: string, base: LoadedT5): Promise<AdapterSet> {
    const key = `${dir}\0${base.dir}`;
    let p = this.peftAdapters.get(key);
    if (!p) {
      this.opts.checkDir?.(dir);
      p = loadAdapter(dir, { model: base.model });
      this.peftAdapters.set(key, p);
      p.catch(() => this.peftAdapters.delete(key));
    }
    try {
      return await p;
    } catch (e) {
      throw new CheckpointError(dir, `cannot load the peft adapter: ${(e as Error).message}`);
    }
  }

  private storeAdapter(a: StoredAdapter): void {
    this.adapters.set(a.id, a);
    const keep = this.opts.keepAdapters ?? 16;
    for (const [id, old] of this.adapters) {
      if (this.adapters.size <= keep) break;
      this.adapters.delete(id);
      old.task.dispose();
    }
  }

  private adapter(id: string): StoredAdapter {
    const a = this.adapters.get(id);
    if (!a) throw new HttpError(404, 'UnknownAdapter', `adapter ${id}: not generated in this server, or dropped since (generate it on the Try page again)`);
    return a;
  }

  /** A stored adapter, checked to belong to this dir and instruction. */
  private adapterFor(id: string, dir: string, instruction: string): StoredAdapter {
    const stored = this.adapter(id);
    if (stored.dir !== dir) throw new HttpError(409, 'AdapterMismatch', `adapter ${id} was generated for ${stored.dir}, not ${dir}`);
    if (stored.instruction !== instruction) throw new HttpError(409, 'AdapterMismatch', `adapter ${id} was generated from another instruction; generate it again`);
    return stored;
  }

  async generate(dir: string, instruction: string): Promise<GeneratedAdapterInfo> {
    const plan = await this.plan(dir);
    const instructionTokens = this.checkInstruction(plan, instruction);
    const { tagi: slot, base: baseSlot } = plan.info.models;
    if (!slot.available || !slot.dir || !baseSlot.dir) throw new HttpError(503, 'ModelUnavailable', `TAGI hypernet: ${slot.reason ?? 'unavailable'}`);
    const base = await rethrow(this.t5(baseSlot.dir));
    const hn = await rethrow(this.hypernet(slot.dir, base));
    const { task, ms: generateMs } = await generateTaskAdapter(hn, base.tokenizer, instruction);
    const id = `a${this.nextAdapter++}`;
    this.storeAdapter({ id, dir, instruction, task, hypernetDir: slot.dir, fusion: hn.config.fusion });
    return { id, dir, instruction, instructionTokens, generateMs, modules: moduleStats(task.adapter) };
  }

  async run(dir: string, instruction: string, adapterId: string | undefined, inputs: string[]): Promise<ModelRunResult[]> {
    const plan = await this.plan(dir);
    this.checkInstruction(plan, instruction);
    const { base: baseSlot, concat: concatSlot, tagi: tagiSlot } = plan.info.models;
    if (!baseSlot.available || !baseSlot.dir) {
      return (['tagi', 'base', 'concat'] as const).map((model) => ({ model, error: plan.info.models[model].reason ?? 'unavailable' }));
    }
    const base = await rethrow(this.t5(baseSlot.dir));
    const results: ModelRunResult[] = [];
    // TAGI: the student reads the bare input; the instruction reaches it only through the adapter
    // (and the cached instruction states with concat fusion)
    if (!tagiSlot.available || !tagiSlot.dir) results.push({ model: 'tagi', error: tagiSlot.reason ?? 'unavailable' });
    else if (!adapterId) results.push({ model: 'tagi', error: 'no adapter: generate it first' });
    else {
      const stored = this.adapterFor(adapterId, dir, instruction);
      const hn = await rethrow(this.hypernet(tagiSlot.dir, base));
      results.push({ model: 'tagi', ...(await runTagi(hn, stored.task, base.tokenizer, inputs, this.limits)) });
    }
    // No adapter: the frozen base reads the Tk-Instruct prompt, as `tagi demo` evaluates it
    const prompts = inputs.map((x) => concatenatedInput(instruction, x));
    results.push({ model: 'base', ...(await this.generateTexts(base, prompts)) });
    if (!concatSlot.available || !concatSlot.dir) results.push({ model: 'concat', error: concatSlot.reason ?? 'unavailable' });
    else {
      try {
        if (checkpointKind(concatSlot.dir) === 'peft') {
          // the multitask baseline trained as a LoRA on the base model
          const set = await this.peft(concatSlot.dir, base);
          results.push({ model: 'concat', ...(await this.generateTexts(base, prompts, set.deltas)) });
        } else {
          const concat = concatSlot.dir === baseSlot.dir ? base : await this.t5(concatSlot.dir);
          results.push({ model: 'concat', ...(await this.generateTexts(concat, prompts)) });
        }
      } catch (e) {
        results.push({ model: 'concat', error: (e as Error).message });
      }
    }
    return results;
  }

  async inPageFiles(dir: string): Promise<InPageFiles> {
    const { info } = await this.plan(dir);
    const { base, tagi } = info.models;
    if (!tagi.available || !tagi.dir || !base.dir) return { available: false, reason: `TAGI: ${tagi.reason ?? 'unavailable'}` };
    const weights = path.join(base.dir, 'model.safetensors');
    if (!fs.existsSync(weights)) return { available: false, reason: `${base.dir}: sharded weights (model.safetensors.index.json); the in-page runner reads a single model.safetensors` };
    return {
      available: true,
      base: { dir: base.dir, config: path.join(base.dir, 'config.json'), weights, ...tokenizerFiles(base.dir) },
      hypernet: { dir: tagi.dir, config: path.join(tagi.dir, HYPERNET_CONFIG_FILE), weights: path.join(tagi.dir, HYPERNET_WEIGHTS_FILE) },
      maxInstructionTokens: info.maxInstructionTokens,
      limits: this.limits,
    };
  }

  async logits(dir: string, instruction: string, adapterId: string, inputs: string[], decoderIds: number[][]): Promise<Logits> {
    const plan = await this.plan(dir);
    const { base: baseSlot, tagi: tagiSlot } = plan.info.models;
    if (!tagiSlot.available || !tagiSlot.dir || !baseSlot.dir) throw new HttpError(503, 'ModelUnavailable', `TAGI hypernet: ${tagiSlot.reason ?? 'unavailable'}`);
    const stored = this.adapterFor(adapterId, dir, instruction);
    const base = await rethrow(this.t5(baseSlot.dir));
    const hn = await rethrow(this.hypernet(tagiSlot.dir, base));
    const vocab = base.model.config.vocabSize;
    for (const [i, row] of decoderIds.entries()) {
      row.forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new HttpError(400, 'BadRequest', `decoderIds.${i}.${j}: expected a token id in [0, ${vocab}), got ${JSON.stringify(id)}`);
      });
    }
    return tagiLogits(hn, stored.task, base.tokenizer, inputs, decoderIds, this.limits);
  }

  async diff(aId: string, bId: string): Promise<AdapterDiffModule[]> {
    return diffAdapters(this.adapter(aId).task.adapter, this.adapter(bId).task.adapter, `adapters ${aId} and ${bId}`);
  }

  async diffWithPeft(aId: string, peftDir: string): Promise<AdapterDiffModule[]> {
    const stored = this.adapter(aId);
    if (checkpointKind(peftDir) !== 'peft') throw new HttpError(422, 'CheckpointError', `${peftDir}: not a peft adapter dir (no adapter_config.json)`);
    const plan = await this.plan(stored.dir);
    const baseDir = plan.info.models.base.dir;
    if (!baseDir) throw new HttpError(503, 'ModelUnavailable', `no base model in ${stored.dir}`);
    const base = await rethrow(this.t5(baseDir));
    const other = await rethrow(this.peft(peftDir, base));
    return diffAdapters(stored.task.adapter, other, `adapter ${aId} and ${peftDir}`);
  }

  async exportPeft(id: string): Promise<{ name: string; data: Uint8Array }[]> {
    const stored = this.adapter(id);
    const set = stored.task.adapter;
    const tensors = set.toPeftTensors();
    let weights: Uint8Array;
    try {
      weights = serializeSafetensors(tensors, { format: 'pt' });
    } finally {
      tf.dispose([...tensors.values()]);
    }
    const folder = `tagi-adapter-${id}`;
    const note = [
      `LoRA adapter generated by the TAGI hypernetwork (${stored.hypernetDir}) from the instruction:`,
      '',
      stored.instruction,
      '',
      'Load with Python peft: PeftModel.from_pretrained(base_t5, "<this folder>"), or @tagi/lora loadAdapter.',
      stored.fusion === 'none'
        ? 'The hypernet uses no instruction fusion: this adapter is the whole task-specific part.'
        : `The hypernet also feeds the encoded instruction to the decoder (fusion "${stored.fusion}"); peft has no place for that, so this adapter alone is the LoRA part only.`,
      '',
    ].join('\n');
    const enc = new TextEncoder();
    return [
      { name: `${folder}/adapter_config.json`, data: enc.encode(stringifyLoraConfig(set.config)) },
      { name: `${folder}/adapter_model.safetensors`, data: weights },
      { name: `${folder}/README.txt`, data: enc.encode(note) },
    ];
  }

  async examples(opts: { numPositive?: number } = {}): Promise<SuiteExample[]> {
    const { embeddedSuite, tagiExamples } = await import('@tagi/datasets');
    const suite = embeddedSuite();
    return suite.heldOut.map((task) => {
      const rows = tagiExamples(task, { numPositive: opts.numPositive ?? 0 }).slice(0, 3);
      return {
        task: task.taskId,
        category: task.category,
        instruction: rows[0]?.instruction ?? task.definition[0] ?? '',
        inputs: rows.map((r) => r.studentInput),
        references: rows.map((r) => [...r.outputs]),
      };
    });
  }

  dispose(): void {
    for (const a of this.adapters.values()) a.task.dispose();
    this.adapters.clear();
    for (const p of this.hypernets.values()) p.then((h) => h.dispose()).catch(() => {});
    this.hypernets.clear();
    for (const p of this.peftAdapters.values()) p.then((a) => a.dispose()).catch(() => {});
    this.peftAdapters.clear();
    for (const p of this.models.values()) p.then((m) => m.model.dispose()).catch(() => {});
    this.models.clear();
    this.plans.clear();
  }
}

/** Per module both adapters have: ‖ΔW_a − ΔW_b‖_F, relative to the larger norm, and the cosine. */
function diffAdapters(a: AdapterSet, b: AdapterSet, what: string): AdapterDiffModule[] {
  const paths = a.paths.filter((p) => b.paths.includes(p));
  if (paths.length === 0) throw new HttpError(409, 'AdapterMismatch', `${what} share no module`);
  return paths.map((module) => {
    const [diffNorm, na, nb, dot] = tf.tidy(() => {
      const da = a.deltaWeight(module); // [out, in]
      const db = b.deltaWeight(module); // [out, in]
      return tf.stack([tf.norm(tf.sub(da, db)), tf.norm(da), tf.norm(db), tf.sum(tf.mul(da, db))]);
    }).dataSync() as unknown as [number, number, number, number];
    const big = Math.max(na, nb);
    return { module, diffNorm, relative: big > 0 ? diffNorm / big : 0, cosine: na > 0 && nb > 0 ? dot / (na * nb) : 0 };
  });
}

/** Per-module statistics of a generated adapter, from @tagi/lora's AdapterSet.stats(). */
export function moduleStats(set: AdapterSet) {
  return set.stats().map((m) => ({
    module: m.path,
    rank: set.config.r,
    deltaNorm: m.normDelta,
    effectiveRank: m.effectiveRank,
    normA: m.normA,
    normB: m.normB,
  }));
}

/** max_instruction_length of a hypernet_config.json, when readable (the loader reports errors later). */
function hypernetMaxInstruction(dir: string): number | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'hypernet_config.json'), 'utf8')) as { hypernet?: { max_instruction_length?: unknown } };
    const v = json.hypernet?.max_instruction_length;
    return typeof v === 'number' && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** CheckpointError → HTTP 422 with its message; anything else unchanged. */
async function rethrow<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CheckpointError) throw new HttpError(422, 'CheckpointError', e.message);
    throw e;
  }
}
