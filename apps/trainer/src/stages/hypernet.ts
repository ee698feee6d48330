// Stages 2 and 3: the hypernetwork, trained with @tagi/hypernet's objectives by `fit`. Stage 2 pretrains
// on a|b|c splits of the training tasks' documents; stage 3 finetunes on the training tasks: TAGI (L_ce +
// λ1·KD from the instruction-concatenated multitask model + λ2·alignment with the task's LoRA teacher)
// and the CE-only hypernetwork (HINT-like). The student reads the task input alone; each task's
// instruction (@tagi/datasets' InstructionInputs: the same text and ids as evaluation and `tagi generate`) is encoded once.
import { InstructionInputs } from '@tagi/datasets';
import { type FusionKind, type HyperNetwork, type TeacherLogitCache, type FinetuneTask, finetuneObjective, pretrainObjective } from '@tagi/hypernet';
import { saveHypernet } from '@tagi/hypernet/node';
import type { AdapterSet } from '@tagi/lora';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { type TagiConfig, withNumPos } from '../config/config.js';
import type { TaskData, Tok } from '../data/tasks.js';
import { loadCheckedHypernet, newHypernet, teacherDirName } from '../data/models.js';
import type { Run } from '../run/run.js';
import { DEF_2POS } from '../results/results.js';
import { trainStage } from '../run/train.js';
import { teacherGroup } from './teachers.js';

/** Largest teacher-logit cache kept in memory during stage 3 (bytes). */
const TEACHER_CACHE_BUDGET_BYTES = 1024 ** 3;

export const HYPERNET_PRETRAINED_DIR = 'hypernet-pretrained';

/**
 * One finetuned hypernetwork of a run: its method row, loss weights, fusion and whether it starts from
 * the stage-2 weights. TAGI and the CE-only hypernetwork (HINT-like) in the demo; TAGI and one switch
 * off each in `tagi experiment ablations` (the paper's Table 4).
 */
export interface HypernetVariant {
  readonly id: string;
  readonly lambdaKl: number;
  readonly lambdaIns: number;
  /** A fusion other than the config's (the w/o-fusion ablation: 'none'). */
  readonly fusion?: FusionKind;
  /** Start from the pretrained (stage-2) weights. */
  readonly pretrained: boolean;
  /** Positive demonstrations in the instruction when not the config's (the Def+2Pos setting of `tagi experiment paper`). */
  readonly numPos?: number;
}

/**
 * `tagi experiment paper`: the paper's Table 2 (TAGI and the CE-only hypernetwork, on "Def" and on
 * "Def + 2 positive examples") and Table 4 (TAGI's ablations, on Def).
 */
export function paperVariants(c: TagiConfig): HypernetVariant[] {
  const kl = c.distill.lambdaKl;
  const ins = c.distill.lambdaIns;
  return [
    ...ablationVariants(c),
    { id: 'hint', lambdaKl: 0, lambdaIns: 0, pretrained: true },
    { id: `tagi${DEF_2POS}`, lambdaKl: kl, lambdaIns: ins, pretrained: true, numPos: 2 },
    { id: `hint${DEF_2POS}`, lambdaKl: 0, lambdaIns: 0, pretrained: true, numPos: 2 },
  ];
}

/** TAGI (the config's λ1, λ2) and the CE-only hypernetwork, both from the pretrained weights. */
export function demoVariants(c: TagiConfig): HypernetVariant[] {
  return [
    { id: 'tagi', lambdaKl: c.distill.lambdaKl, lambdaIns: c.distill.lambdaIns, pretrained: true },
    { id: 'hint', lambdaKl: 0, lambdaIns: 0, pretrained: true },
  ];
}

/** TAGI and its ablations: w/o hypernet pretraining, w/o L_kl, w/o L_ins, w/o fusion (paper Table 4). */
export function ablationVariants(c: TagiConfig): HypernetVariant[] {
  const kl = c.distill.lambdaKl;
  const ins = c.distill.lambdaIns;
  return [
    { id: 'tagi', lambdaKl: kl, lambdaIns: ins, pretrained: true },
    { id: 'tagi-no-pretrain', lambdaKl: kl, lambdaIns: ins, pretrained: false },
    { id: 'tagi-no-kl', lambdaKl: 0, lambdaIns: ins, pretrained: true },
    { id: 'tagi-no-ins', lambdaKl: kl, lambdaIns: 0, pretrained: true },
    { id: 'tagi-no-fusion', lambdaKl: kl, lambdaIns: ins, fusion: 'none', pretrained: true },
  ];
}

