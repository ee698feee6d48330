// Stage 1: LoRA teachers by instance training — one per task category (or per task) — and the
// instruction-concatenated multitask baseline (the Tk-Instruct analogue, also the KD teacher of stage 3).
// Both are @tagi/lora's one LoRA objective run by `fit`; they differ only in their examples and settings.
//
// The teachers read the same instruction-concatenated input as the multitask model: on the embedded
// suite a category holds several tasks whose rules differ only in their instruction, so an input-only
// category teacher could not tell them apart (the released TAGI scripts likewise train their LoRA
// teachers on Tk-Instruct prompts with positive examples).
import type { Task } from '@tagi/datasets';
import { type AdapterSet, type TokenizedExample, loraConfig, loraObjective } from '@tagi/lora';
import { saveAdapter } from '@tagi/lora/node';
import { type T5ForConditionalGeneration, checkIdRows } from '@tagi/t5-model';
import type { TagiConfig, TrainSettings } from '../config.js';
import type { TaskData, Tok } from '../data.js';
import { InstructionInputs } from '../instruction.js';
import { loadCheckedAdapter, teacherDirName } from '../models.js';
import type { Run } from '../run.js';
import { trainStage } from '../train.js';

export const TEACHERS_DIR = 'teachers';
export const MULTITASK_DIR = 'multitask-adapter';

/** Teacher group of a training task: its category, or the task itself (config teachers.groupBy). */
export function teacherGroup(c: TagiConfig, task: { taskId: string; category: string }): string {
  return c.teachers.groupBy === 'category' ? task.category : task.taskId;
}

interface LoraSettings {
  readonly rank: number;
  readonly alpha: number;
  readonly targetModules: string | readonly string[];
  readonly train: TrainSettings;
}

/**
 * The objective of one LoRA stage (a teacher or the multitask model), shared by the single process and the queue's
 * workers so both train the same thing. Ids are checked once, here where the batches' rows are made (the model's
 * forward reads nothing back).
 */
export function loraStageObjective(model: T5ForConditionalGeneration, examples: TokenizedExample[], tok: Tok, s: LoraSettings, seed: number, stage: string) {
  checkIdRows(examples.map((e) => e.input), model.config.vocabSize, `${stage} inputs`);
  checkIdRows(examples.map((e) => e.target), model.config.vocabSize, `${stage} targets`);
  return loraObjective({
    model,
    examples,
    padId: tok.padTokenId,
    config: loraConfig({ r: s.rank, loraAlpha: s.alpha, targetModules: s.targetModules }),
    batchSize: s.train.batchSize,
    seed,
  });
}

/** One LoRA stage: trains (or, when done, reloads) the adapter of `stage` and writes it as a peft dir. */
async function loraStage(run: Run, stage: string, dir: string, role: string, name: string | undefined, model: T5ForConditionalGeneration, examples: TokenizedExample[], tok: Tok, s: LoraSettings, label?: string): Promise<AdapterSet> {
  if (run.isDone(stage)) return loadCheckedAdapter(run.path(dir), model);
  const c = run.config;
  const objective = loraStageObjective(model, examples, tok, s, c.seed, stage);
  try {
    model.train();
    const t = await trainStage(run, stage, objective, s.train, label);
    await saveAdapter(run.path(dir), objective.adapter);
    await run.finishStage(stage, { outputs: [{ role, kind: 'peft', path: dir, ...(name !== undefined ? { name } : {}) }], seconds: t.seconds, ...(t.result.last ? { summary: { finalLoss: Number(t.result.last.loss.toPrecision(4)) } } : {}) });
    return objective.adapter;
  } catch (e) {
    objective.adapter.dispose();
    throw e;
  } finally {
    model.eval();
  }
}

/** The teachers of every group of training tasks, on the instruction-concatenated prompts. */
export async function trainTeachers(run: Run, model: T5ForConditionalGeneration, data: TaskData, tok: Tok): Promise<Map<string, AdapterSet>> {
  const c = run.config;
  const groupOfTask = new Map(data.train.map((t) => [t.taskId, teacherGroup(c, t)]));
  const groups = [...new Set(groupOfTask.values())].sort();
  const out = new Map<string, AdapterSet>();
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
  for (const [gi, group] of groups.entries()) {
    run.checkStop();
    const examples = data.trainExamples
      .filter((e) => groupOfTask.get(e.taskId) === group)
      .map((e) => ({ input: inputs.concatenatedIds(data.byId.get(e.taskId) as Task, e.studentInput), target: tok.encode(e.outputs[0] ?? '', { maxLength: c.prompt.maxTargetLength }) }));
    const dir = `${TEACHERS_DIR}/${teacherDirName(group)}`;
    if (gi === 0 && inputs.summary() !== undefined) run.progress.info(`warning: ${inputs.summary()}`);
    out.set(teacherDirName(group), await loraStage(run, `teachers/${teacherDirName(group)}`, dir, 'teacher', group, model, examples, tok, c.teachers, `teachers/${group} (${gi + 1}/${groups.length})`));
  }
  return out;
}

/** The multitask baseline: a LoRA on the frozen base, trained on the instruction-concatenated prompts. */
export async function trainMultitask(run: Run, model: T5ForConditionalGeneration, data: TaskData, tok: Tok): Promise<AdapterSet> {
  const c = run.config;
  run.checkStop();
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
  const examples = data.trainExamples.map((e) => ({ input: inputs.concatenatedIds(data.byId.get(e.taskId) as Task, e.studentInput), target: tok.encode(e.outputs[0] ?? '', { maxLength: c.prompt.maxTargetLength }) }));
  const cut = inputs.summary();
  if (cut !== undefined) run.progress.info(`warning: ${cut}`);
  return loraStage(run, 'multitask', MULTITASK_DIR, 'multitask-adapter', undefined, model, examples, tok, c.multitask);
}
