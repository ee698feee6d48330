// The model side of the playground, running in this Node process. It opens a run dir (or an HF T5
// dir), finds its checkpoints, and serves the three models of the Try page. Packages that have not
// shipped an API yet make their model "unavailable" with the reason, never a made-up output.
import fs from 'node:fs';
import path from 'node:path';
import { parseT5Config, T5ConfigError, type T5Tokenizer } from '@tagi/t5-model';
import { loadDefaultT5Tokenizer, loadT5Tokenizer } from '@tagi/t5-model/node';
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

interface ModelPlan {
  readonly info: ModelSetInfo;
  readonly checkpoints: CheckpointInfo[];
  readonly tokenizer: T5Tokenizer;
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
  private readonly plans = new Map<string, ModelPlan>();

  constructor(private readonly opts: TagiEngineOptions = {}) {
    this.maxInstructionTokens = opts.maxInstructionTokens ?? 512;
  }

  private plan(dir: string): ModelPlan {
    const cached = this.plans.get(dir);
    if (cached) return cached;
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
    const tokenizerDir = base && fs.existsSync(path.join(base.dir, 'tokenizer.json')) ? base.dir : undefined;
    const tokenizer = tokenizerDir ? loadT5Tokenizer(tokenizerDir) : loadDefaultT5Tokenizer();
    const plan: ModelPlan = {
      info: { dir, kind: run ? 'run' : 't5', models, where: 'node-server', maxInstructionTokens: this.maxInstructionTokens },
      checkpoints,
      tokenizer,
    };
    this.plans.set(dir, plan);
    return plan;
  }

  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof CheckpointError) throw new HttpError(422, 'CheckpointError', e.message);
      throw e;
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

  async open(dir: string): Promise<ModelSetInfo> {
    return this.wrap(() => this.plan(dir)).info;
  }

  async generate(dir: string, instruction: string): Promise<GeneratedAdapterInfo> {
    const plan = this.wrap(() => this.plan(dir));
    this.checkInstruction(plan, instruction);
    const slot = plan.info.models.tagi;
    throw new HttpError(503, 'ModelUnavailable', `TAGI hypernet: ${slot.available ? '@tagi/hypernet does not provide adapter generation yet' : slot.reason}`);
  }

  async run(dir: string, instruction: string, _adapterId: string | undefined, _inputs: string[]): Promise<ModelRunResult[]> {
    const plan = this.wrap(() => this.plan(dir));
    this.checkInstruction(plan, instruction);
    return (['tagi', 'base', 'concat'] as const).map((model) => {
      const slot = plan.info.models[model];
      return { model, error: slot.available ? '@tagi/t5-model does not provide generation yet' : (slot.reason ?? 'unavailable') };
    });
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
    this.plans.clear();
  }
}
