// Stage 1: LoRA teachers by instance training — one per task (the paper's) or per task category — and
// the instruction-concatenated multitask baseline (the Tk-Instruct analogue, a KD teacher of stage 3).
// Teachers train in banks (@tagi/lora's loraBankObjective: every example runs with its own group's LoRA),
// so the 128 task teachers of the embedded suite cost one run rather than 128; each bank is one stage
// and, on a queue, one job.
//
// A task's teacher reads the instance input alone: it needs no instruction, and it is then a teacher of
// exactly what TAGI's student sees (KD on the same input, and an adapter the generated one can be aligned
// with). A category's teacher reads the instruction-concatenated prompt: the tasks of a category differ
// only in their instruction (the released TAGI scripts train their teachers on Tk-Instruct prompts).
import { InstructionInputs, type Task } from '@tagi/datasets';
import { type AdapterBank, type AdapterSet, type GroupedExample, type TokenizedExample, loraBankObjective, loraConfig, loraObjective } from '@tagi/lora';
import { saveAdapter } from '@tagi/lora/node';
import { type T5ForConditionalGeneration, checkIdRows } from '@tagi/t5-model';
import { type TagiConfig, type TrainSettings, withNumPos } from '../config/config.js';
import type { TaskData, Tok } from '../data/tasks.js';
import { loadCheckedAdapter, teacherDirName } from '../data/models.js';
import type { Run } from '../run/run.js';
import { trainStage } from '../run/train.js';

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
 * The objective of the multitask LoRA stage. Ids are checked once, here where the batches' rows are made
 * (the model's forward reads nothing back).
 */
function loraStageObjective(model: T5ForConditionalGeneration, examples: TokenizedExample[], tok: Tok, s: LoraSettings, seed: number, stage: string) {
  checkIdRows(
    examples.map((e) => e.input),
    model.config.vocabSize,
    `${stage} inputs`,
  );
  checkIdRows(
    examples.map((e) => e.target),
    model.config.vocabSize,
    `${stage} targets`,
  );
  return loraObjective({
    model,
    examples,
    padId: tok.padTokenId,
    config: loraConfig({ r: s.rank, loraAlpha: s.alpha, targetModules: s.targetModules }),
    batchSize: s.train.batchSize,
    seed,
  });
}

/** One bank of teachers: its stage name (= checkpoint dir under checkpoints/) and its groups, sorted. */
export interface TeacherBank {
  readonly stage: string;
  readonly groups: readonly string[];
}

/** The sorted teacher groups of the data cut into banks of teachers.bankSize (0: one bank of all). */
export function teacherBanks(c: TagiConfig, data: TaskData): TeacherBank[] {
  const groups = [...new Set(data.train.map((t) => teacherGroup(c, t)))].sort();
  const size = c.teachers.bankSize === 0 ? groups.length : c.teachers.bankSize;
  const n = Math.ceil(groups.length / size);
  return Array.from({ length: n }, (_, k) => ({
    stage: n === 1 ? 'teachers' : `teachers/bank-${k + 1}-of-${n}`,
    groups: groups.slice(k * size, (k + 1) * size),
  }));
}

/** Output dir of a group's teacher, relative to the run dir. */
export const teacherDir = (group: string) => `${TEACHERS_DIR}/${teacherDirName(group)}`;

/**
 * The objective of one bank: every training instance of its groups, each with its group's LoRA. A task's
 * teacher reads the instance input alone (the student's input); a category's reads the
 * instruction-concatenated prompt. Shared by the single process and the queue's teacher jobs.
 */
export function teacherBankObjective(model: T5ForConditionalGeneration, c: TagiConfig, data: TaskData, tok: Tok, bank: TeacherBank) {
  const index = new Map(bank.groups.map((g, i) => [g, i]));
  const inputs = new InstructionInputs(tok, c.prompt);
  const examples: GroupedExample[] = [];
  for (const e of data.trainExamples) {
    const task = data.byId.get(e.taskId) as Task;
    const group = index.get(teacherGroup(c, task));
    if (group === undefined) continue;
    const input = c.teachers.groupBy === 'task' ? inputs.studentInputIds(task, e.studentInput) : inputs.concatenatedIds(task, e.studentInput);
    examples.push({ group, input, target: tok.encode(e.outputs[0] ?? '', { maxLength: c.prompt.maxTargetLength }) });
  }
  checkIdRows(
    examples.map((e) => e.input),
    model.config.vocabSize,
    `${bank.stage} inputs`,
  );
  checkIdRows(
    examples.map((e) => e.target),
    model.config.vocabSize,
    `${bank.stage} targets`,
  );
  const s = c.teachers;
  const objective = loraBankObjective({
    model,
    examples,
    groups: bank.groups.length,
    names: bank.groups,
    padId: tok.padTokenId,
    config: loraConfig({ r: s.rank, loraAlpha: s.alpha, targetModules: s.targetModules }),
    batchSize: s.train.batchSize,
    seed: c.seed,
  });
  return { objective, summary: inputs.summary() };
}

/** Writes every group's teacher of a trained bank as a peft dir (`write(dir, adapter)` decides how). */
export async function saveBank(bank: TeacherBank, trained: AdapterBank, write: (dir: string, adapter: AdapterSet) => Promise<void>): Promise<void> {
  for (const [g, group] of bank.groups.entries()) {
    const adapter = trained.adapter(g);
    try {
      await write(teacherDir(group), adapter);
    } finally {
      adapter.dispose();
    }
  }
}

/** The teachers of every group of training tasks, trained bank by bank (or, when done, reloaded), by group dir name. */
export async function trainTeachers(run: Run, model: T5ForConditionalGeneration, data: TaskData, tok: Tok): Promise<Map<string, AdapterSet>> {
  const c = run.config;
  const out = new Map<string, AdapterSet>();
  const banks = teacherBanks(c, data);
  try {
    for (const [k, bank] of banks.entries()) {
      run.checkStop();
      if (!run.isDone(bank.stage)) {
        const { objective, summary } = teacherBankObjective(model, c, data, tok, bank);
        if (k === 0 && summary !== undefined) run.progress.info(`warning: ${summary}`);
        try {
          model.train();
          const label = `${bank.stage} (${bank.groups.length} ${c.teachers.groupBy === 'task' ? 'tasks' : 'categories'}${banks.length > 1 ? `, bank ${k + 1}/${banks.length}` : ''})`;
          const t = await trainStage(run, bank.stage, objective, c.teachers.train, { label, model });
          await saveBank(bank, objective.bank, (dir, adapter) => saveAdapter(run.path(dir), adapter));
          await run.finishStage(bank.stage, {
            outputs: bank.groups.map((group) => ({ role: 'teacher', kind: 'peft' as const, path: teacherDir(group), name: group })),
            seconds: t.seconds,
            ...(t.result.last ? { summary: { finalLoss: Number(t.result.last.loss.toPrecision(4)) } } : {}),
          });
        } finally {
          objective.bank.dispose();
          model.eval();
        }
      }
      for (const group of bank.groups) out.set(teacherDirName(group), await loadCheckedAdapter(run.path(teacherDir(group)), model));
    }
  } catch (e) {
    for (const a of out.values()) a.dispose();
    throw e;
  }
  return out;
}

/**
 * The multitask baseline: a LoRA on the frozen base, trained on the instruction-concatenated prompts (with
 * `numPos` demonstrations, default the config's, as stage `stage` into `dir`).
 */
export async function trainMultitask(
  run: Run,
  model: T5ForConditionalGeneration,
  data: TaskData,
  tok: Tok,
  o: { stage?: string; dir?: string; numPos?: number } = {},
): Promise<AdapterSet> {
  const c = run.config;
  const stage = o.stage ?? 'multitask';
  const dir = o.dir ?? MULTITASK_DIR;
  run.checkStop();
  if (run.isDone(stage)) return loadCheckedAdapter(run.path(dir), model);
  const inputs = new InstructionInputs(tok, withNumPos(c, o.numPos).prompt);
  const examples = data.trainExamples.map((e) => ({
    input: inputs.concatenatedIds(data.byId.get(e.taskId) as Task, e.studentInput),
    target: tok.encode(e.outputs[0] ?? '', { maxLength: c.prompt.maxTargetLength }),
  }));
  const cut = inputs.summary();
  if (cut !== undefined) run.progress.info(`warning: ${cut}`);
  const objective = loraStageObjective(model, examples, tok, c.multitask, c.seed, stage);
  try {
    model.train();
    const t = await trainStage(run, stage, objective, c.multitask.train, { model });
    await saveAdapter(run.path(dir), objective.adapter);
    await run.finishStage(stage, {
      outputs: [{ role: 'multitask-adapter', kind: 'peft', path: dir }],
      seconds: t.seconds,
      ...(t.result.last ? { summary: { finalLoss: Number(t.result.last.loss.toPrecision(4)) } } : {}),
    });
    return objective.adapter;
  } catch (e) {
    objective.adapter.dispose();
    throw e;
  } finally {
    model.eval();
  }
}