/** The KD teachers of L_kl (config distill.klTeacher) as @tagi/hypernet's teacher sources. */
export function klSources(c: TagiConfig): ('concat' | 'lora')[] {
  return c.distill.klTeacher === 'multitask' ? ['concat'] : c.distill.klTeacher === 'teachers' ? ['lora'] : ['concat', 'lora'];
}

/** Whether stage 3 needs the stage-1 teachers: for parameter alignment (λ2 > 0) or as KD teachers. */
export function needsTeachers(c: TagiConfig): boolean {
  return c.distill.lambdaIns > 0 || (c.distill.lambdaKl > 0 && c.distill.klTeacher !== 'multitask');
}

/** The seeds of the hypernetwork stages: seed, seed + 1, … (hypernet.seeds of them). */
export function hypernetSeeds(c: TagiConfig): number[] {
  return Array.from({ length: c.hypernet.seeds }, (_, i) => c.seed + i);
}

/** Stage name (= run-dir path) of one variant and seed: 'hypernet-tagi/seed-42'. */
export const variantStage = (id: string, seed: number) => `hypernet-${id}/seed-${seed}`;
const pretrainStage = (seed: number) => `${HYPERNET_PRETRAINED_DIR}/seed-${seed}`;
/** Run-state role of a variant's output: 'hypernet-tagi', 'hypernet-hint', 'hypernet-tagi-no-kl', … */
export const variantRole = (id: string) => `hypernet-${id}`;

/** The base model a hypernetwork trains on, with the directory its checkpoint records. */
export interface BaseModel {
  readonly model: T5ForConditionalGeneration;
  readonly dir: string;
}

/**
 * Stage 2 for one seed (or, when done, its reloaded output); undefined when hypernet.pretrain.steps is 0.
 * Documents: every training instance as one text (the Tk-Instruct prompt and its answer), split a|b|c.
 */
