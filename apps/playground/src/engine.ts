// The model side of the playground, running in this Node process. It opens a run dir (or an HF T5
// dir), finds its models by role in the run's trainer_state.json (run-models.ts), and serves the three
// models of the Try page. Every column's input comes from @tagi/datasets' prepareInstruction with the
// run's own prompt settings (instruction.ts), so the served models read what they were trained on. A
// model that cannot be found is "unavailable" with the reason, never a made-up output.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, type NamedWeights, NonFiniteError, findNonFinite, initBackend } from '@tagi/tensor-core';
import { PRUNED_VOCAB_FILE, PrunedTokenizer, parseT5Config, T5ConfigError } from '@tagi/t5-model';
import { DEFAULT_TOKENIZER_DIR, T5ForConditionalGeneration, loadDefaultT5Tokenizer, loadT5Tokenizer, loadVocabMap } from '@tagi/t5-model/node';
import { DatasetArgumentError, type Task, embeddedSuite, prepareInstruction, tagiExamples } from '@tagi/datasets';
import type { AdapterSet } from '@tagi/lora';
import {
  HYPERNET_CONFIG_FILE,
  HYPERNET_WEIGHTS_FILE,
  type HyperNetwork,
  type TaskAdapter,
  parseHypernetConfig,
  peftReproducesTagi,
  taskAdapterFiles,
} from '@tagi/hypernet';
import { loadHypernet } from '@tagi/hypernet/node';
import { ADAPTER_WEIGHTS_FILE, loadAdapter } from '@tagi/lora/node';
import { shardedFile } from '@tagi/tensor-core/node';
import { type ResolvedArtifact } from '@tagi/run-dir/node';
import type {
  AdapterDiffModule,
  AdapterExport,
  GeneratedAdapterInfo,
  HypernetInfo,
  InPageFiles,
  InstructionRequest,
  ModelName,
  ModelSetInfo,
  ModelSlot,
  PlaygroundEngine,
  PreparedIds,
  RunResults,
  SuiteExample,
} from './engine-types';
import { HttpError } from './http';
import { type PreparedRun, type RunPrompt, type TaskSource, instructionSource, prepareForRun, prepareInputs, runWarnings } from './instruction';
import { type GeneratedTexts, type Logits, type RunLimits, type TextTokenizer, generateTaskAdapter, runPlain, runTagi, tagiLogits } from './model-runner';
import { HYPERNET_ROLES, type FileResolver, RunConfigError, artifactByRole, readRunArtifacts, readRunPrompt, runningStages } from './run-models';
import { PathAccessError } from './paths';
import { checkpointKind, isRunDir } from './runs';

