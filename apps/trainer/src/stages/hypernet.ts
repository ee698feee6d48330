// Stages 2 and 3: the hypernetwork, trained with @tagi/hypernet's objectives by `fit`. Stage 2 pretrains
// on a|b|c splits of the training tasks' documents; stage 3 finetunes on the training tasks: TAGI (L_ce +
// λ1·KD from the instruction-concatenated multitask model + λ2·alignment with the task's LoRA teacher)
// and the CE-only hypernetwork (HINT-like). The student reads the task input alone; each task's
// instruction (instruction.ts: the same text and ids as evaluation and `tagi generate`) is encoded once.
import { type FinetuneTask, type HyperNetwork, finetuneObjective, pretrainObjective } from '@tagi/hypernet';
import { saveHypernet } from '@tagi/hypernet/node';
import type { AdapterSet } from '@tagi/lora';
import { type T5ForConditionalGeneration, checkIdRows } from '@tagi/t5-model';
import type { TagiConfig } from '../config.js';
import type { TaskData, Tok } from '../data.js';
import { InstructionInputs } from '../instruction.js';
import { loadCheckedHypernet, newHypernet, teacherDirName } from '../models.js';
import type { Run } from '../run.js';
import { trainStage } from '../train.js';
import { teacherGroup } from './teachers.js';

/** Largest teacher-logit cache kept in memory during stage 3 (bytes). */
const TEACHER_CACHE_BUDGET_BYTES = 1024 ** 3;

export const HYPERNET_PRETRAINED_DIR = 'hypernet-pretrained';
export type FinetuneVariant = 'tagi' | 'hint';
export const hypernetDir = (v: FinetuneVariant) => `hypernet-${v}`;

/** The base model a hypernetwork trains on, with the directory its checkpoint records. */
export interface BaseModel {
  readonly model: T5ForConditionalGeneration;
  readonly dir: string;
}

/** Stage 2 (or, when done, its reloaded output). */
export async function pretrainHypernetStage(run: Run, base: BaseModel, data: TaskData | { readonly documents: readonly (readonly number[])[] }, tok: Tok): Promise<HyperNetwork> {
  const stage = 'hypernet-pretrain';
  if (run.isDone(stage)) return loadCheckedHypernet(run.path(HYPERNET_PRETRAINED_DIR), base.model);
  run.checkStop();
  const c = run.config;
  const hn = newHypernet(c, base.model, base.dir);
  const p = c.hypernet.pretrain;
  const range = (n: number): [number, number] => [Math.max(1, Math.floor(n / 2)), n];
  // task documents: instruction, demonstrations, input and answer in one text, split a|b|c
  // (or the documents of a text corpus, `tagi pretrain --data FILE.jsonl|DIR`: corpus.ts)
  const documents = 'documents' in data ? data.documents : data.trainExamples.map((e) => tok.encode(`${e.concatenated}${e.outputs[0] ?? ''}`, { addSpecialTokens: false }));
  const objective = pretrainObjective({ hypernet: hn, documents, batchSize: p.batchSize, seed: c.seed, split: { instruction: range(p.segmentA), input: range(p.segmentB), target: range(p.segmentC) } });
  try {
    const t = await trainStage(run, stage, objective, p);
    await saveHypernet(run.path(HYPERNET_PRETRAINED_DIR), hn);
    await run.finishStage(stage, { outputs: [{ role: 'hypernet-pretrained', kind: 'hypernet', path: HYPERNET_PRETRAINED_DIR }], seconds: t.seconds });
    return hn;
  } catch (e) {
    hn.dispose();
    throw e;
  } finally {
    objective.dispose?.();
  }
}

/** What stage 3 distils from: the KD teacher (multitask LoRA) and the alignment teachers by group dir name. */
export interface FinetuneInputs {
  readonly pretrained?: HyperNetwork;
  readonly multitask?: AdapterSet;
  readonly teachers?: ReadonlyMap<string, AdapterSet>;
}

/**
 * The training tasks as stage 3 sees them: the hypernetwork's instruction ids (instruction.ts, the ids
 * `tagi generate` computes for the same definition), the student's input alone, the target, the
 * concatenated prompt for the KD teacher, and the task's alignment teacher.
 */
