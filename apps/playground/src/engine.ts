// The model side of the playground, running in this Node process. It opens a run dir (or an HF T5
// dir), finds its checkpoints, and serves the three models of the Try page. Packages that have not
// shipped an API yet make their model "unavailable" with the reason, never a made-up output.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, initBackend } from '@tagi/tensor-core';
import { PrunedTokenizer, padBatch, parseT5Config, T5ConfigError, generate as t5Generate } from '@tagi/t5-model';
import { T5ForConditionalGeneration, loadDefaultT5Tokenizer, loadT5Tokenizer, loadVocabMap } from '@tagi/t5-model/node';
import { formatDefinition, formatTaskInput } from '@tagi/datasets';
import type {
  AdapterDiffModule,
  GeneratedAdapterInfo,
  ModelName,
  ModelRunResult,
  ModelSetInfo,
  ModelSlot,
  PlaygroundEngine,
} from './engine-types';
import { HttpError } from './http';
import { type CheckpointInfo, checkpointKind, findCheckpoints, isRunDir } from './runs';

export interface TagiEngineOptions {
  readonly maxInstructionTokens?: number;
  readonly maxInputTokens?: number;
  readonly maxNewTokens?: number;
  readonly backend?: string;
  /** Generated adapters kept for export and comparison (oldest dropped first). */
  readonly keepAdapters?: number;
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
const HINT_NAME = /hint|no-?distill|without/i;
const TEACHER_NAME = /teacher/i;

/** What the engine needs of a tokenizer: the full T5 one or a pruned-vocabulary view of it. */
interface TextTokenizer {
  readonly padTokenId: number;
  encode(text: string, opts?: { addSpecialTokens?: boolean; maxLength?: number }): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
}

interface LoadedT5 {
  readonly dir: string;
  readonly model: T5ForConditionalGeneration;
  readonly tokenizer: TextTokenizer;
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
    const base = pickBase(checkpoints);
    if (base) checkT5Dir(base.dir);
    const hypernet = checkpoints.filter((c) => c.kind === 'hypernet').sort((a, b) => Number(HINT_NAME.test(a.rel)) - Number(HINT_NAME.test(b.rel)))[0];
    const concat = checkpoints.find((c) => CONCAT_NAME.test(c.rel) && !TEACHER_NAME.test(c.rel));
    if (concat?.kind === 't5') checkT5Dir(concat.dir);
    const none = (reason: string): ModelSlot => ({ available: false, reason });
    const models: Record<ModelName, ModelSlot> = {
      base: base ? { available: true, dir: base.dir } : none('no HF T5 checkpoint (config.json + model.safetensors) in this dir'),
      tagi: !base ? none('no base model') : hypernet ? { available: true, dir: hypernet.dir } : none('no hypernet checkpoint (hypernet_config.json) in this dir'),
      concat: !base
        ? none('no base model')
        : concat
          ? { available: true, dir: concat.dir }
          : kind === 't5'
            ? { available: true, dir, reason: 'this HF T5 dir read with the instruction prepended to each input' }
            : none('no instruction-concatenated checkpoint in this run dir'),
    };
    const tokenizer = base ? await tokenizerFor(base.dir) : loadDefaultT5Tokenizer();
    const backend = base ? await this.initBackend() : undefined;
    return {
      info: { dir, kind: run ? 'run' : 't5', models, where: 'node-server', maxInstructionTokens: this.maxInstructionTokens, ...(backend ? { backend } : {}) },
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
    if (n > this.maxInstructionTokens) {
      throw new HttpError(413, 'InstructionTooLong', `instruction: ${n} tokens, more than the ${this.maxInstructionTokens} allowed (--max-instruction-tokens)`);
    }
    return n;
  }

  /** Greedy generation of a batch of texts; returns the decoded outputs and the wall time. */
  private async generateTexts(t5: LoadedT5, texts: string[], extra: { adapters?: DeltaMap } = {}): Promise<{ outputs: string[]; ms: number }> {
    const start = performance.now();
    const rows = texts.map((t) => t5.tokenizer.encode(t, { maxLength: this.maxInputTokens }));
    const batch = padBatch(rows, t5.tokenizer.padTokenId, Math.max(...rows.map((r) => r.length)));
    const ids = tf.tensor2d(batch.inputIds, [rows.length, batch.inputIds[0]!.length], 'int32');
    const mask = tf.tensor2d(batch.attentionMask, [rows.length, batch.attentionMask[0]!.length], 'int32');
    try {
      const res = await t5Generate(t5.model, ids, mask, { maxNewTokens: this.maxNewTokens, ...(extra.adapters ? { adapters: extra.adapters } : {}) });
      const outputs = res.sequences.map((seq) => t5.tokenizer.decode(seq.slice(1), { skipSpecialTokens: true }).trim());
      return { outputs, ms: performance.now() - start };
    } finally {
      ids.dispose();
      mask.dispose();
    }
  }

  async open(dir: string): Promise<ModelSetInfo> {
    return (await this.plan(dir)).info;
  }

  async generate(dir: string, instruction: string): Promise<GeneratedAdapterInfo> {
    const plan = await this.plan(dir);
    this.checkInstruction(plan, instruction);
    const slot = plan.info.models.tagi;
    throw new HttpError(503, 'ModelUnavailable', `TAGI hypernet: ${slot.available ? '@tagi/hypernet does not provide adapter generation yet' : slot.reason}`);
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
    if (!tagiSlot.available) results.push({ model: 'tagi', error: tagiSlot.reason ?? 'unavailable' });
    else if (!adapterId) results.push({ model: 'tagi', error: 'generate the adapter first' });
    else results.push({ model: 'tagi', error: '@tagi/hypernet does not provide adapter generation yet' });
    results.push({ model: 'base', ...(await this.generateTexts(base, inputs)) });
    if (!concatSlot.available || !concatSlot.dir) results.push({ model: 'concat', error: concatSlot.reason ?? 'unavailable' });
    else {
      try {
        const concat = concatSlot.dir === baseSlot.dir ? base : await this.t5(concatSlot.dir);
        results.push({ model: 'concat', ...(await this.generateTexts(concat, inputs.map((x) => concatenatedInput(instruction, x)))) });
      } catch (e) {
        results.push({ model: 'concat', error: (e as Error).message });
      }
    }
    return results;
  }

  async diff(aId: string, _bId: string): Promise<AdapterDiffModule[]> {
    throw new HttpError(404, 'UnknownAdapter', `adapter ${aId}: not generated in this server (generate it on the Try page first)`);
  }

  async exportPeft(id: string): Promise<{ name: string; data: Uint8Array }[]> {
    throw new HttpError(404, 'UnknownAdapter', `adapter ${id}: not generated in this server (generate it on the Try page first)`);
  }

  async examples(): Promise<{ task: string; category?: string; instruction: string; inputs: string[]; references?: string[] }[]> {
    const { embeddedSuite, tagiExamples } = await import('@tagi/datasets');
    const suite = embeddedSuite();
    return suite.heldOut.map((task) => {
      const rows = tagiExamples(task).slice(0, 3);
      return {
        task: task.taskId,
        category: task.category,
        instruction: rows[0]?.instruction ?? task.definition[0] ?? '',
        inputs: rows.map((r) => r.studentInput),
        references: rows.map((r) => r.outputs[0] ?? ''),
      };
    });
  }

  dispose(): void {
    for (const p of this.models.values()) p.then((m) => m.model.dispose()).catch(() => {});
    this.models.clear();
    this.plans.clear();
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