export interface TagiEngineOptions {
  /** Token budget of inputs and prompts when a dir has no run config (an HF T5 dir opened alone). */
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
  /** Maps a run file about to be read (trainer_state.json, config.json) to the real path to read, or throws. */
  readonly resolveFile?: FileResolver;
  /** Maps an artefact dir named by a run state to its real path, or throws (one outside the roots). */
  readonly resolveDir?: (dir: string) => string;
  /**
   * Weights holding NaN/Inf (checked once per load, as the trainer checks them): refused with the file and
   * tensor named (default), or, when true (--allow-non-finite), used after telling `warn`.
   */
  readonly allowNonFinite?: boolean;
  readonly warn?: (message: string) => void;
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

interface LoadedT5 {
  readonly dir: string;
  readonly model: T5ForConditionalGeneration;
  readonly tokenizer: TextTokenizer;
}

interface StoredAdapter {
  readonly id: string;
  readonly dir: string;
  readonly instruction: string;
  /** The suite task it was prepared from; undefined for free text. */
  readonly taskId?: string;
  readonly prepared: PreparedRun;
  readonly task: TaskAdapter;
  readonly hypernetDir: string;
  readonly baseDir: string;
}

interface ModelPlan {
  readonly info: ModelSetInfo;
  readonly tokenizer: TextTokenizer;
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

/** A checkpoint's JSON file (`real`: the path to read; `file`: the name to report). */
function readJson(real: string, file = real): unknown {
  try {
    return JSON.parse(fs.readFileSync(real, 'utf8'));
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

/** What the TAGI column's hypernetwork is and how many instruction tokens it reads, from its hypernet_config.json. */
function readHypernetInfo(dir: string, resolveFile: FileResolver): { info: HypernetInfo; maxInstructionTokens: number } {
  const file = path.join(dir, HYPERNET_CONFIG_FILE);
  const json = readJson(resolveFile(file), file) as { hypernet?: unknown };
  try {
    const { config } = parseHypernetConfig(json.hypernet, file);
    return {
      info: { fusion: config.fusion, peftReproducesTagi: peftReproducesTagi(config.fusion), rank: config.rank },
      maxInstructionTokens: config.maxInstructionLength,
    };
  } catch (e) {
    throw new CheckpointError(dir, (e as Error).message);
  }
}

const unavailable = (reason: string): ModelSlot => ({ available: false, reason });

export class TagiEngine implements PlaygroundEngine {
  private readonly maxInputTokens: number;
  private readonly maxNewTokens: number;
  private readonly resolveFile: FileResolver;
  private readonly resolveDir: (dir: string) => string;
  private readonly plans = new Map<string, Promise<ModelPlan>>();
  private readonly models = new Map<string, Promise<LoadedT5>>();
  private readonly hypernets = new Map<string, Promise<HyperNetwork>>();
  private readonly peftAdapters = new Map<string, Promise<AdapterSet>>();
  private readonly adapters = new Map<string, StoredAdapter>();
  private suite: ReadonlyMap<string, Task> | undefined;
  private nextAdapter = 1;
  private backend: Promise<string> | undefined;

  constructor(private readonly opts: TagiEngineOptions = {}) {
    this.maxInputTokens = opts.maxInputTokens ?? 512;
    this.maxNewTokens = opts.maxNewTokens ?? 32;
    this.resolveFile = opts.resolveFile ?? ((file) => file);
    this.resolveDir = opts.resolveDir ?? ((dir) => dir);
  }

  /** tensor-core's one finiteness check on weights just loaded from `file`, under the server's policy. */
  private checkWeights(weights: NamedWeights, file: string): void {
    const bad = findNonFinite(weights);
    if (bad === undefined) return;
    const e = new NonFiniteError(file, bad.tensor, bad.nan, bad.inf);
    if (this.opts.allowNonFinite) this.opts.warn?.(`${e.message}; used anyway (--allow-non-finite)`);
    else throw new Error(`${e.message}; the playground refuses them (start it with --allow-non-finite to use them anyway)`);
  }

  private initBackend(): Promise<string> {
    this.backend ??= initBackend({ backend: (this.opts.backend ?? 'auto') as 'auto' }).then((r) => r.backend);
    return this.backend;
  }

  /**
   * The slot of the first artefact with one of `roles` (in order of preference), read from the run state.
   * Its dir must lie under the roots (else: unavailable, saying which --root would open it) and its files
   * too (checkDir throws: a file symlinked out is refused, as everywhere).
   */
  private slot(arts: readonly ResolvedArtifact[], roles: readonly string[], kinds: readonly string[], missing: string): ModelSlot {
    const a = artifactByRole(arts, roles);
    if (!a) return unavailable(missing);
    if (!kinds.includes(a.kind))
      return unavailable(`trainer_state.json records '${a.role}' as a ${a.kind} dir (${a.dir}); this column needs ${kinds.join(' or ')}`);
    let dir: string;
    try {
      dir = this.resolveDir(a.dir);
    } catch (e) {
      if (e instanceof PathAccessError) {
        return unavailable(
          e.status === 404
            ? `'${a.role}' ${a.dir}: recorded in trainer_state.json but missing`
            : `'${a.role}' ${a.dir} lies outside the playground roots (start it with --root ${path.dirname(a.dir)} to open it)`,
        );
      }
      throw e;
    }
    if (!fs.existsSync(dir)) return unavailable(`'${a.role}' ${a.dir}: recorded in trainer_state.json but missing`);
    this.opts.checkDir?.(dir);
    if (a.kind === 't5') checkT5Dir(dir);
    return { available: true, dir, role: a.role };
  }

  private async makePlan(dir: string): Promise<ModelPlan> {
    const run = isRunDir(dir);
    if (!run && checkpointKind(dir) !== 't5') {
      throw new CheckpointError(
        dir,
        'neither a run dir (trainer_state.json, metrics.jsonl, results.json or results.md) nor an HF T5 dir (config.json + model.safetensors)',
      );
    }
    let models: Record<ModelName, ModelSlot>;
    let runState: string | undefined;
    let settings: { numPositive: number; maxSourceTokens: number | undefined; fromConfig: boolean } = {
      numPositive: 0,
      maxSourceTokens: undefined,
      fromConfig: false,
    };
    if (!run) {
      // an HF T5 dir on its own: only the no-adapter column
      this.opts.checkDir?.(dir);
      checkT5Dir(dir);
      models = {
        base: { available: true, dir },
        tagi: unavailable('an HF T5 dir on its own has no hypernetwork (open a run dir written by tagi)'),
        concat: unavailable('a plain HF T5 dir has no multitask checkpoint (the no-adapter column already reads the instruction)'),
      };
    } else {
      // the run's models by role, from its trainer_state.json (never from directory names)
      const arts = readRunArtifacts(dir, this.resolveFile);
      runState = arts.problem;
      settings = readRunPrompt(dir, this.resolveFile);
      const running = runningStages(arts.state);
      const missing = (what: string, roles: readonly string[]): string =>
        arts.problem ??
        `no ${what} in this run (no artefact with role ${roles.map((r) => `'${r}'`).join(', ')} in trainer_state.json)${running.length > 0 ? `; still running: ${running.join(', ')}` : ''}`;
      const base = this.slot(arts.artifacts, ['base-model'], ['t5'], missing('base model', ['base-model']));
      const needsBase = (s: ModelSlot): ModelSlot => (base.available ? s : unavailable(`no base model: ${base.reason ?? 'unavailable'}`));
      models = {
        base,
        tagi: needsBase(this.slot(arts.artifacts, HYPERNET_ROLES, ['hypernet'], missing('hypernetwork', HYPERNET_ROLES))),
        concat: needsBase(
          this.slot(arts.artifacts, ['multitask-adapter'], ['peft', 't5'], missing('instruction-concatenated baseline', ['multitask-adapter'])),
        ),
      };
    }
    let hypernet: HypernetInfo | undefined;
    let maxInstructionTokens: number | undefined;
    if (models.tagi.available && models.tagi.dir) {
      try {
        ({ info: hypernet, maxInstructionTokens } = readHypernetInfo(models.tagi.dir, this.resolveFile));
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        models = { ...models, tagi: unavailable(e.message) };
      }
    }
    const maxSourceTokens = settings.maxSourceTokens ?? this.maxInputTokens;
    const prompt: RunPrompt = {
      numPositive: settings.numPositive,
      maxSourceTokens,
      // what the hypernetwork reads (its max_instruction_length): `tagi eval` and `tagi generate` cut there too
      maxInstructionTokens: maxInstructionTokens ?? maxSourceTokens,
      from: settings.fromConfig ? 'config.json' : 'default',
    };
    const baseDir = models.base.available ? models.base.dir : undefined;
    const tokenizer = baseDir ? await tokenizerFor(baseDir) : loadDefaultT5Tokenizer();
    const backend = baseDir ? await this.initBackend() : undefined;
    return {
      info: {
        dir,
        kind: run ? 'run' : 't5',
        models,
        where: 'node-server',
        prompt,
        ...(hypernet ? { hypernet } : {}),
        ...(runState ? { runState } : {}),
        ...(backend ? { backend } : {}),
      },
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
        try {
          this.checkWeights(model, shardedFile(dir));
        } catch (e) {
          model.dispose();
          throw e;
        }
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

  /** A task of the embedded suite by id (the suite `tagi demo` trains on). */
  private suiteTask(id: string): Task | undefined {
    this.suite ??= new Map(embeddedSuite().tasks.map((t) => [t.taskId, t]));
    return this.suite.get(id);
  }

  /**
   * What the instruction is made from: the suite task the request names while its text is still that
   * task's instruction (formatted with the run's demonstrations, as training formatted it), else the
   * text as typed (a definition, as `tagi generate` treats it).
   */
  private source(plan: ModelPlan, req: InstructionRequest): string | TaskSource {
    if (req.task === undefined) return req.instruction;
    const task = this.suiteTask(req.task);
    if (!task) throw new HttpError(400, 'BadRequest', `task: no task ${JSON.stringify(req.task)} in the embedded suite`);
    return instructionSource(req.instruction, task, plan.info.prompt.numPositive);
  }

  /** The instruction prepared with the run's settings; a blank one (after a "Definition:" label) is a 400. */
  private prepared(plan: ModelPlan, req: InstructionRequest): { run: PreparedRun; taskId?: string } {
    const source = this.source(plan, req);
    try {
      return { run: prepareForRun(source, plan.info.prompt, plan.tokenizer), ...(typeof source === 'string' ? {} : { taskId: source.taskId }) };
    } catch (e) {
      if (e instanceof DatasetArgumentError) throw new HttpError(400, 'BadRequest', e.message);
      throw e;
    }
  }

  /** Limits every model run of this engine uses (the in-page runner is given the same). */
  get limits(): RunLimits {
    return { maxNewTokens: this.maxNewTokens };
  }

  private generateTexts(t5: LoadedT5, rows: number[][], adapters?: DeltaMap): Promise<GeneratedTexts> {
    return runPlain(t5.model, t5.tokenizer, rows, this.limits, adapters);
  }

  async open(dir: string): Promise<ModelSetInfo> {
    // re-scan on every open: a run still in progress may have finished stages since
    this.plans.delete(dir);
    return (await this.plan(dir)).info;
  }

  async prepare(dir: string, req: InstructionRequest, inputs: string[]): Promise<PreparedIds> {
    const plan = await this.plan(dir);
    const { run, taskId } = this.prepared(plan, req);
    const ids = prepareInputs(run, inputs);
    return {
      ...(taskId ? { task: taskId } : {}),
      instructionIds: run.instructionIds,
      studentIds: ids.studentIds,
      concatenatedIds: ids.concatenatedIds,
      warnings: runWarnings(run, ids),
    };
  }

  /** Loads (once) a hypernet checkpoint on the base model it was trained on. */
  private async hypernet(dir: string, base: LoadedT5): Promise<HyperNetwork> {
    const key = `${dir}\0${base.dir}`;
    let p = this.hypernets.get(key);
    if (!p) {
      this.opts.checkDir?.(dir);
      p = loadHypernet(dir, base.model).then((hn) => {
        try {
          this.checkWeights(hn, path.join(dir, HYPERNET_WEIGHTS_FILE));
        } catch (e) {
          hn.dispose();
          throw e;
        }
        return hn;
      });
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
      p = loadAdapter(dir, { model: base.model }).then((set) => {
        try {
          this.checkWeights(set.deltas, path.join(dir, ADAPTER_WEIGHTS_FILE));
        } catch (e) {
          set.dispose();
          throw e;
        }
        return set;
      });
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

  /** A stored adapter, checked to belong to this dir and instruction (same text, same task). */
  private adapterFor(id: string, dir: string, instruction: string, taskId: string | undefined): StoredAdapter {
    const stored = this.adapter(id);
    if (stored.dir !== dir) throw new HttpError(409, 'AdapterMismatch', `adapter ${id} was generated for ${stored.dir}, not ${dir}`);
    if (stored.instruction !== instruction || stored.taskId !== taskId)
      throw new HttpError(409, 'AdapterMismatch', `adapter ${id} was generated from another instruction; generate it again`);
    return stored;
  }

  async generate(dir: string, req: InstructionRequest): Promise<GeneratedAdapterInfo> {
    const plan = await this.plan(dir);
    const { tagi: slot, base: baseSlot } = plan.info.models;
    if (!slot.available || !slot.dir || !baseSlot.dir) throw new HttpError(503, 'ModelUnavailable', `TAGI hypernet: ${slot.reason ?? 'unavailable'}`);
    const { run, taskId } = this.prepared(plan, req);
    const base = await rethrow(this.t5(baseSlot.dir));
    const hn = await rethrow(this.hypernet(slot.dir, base));
    const { task, ms: generateMs } = await generateTaskAdapter(hn, run.instructionIds);
    const id = `a${this.nextAdapter++}`;
    this.storeAdapter({
      id,
      dir,
      instruction: req.instruction,
      ...(taskId ? { taskId } : {}),
      prepared: run,
      task,
      hypernetDir: slot.dir,
      baseDir: baseSlot.dir,
    });
    return {
      id,
      dir,
      instruction: req.instruction,
      ...(taskId ? { task: taskId } : {}),
      instructionIds: [...task.instructionIds],
      instructionTokens: task.instructionIds.length,
      ...(run.truncation ? { truncation: run.truncation } : {}),
      warnings: runWarnings(run),
      generateMs,
      ...(slot.role ? { hypernetRole: slot.role } : {}),
      fusion: task.fusion,
      peftReproducesTagi: peftReproducesTagi(task.fusion),
      modules: moduleStats(task.adapter),
    };
  }

  async run(dir: string, req: InstructionRequest, adapterId: string | undefined, inputs: string[]): Promise<RunResults> {
    const plan = await this.plan(dir);
    const { base: baseSlot, concat: concatSlot, tagi: tagiSlot } = plan.info.models;
    const { run, taskId } = this.prepared(plan, req);
    const ids = prepareInputs(run, inputs);
    const warnings = runWarnings(run, ids);
    if (!baseSlot.available || !baseSlot.dir) {
      return { results: (['tagi', 'base', 'concat'] as const).map((model) => ({ model, error: plan.info.models[model].reason ?? 'unavailable' })), warnings };
    }
    const base = await rethrow(this.t5(baseSlot.dir));
    const results: RunResults['results'] = [];
    // TAGI: the student reads the bare input; the instruction reaches it only through the adapter
    // (and the cached instruction states with concat fusion)
    if (!tagiSlot.available || !tagiSlot.dir) results.push({ model: 'tagi', error: tagiSlot.reason ?? 'unavailable' });
    else if (!adapterId) results.push({ model: 'tagi', error: 'no adapter: generate it first' });
    else {
      const stored = this.adapterFor(adapterId, dir, req.instruction, taskId);
      const hn = await rethrow(this.hypernet(tagiSlot.dir, base));
      results.push({ model: 'tagi', ...(await runTagi(hn, stored.task, base.tokenizer, ids.studentIds, this.limits)) });
    }
    // No adapter: the frozen base reads the Tk-Instruct prompt, as `tagi demo` evaluates it
    results.push({ model: 'base', ...(await this.generateTexts(base, ids.concatenatedIds)) });
    if (!concatSlot.available || !concatSlot.dir) results.push({ model: 'concat', error: concatSlot.reason ?? 'unavailable' });
    else {
      try {
        if (checkpointKind(concatSlot.dir) === 'peft') {
          // the multitask baseline trained as a LoRA on the base model
          const set = await this.peft(concatSlot.dir, base);
          results.push({ model: 'concat', ...(await this.generateTexts(base, ids.concatenatedIds, set.deltas)) });
        } else {
          const concat = concatSlot.dir === baseSlot.dir ? base : await this.t5(concatSlot.dir);
          results.push({ model: 'concat', ...(await this.generateTexts(concat, ids.concatenatedIds)) });
        }
      } catch (e) {
        results.push({ model: 'concat', error: (e as Error).message });
      }
    }
    return { results, warnings };
  }

  async inPageFiles(dir: string): Promise<InPageFiles> {
    const { info } = await this.plan(dir);
    const { base, tagi } = info.models;
    if (!tagi.available || !tagi.dir || !base.dir) return { available: false, reason: `TAGI: ${tagi.reason ?? 'unavailable'}` };
    const weights = path.join(base.dir, 'model.safetensors');
    if (!fs.existsSync(weights))
      return { available: false, reason: `${base.dir}: sharded weights (model.safetensors.index.json); the in-page runner reads a single model.safetensors` };
    return {
      available: true,
      base: { dir: base.dir, config: path.join(base.dir, 'config.json'), weights, ...tokenizerFiles(base.dir) },
      hypernet: { dir: tagi.dir, config: path.join(tagi.dir, HYPERNET_CONFIG_FILE), weights: path.join(tagi.dir, HYPERNET_WEIGHTS_FILE) },
      prompt: info.prompt,
      limits: this.limits,
    };
  }

  async logits(dir: string, req: InstructionRequest, adapterId: string, inputs: string[], decoderIds: number[][]): Promise<Logits> {
    const plan = await this.plan(dir);
    const { base: baseSlot, tagi: tagiSlot } = plan.info.models;
    if (!tagiSlot.available || !tagiSlot.dir || !baseSlot.dir)
      throw new HttpError(503, 'ModelUnavailable', `TAGI hypernet: ${tagiSlot.reason ?? 'unavailable'}`);
    const { run, taskId } = this.prepared(plan, req);
    const stored = this.adapterFor(adapterId, dir, req.instruction, taskId);
    const base = await rethrow(this.t5(baseSlot.dir));
    const hn = await rethrow(this.hypernet(tagiSlot.dir, base));
    const vocab = base.model.config.vocabSize;
    for (const [i, row] of decoderIds.entries()) {
      row.forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocab)
          throw new HttpError(400, 'BadRequest', `decoderIds.${i}.${j}: expected a token id in [0, ${vocab}), got ${JSON.stringify(id)}`);
      });
    }
    return tagiLogits(hn, stored.task, prepareInputs(run, inputs).studentIds, decoderIds);
  }

  async diff(aId: string, bId: string): Promise<AdapterDiffModule[]> {
    return diffAdapters(this.adapter(aId).task.adapter, this.adapter(bId).task.adapter, `adapters ${aId} and ${bId}`);
  }

  async diffWithPeft(aId: string, peftDir: string): Promise<AdapterDiffModule[]> {
    const stored = this.adapter(aId);
    if (checkpointKind(peftDir) !== 'peft') throw new HttpError(422, 'CheckpointError', `${peftDir}: not a peft adapter dir (no adapter_config.json)`);
    const base = await rethrow(this.t5(stored.baseDir));
    const other = await rethrow(this.peft(peftDir, base));
    return diffAdapters(stored.task.adapter, other, `adapter ${aId} and ${peftDir}`);
  }

  async exportAdapter(id: string): Promise<AdapterExport> {
    const stored = this.adapter(id);
    const base = await rethrow(this.t5(stored.baseDir));
    const hn = await rethrow(this.hypernet(stored.hypernetDir, base));
    // the files `tagi generate` writes for the same instruction and hypernetwork (its writeTaskAdapter)
    const { files } = await taskAdapterFiles(hn, stored.task, { instruction: stored.instruction, hypernetName: stored.hypernetDir });
    return { folder: `tagi-adapter-${id}`, files: [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, data]) => ({ name, data })) };
  }

  async examples(opts: { numPositive?: number } = {}): Promise<SuiteExample[]> {
    const numPositive = opts.numPositive ?? 0;
    return embeddedSuite().heldOut.map((task) => {
      const rows = tagiExamples(task, { numPositive }).slice(0, 3);
      return {
        task: task.taskId,
        category: task.category,
        instruction: rows[0]?.instruction ?? prepareInstruction(task, { numPositive }).instruction,
        inputs: rows.map((r) => r.studentInput),
        references: rows.map((r) => [...r.outputs]),
        // what its instruction is made of, for the in-page runner's own prepareInstruction call
        source: {
          taskId: task.taskId,
          definition: task.definition.slice(0, 1),
          positiveExamples: task.positiveExamples.slice(0, numPositive),
          negativeExamples: [],
        },
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
    const [diffNorm, na, nb, dot] = tf
      .tidy(() => {
        const da = a.deltaWeight(module); // [out, in]
        const db = b.deltaWeight(module); // [out, in]
        return tf.stack([tf.norm(tf.sub(da, db)), tf.norm(da), tf.norm(db), tf.sum(tf.mul(da, db))]);
      })
      .dataSync() as unknown as [number, number, number, number];
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

/** CheckpointError → HTTP 422 with its message; anything else unchanged. */
async function rethrow<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CheckpointError) throw new HttpError(422, 'CheckpointError', e.message);
    if (e instanceof RunConfigError) throw new HttpError(422, 'RunConfigError', e.message);
    throw e;
  }
}
