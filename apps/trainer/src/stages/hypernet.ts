// Stages (d) and (e): the hypernetwork, trained by @tagi/hypernet's loops with the app's checkpoint,
// resume and Ctrl-C handling. (d) stage-2 pretraining on a|b|c splits of the suite's task documents;
// (e) stage-3 finetuning on the training tasks: TAGI (L_ce + λ1·KD from the instruction-concatenated
// multitask model + λ2·alignment with the category LoRA teacher) and the CE-only hypernetwork (HINT-like).
// The student reads the task input alone; each task's instruction is encoded once.
import path from 'node:path';
import type { AdapterSet } from '@tagi/lora';
import { type FinetuneTask, HyperNetwork, finetuneHypernet, pretrainHypernet, type HypernetConfig } from '@tagi/hypernet';
import { loadHypernet, saveHypernet } from '@tagi/hypernet/node';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import type { TagiConfig } from '../config.js';
import { CheckpointError } from '../errors.js';
import { type RunContext, type StepOutput, trainExternal } from '../run.js';
import type { TaskData, Tok } from './data.js';
import { checkpointState, makeOptimizer } from './optim.js';

/** Largest teacher-logit cache kept in memory during stage 3 (bytes). */
const TEACHER_CACHE_BUDGET_BYTES = 1024 ** 3;

export const HYPERNET_PRETRAINED_DIR = 'hypernet-pretrained';
export const hypernetDir = (id: 'tagi' | 'hint') => `hypernet-${id}`;

/** The hypernet settings of the config as @tagi/hypernet's config. */
export function hypernetConfigFor(c: TagiConfig): Partial<HypernetConfig> {
  const mods = c.hypernet.targetModules.map((m) => m.replace(/[^A-Za-z0-9_]/g, '')).join('|');
  return {
    rank: c.hypernet.rank,
    loraAlpha: c.hypernet.alpha,
    hiddenDim: c.hypernet.hiddenDim,
    moduleEmbeddingDim: Math.max(8, Math.min(64, Math.floor(c.hypernet.hiddenDim / 4))),
    fusion: c.hypernet.fusion,
    targets: [`(encoder|decoder)\\.block\\.\\d+\\.layer\\.\\d+\\.(SelfAttention|EncDecAttention)\\.(${mods})`],
    maxInstructionLength: c.prompt.maxSourceLength,
  };
}

function stepOut(r: { loss: number; ce: number; kl: number | null; ins: number | null; gradNorm: number }, lr: number, tokens?: number): StepOutput {
  const losses: Record<string, number> = { loss: r.loss, ce: r.ce };
  if (r.kl !== null) losses['kl'] = r.kl;
  if (r.ins !== null) losses['ins'] = r.ins;
  losses['gradNorm'] = r.gradNorm;
  return { losses, lr, ...(tokens !== undefined ? { tokens } : {}) };
}

function trainableParams(hn: HyperNetwork) {
  return new Map(hn.namedParameters().filter(([, v]) => v.trainable));
}

export async function hypernetPretrainStage(ctx: RunContext, model: T5ForConditionalGeneration, modelDir: string, data: TaskData, tok: Tok, done: boolean): Promise<HyperNetwork> {
  const c = ctx.config;
  const dir = path.join(ctx.runDir, HYPERNET_PRETRAINED_DIR);
  if (done) return loadHypernet(dir, model);
  const hn = new HyperNetwork(model, hypernetConfigFor(c), { seed: c.seed, baseModelName: modelDir });
  const params = trainableParams(hn);
  const optim = makeOptimizer(params, c.hypernet.pretrain, c.optim);
  const ckpt = checkpointState(params, optim);
  // task documents: instruction, demonstrations, input and answer in one text, split a|b|c
  const documents = data.trainExamples.map((e) => tok.encode(`${e.concatenated}${e.outputs[0] ?? ''}`, { addSpecialTokens: false }));
  const p = c.hypernet.pretrain;
  const range = (n: number): [number, number] => [Math.max(1, Math.floor(n / 2)), n];
  await trainExternal(
    ctx,
    {
      stage: 'hypernet-pretrain',
      totalSteps: p.steps,
      stateTensors: () => ckpt.stateTensors(),
      stateMeta: () => ckpt.stateMeta(),
      restore: (t, m) => {
        try {
          ckpt.restore(t, m, 'hypernet-pretrain');
        } catch (e) {
          throw new CheckpointError('hypernet-pretrain', (e as Error).message);
        }
      },
    },
    async (start, hooks) => {
      let last: StepOutput | undefined;
      await pretrainHypernet({
        hypernet: hn,
        optimizer: { step: (g) => void optim.step(g) },
        steps: p.steps,
        batchSize: p.batchSize,
        seed: c.seed,
        startStep: start,
        documents,
        split: { instruction: range(p.segmentA), input: range(p.segmentB), target: range(p.segmentC) },
        onLog: (r) => (last = stepOut(r, optim.lr, p.batchSize * (p.segmentA + p.segmentB + p.segmentC))),
        checkpointEvery: 1,
        onCheckpoint: async (req) => hooks.afterStep(req.step, last as StepOutput),
      });
    },
  );
  await saveHypernet(dir, hn);
  return hn;
}