export function finetuneTasks(c: TagiConfig, data: TaskData, tok: Tok, teachers: ReadonlyMap<string, AdapterSet> | undefined, inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength)): FinetuneTask[] {
  const maxTgt = c.prompt.maxTargetLength;
  return data.train.map((task) => {
    const rows = data.trainExamples.filter((e) => e.taskId === task.taskId);
    const teacher = teachers?.get(teacherDirName(teacherGroup(c, task)));
    return {
      taskId: task.taskId,
      instructionIds: inputs.instructionIds(task),
      examples: rows.map((e) => ({
        id: e.instanceId,
        inputIds: inputs.studentInputIds(task, e.studentInput),
        labelIds: tok.encode(e.outputs[0] ?? '', { maxLength: maxTgt }),
        teacherInputIds: inputs.concatenatedIds(task, e.studentInput),
      })),
      ...(teacher ? { teacherAdapters: teacher.deltas } : {}),
    };
  });
}

/** Stage 3, one variant (or, when done, its reloaded output). Both variants start from the same pretrained weights. */
export async function finetuneHypernetStage(run: Run, variant: FinetuneVariant, base: BaseModel, data: TaskData, tok: Tok, inputs: FinetuneInputs): Promise<HyperNetwork> {
  const stage = hypernetDir(variant);
  if (run.isDone(stage)) return loadCheckedHypernet(run.path(hypernetDir(variant)), base.model);
  run.checkStop();
  const c = run.config;
  const f = c.hypernet.finetune;
  const lambdaKl = variant === 'tagi' ? c.distill.lambdaKl : 0;
  const lambdaIns = variant === 'tagi' ? c.distill.lambdaIns : 0;
  const prepared = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
  const tasks = finetuneTasks(c, data, tok, lambdaIns > 0 ? inputs.teachers : undefined, prepared);
  const cut = prepared.summary();
  if (cut !== undefined) run.progress.info(`warning: ${cut}`);
  // ids are checked once, here where the batches' rows are made (the model's forward reads nothing back)
  const vocab = base.model.config.vocabSize;
  checkIdRows(tasks.map((t) => t.instructionIds), vocab, `${stage} instructions`);
  for (const t of tasks) {
    checkIdRows(t.examples.map((e) => e.inputIds), vocab, `${stage} ${t.taskId} inputs`);
    checkIdRows(t.examples.map((e) => e.labelIds), vocab, `${stage} ${t.taskId} targets`);
    checkIdRows(t.examples.map((e) => e.teacherInputIds ?? []), vocab, `${stage} ${t.taskId} teacher inputs`);
  }
  // Teacher logits are cached per training example only when they fit a memory budget: a float32
  // [targetLength, vocab] block per example is small on the embedded suite's pruned vocabulary but tens
  // of GB for SNI with the full 32k vocabulary, where they are recomputed on the fly instead.
  const cacheBytes = tasks.reduce((n, t) => n + t.examples.length, 0) * c.prompt.maxTargetLength * base.model.config.vocabSize * 4;
  const hn = newHypernet(c, base.model, base.dir, inputs.pretrained);
  const objective = finetuneObjective({
    hypernet: hn,
    tasks,
    batchSize: f.batchSize,
    seed: c.seed,
    loss: { lambdaKl, lambdaIns, temperature: c.distill.temperature, alignment: c.distill.alignment },
    ...(lambdaKl > 0
      ? { teacher: { sources: ['concat' as const], concatModel: base.model, ...(inputs.multitask ? { concatAdapters: inputs.multitask.deltas } : {}), cache: cacheBytes <= TEACHER_CACHE_BUDGET_BYTES } }
      : {}),
  });
  try {
    const t = await trainStage(run, stage, objective, f);
    await saveHypernet(run.path(hypernetDir(variant)), hn);
    await run.finishStage(stage, { outputs: [{ role: stage, kind: 'hypernet', path: hypernetDir(variant) }], seconds: t.seconds });
    return hn;
  } catch (e) {
    hn.dispose();
    throw e;
  } finally {
    objective.dispose();
  }
}