export async function pretrainHypernetStage(
  run: Run,
  base: BaseModel,
  data: TaskData | { readonly documents: readonly (readonly number[])[] },
  tok: Tok,
  seed = run.config.seed,
): Promise<HyperNetwork | undefined> {
  const c = run.config;
  const p = c.hypernet.pretrain;
  if (p.steps === 0) return undefined;
  const stage = pretrainStage(seed);
  if (run.isDone(stage)) return loadCheckedHypernet(run.path(stage), base.model);
  run.checkStop();
  const hn = newHypernet(c, base.model, base.dir, undefined, seed);
  const range = (n: number): [number, number] => [Math.max(1, Math.floor(n / 2)), n];
  // task documents: instruction, demonstrations, input and answer in one text, split a|b|c
  // (or the documents of a text corpus, `tagi pretrain --data FILE.jsonl|DIR`: corpus.ts)
  const documents =
    'documents' in data ? data.documents : data.trainExamples.map((e) => tok.encode(`${e.concatenated}${e.outputs[0] ?? ''}`, { addSpecialTokens: false }));
  const objective = pretrainObjective({
    hypernet: hn,
    documents,
    batchSize: p.batchSize,
    seed,
    split: { instruction: range(p.segmentA), input: range(p.segmentB), target: range(p.segmentC) },
  });
  try {
    const t = await trainStage(run, stage, objective, p, { model: base.model });
    await saveHypernet(run.path(stage), hn);
    const last = t.result.last;
    await run.finishStage(stage, {
      outputs: [{ role: 'hypernet-pretrained', kind: 'hypernet', path: stage, name: `seed-${seed}` }],
      ...(last ? { summary: { finalLoss: Number(last.loss.toPrecision(4)) } } : {}),
      seconds: t.seconds,
    });
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
  /** KD teacher logits shared by every seed and variant of the run (one teacher: the multitask model); the caller frees it. */
  readonly teacherCache?: TeacherLogitCache;
}

/**
 * The training tasks as stage 3 sees them: the hypernetwork's instruction ids (InstructionInputs, the ids
 * `tagi generate` computes for the same definition), the student's input alone, the target, the
 * concatenated prompt for the KD teacher, and the task's alignment teacher.
 */
export function finetuneTasks(
  c: TagiConfig,
  data: TaskData,
  tok: Tok,
  teachers: ReadonlyMap<string, AdapterSet> | undefined,
  inputs = new InstructionInputs(tok, c.prompt),
): FinetuneTask[] {
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

/** Stage 3, one variant and seed (or, when done, its reloaded output). Every variant of a seed starts from that seed's pretrained weights (or fresh ones). */
export async function finetuneHypernetStage(
  run: Run,
  variant: HypernetVariant,
  base: BaseModel,
  data: TaskData,
  tok: Tok,
  inputs: FinetuneInputs,
  seed = run.config.seed,
): Promise<HyperNetwork> {
  const stage = variantStage(variant.id, seed);
  if (run.isDone(stage)) return loadCheckedHypernet(run.path(stage), base.model);
  run.checkStop();
  const c = withNumPos(run.config, variant.numPos);
  const f = c.hypernet.finetune;
  const { lambdaKl, lambdaIns } = variant;
  const from = variant.pretrained ? inputs.pretrained : undefined;
  const hn = newHypernet(c, base.model, base.dir, from, seed, variant.fusion);
  // the instruction within this hypernetwork's own budget (a pretrained one's may differ from the config's): the ids evaluation and `tagi generate` give it
  const prepared = new InstructionInputs(tok, { ...c.prompt, maxInstructionLength: hn.config.maxInstructionLength });
  let objective: ReturnType<typeof finetuneObjective>;
  try {
    const sources = klSources(c);
    const tasks = finetuneTasks(c, data, tok, lambdaIns > 0 || (lambdaKl > 0 && sources.includes('lora')) ? inputs.teachers : undefined, prepared);
    // Teacher logits are cached per training example only when they fit a memory budget: a float32
    // [targetLength, vocab] block per example is small on the embedded suite's pruned vocabulary but tens
    // of GB for SNI with the full 32k vocabulary, where they are recomputed on the fly instead.
    const cacheBytes = tasks.reduce((n, t) => n + t.examples.length, 0) * c.prompt.maxTargetLength * base.model.config.vocabSize * 4;
    // ids are checked once, by the objective, where the batches' rows come from (the model's forward reads nothing back)
    objective = finetuneObjective({
      hypernet: hn,
      tasks,
      batchSize: f.batchSize,
      tasksPerBatch: f.tasksPerBatch,
      seed,
      loss: { lambdaKl, lambdaIns, temperature: c.distill.temperature, alignment: c.distill.alignment },
      ...(lambdaKl > 0
        ? {
            teacher: {
              sources,
              concatModel: base.model,
              ...(inputs.multitask ? { concatAdapters: inputs.multitask.deltas } : {}),
              cache: cacheBytes * sources.length <= TEACHER_CACHE_BUDGET_BYTES ? (inputs.teacherCache ?? true) : false,
            },
          }
        : {}),
    });
  } catch (e) {
    hn.dispose();
    throw e;
  }
  const cut = prepared.summary();
  if (cut !== undefined) run.progress.info(`warning: ${cut}`);
  try {
    const t = await trainStage(run, stage, objective, f, { model: base.model });
    await saveHypernet(run.path(stage), hn);
    const last = t.result.last;
    await run.finishStage(stage, {
      outputs: [{ role: variantRole(variant.id), kind: 'hypernet', path: stage, name: `seed-${seed}` }],
      ...(last
        ? {
            summary: {
              finalLoss: Number(last.loss.toPrecision(4)),
              ...Object.fromEntries(Object.entries(last.terms).map(([k, v]) => [`final_${k}`, Number(v.toPrecision(4))])),
            },
          }
        : {}),
      seconds: t.seconds,
    });
    return hn;
  } catch (e) {
    hn.dispose();
    throw e;
  } finally {
    objective.dispose();
  }
}