export interface FinetuneInputs {
  pretrained?: HyperNetwork;
  teachers?: ReadonlyMap<string, AdapterSet>;
  groupOf?: (task: { taskId: string; category: string }) => string;
  multitask?: AdapterSet;
}

export function finetuneTasks(ctx: RunContext, data: TaskData, tok: Tok, inputs: FinetuneInputs, withTeachers: boolean): FinetuneTask[] {
  const c = ctx.config;
  const maxSrc = c.prompt.maxSourceLength;
  const maxTgt = c.prompt.maxTargetLength;
  return data.train.map((task) => {
    const rows = data.trainExamples.filter((e) => e.taskId === task.taskId);
    const teacher = withTeachers && inputs.teachers && inputs.groupOf ? inputs.teachers.get(inputs.groupOf(task)) : undefined;
    return {
      taskId: task.taskId,
      instructionIds: tok.encode(rows[0]?.instruction ?? task.definition[0] ?? '', { maxLength: maxSrc }),
      examples: rows.map((e) => ({
        id: e.instanceId,
        inputIds: tok.encode(e.studentInput, { maxLength: maxSrc }),
        labelIds: tok.encode(e.outputs[0] ?? '', { maxLength: maxTgt }),
        teacherInputIds: tok.encode(e.concatenated, { maxLength: maxSrc }),
      })),
      ...(teacher ? { teacherAdapters: teacher.deltas } : {}),
    };
  });
}

export async function hypernetFinetuneStage(
  ctx: RunContext,
  id: 'tagi' | 'hint',
  model: T5ForConditionalGeneration,
  modelDir: string,
  data: TaskData,
  tok: Tok,
  inputs: FinetuneInputs,
  done: boolean,
): Promise<HyperNetwork> {
  const c = ctx.config;
  const dir = path.join(ctx.runDir, hypernetDir(id));
  if (done) return loadHypernet(dir, model);
  // both variants start from the same pretrained weights (a fresh copy each)
  const hn = new HyperNetwork(model, hypernetConfigFor(c), { seed: c.seed, baseModelName: modelDir });
  if (inputs.pretrained) hn.loadStateDict(inputs.pretrained.stateDict(), { strict: true });
  const params = trainableParams(hn);
  const f = c.hypernet.finetune;
  const optim = makeOptimizer(params, f, c.optim);
  const ckpt = checkpointState(params, optim);
  const tagi = id === 'tagi';
  const lambdaKl = tagi ? c.distill.lambdaKl : 0;
  const lambdaIns = tagi ? c.distill.lambdaIns : 0;
  const tasks = finetuneTasks(ctx, data, tok, inputs, lambdaIns > 0);
  const exampleTokens = tasks.flatMap((t) => t.examples.map((e) => e.inputIds.length + e.labelIds.length));
  const tokensPerStep = Math.round((f.batchSize * exampleTokens.reduce((a, b) => a + b, 0)) / Math.max(1, exampleTokens.length));
  const stage = `hypernet-${id}`;
  await trainExternal(
    ctx,
    {
      stage,
      totalSteps: f.steps,
      stateTensors: () => ckpt.stateTensors(),
      stateMeta: () => ckpt.stateMeta(),
      restore: (t, m) => {
        try {
          ckpt.restore(t, m, stage);
        } catch (e) {
          throw new CheckpointError(stage, (e as Error).message);
        }
      },
    },
    async (start, hooks) => {
      let last: StepOutput | undefined;
      // Teacher logits are cached per training example only when they fit a memory budget: a float32
      // [targetLength, vocab] block per example is small on the embedded suite's pruned vocabulary but
      // tens of GB for SNI with the full 32k vocabulary, where they are recomputed on the fly instead.
      const cacheBytes = tasks.reduce((n, t) => n + t.examples.length, 0) * c.prompt.maxTargetLength * model.config.vocabSize * 4;
      const cacheTeacher = cacheBytes <= TEACHER_CACHE_BUDGET_BYTES;
      await finetuneHypernet({
        hypernet: hn,
        optimizer: { step: (g) => void optim.step(g) },
        steps: f.steps,
        batchSize: f.batchSize,
        seed: c.seed,
        startStep: start,
        tasks,
        loss: { lambdaKl, lambdaIns, temperature: c.distill.temperature, alignment: c.distill.alignment },
        ...(lambdaKl > 0 ? { teacher: { sources: ['concat' as const], concatModel: model, ...(inputs.multitask ? { concatAdapters: inputs.multitask.deltas } : {}), cache: cacheTeacher } } : {}),
        onLog: (r) => (last = stepOut(r, optim.lr, tokensPerStep)),
        checkpointEvery: 1,
        onCheckpoint: async (req) => hooks.afterStep(req.step, last as StepOutput),
      });
    },
  );
  await saveHypernet(dir, hn);
  return hn;
}
