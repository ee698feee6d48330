// Stage (b): LoRA teachers by instance training, one per task category (or per task), through
// @tagi/lora's trainLoraTeacher. Stage (c): the instruction-concatenated multitask baseline (the
// Tk-Instruct analogue), a LoRA (or full fine-tune) of the frozen base on definition + examples + input;
// it is also the KD teacher of stage (e).
//
// The teachers read the same instruction-concatenated input as the multitask model: on the embedded
// suite a category holds several tasks whose rules differ only in their instruction (the 2nd vs the 3rd
// word), so an input-only category teacher could not tell them apart (the released TAGI scripts likewise
// train their LoRA teachers on Tk-Instruct prompts with positive examples).
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@tagi/tensor-core';
import { AdapterSet, loraConfig } from '@tagi/lora';
import { loadAdapter, saveAdapter, trainLoraTeacher } from '@tagi/lora/node';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { InterruptedError } from '../errors.js';
import { type RunContext, checkInterrupted, train } from '../run.js';
import { lossTrainable } from './common.js';
import type { TaskData, Tok } from './data.js';
import { makeOptimizer } from './optim.js';

export const TEACHERS_DIR = 'teachers';
export const MULTITASK_DIR = 'multitask-adapter';

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Teacher group of a training task: its category, or the task itself. */
export function teacherGroup(ctx: RunContext, task: { taskId: string; category: string }): string {
  return ctx.config.teachers.groupBy === 'category' ? task.category : task.taskId;
}

export async function teachersStage(ctx: RunContext, model: T5ForConditionalGeneration, data: TaskData, tok: Tok, done: boolean): Promise<Map<string, AdapterSet>> {
  const c = ctx.config;
  const groupOfTask = new Map(data.train.map((t) => [t.taskId, teacherGroup(ctx, t)]));
  const groups = [...new Set(groupOfTask.values())].sort();
  const out = new Map<string, AdapterSet>();
  const cfg = loraConfig({ r: c.teachers.rank, loraAlpha: c.teachers.alpha, targetModules: [...c.teachers.targetModules] });
  for (const [gi, group] of groups.entries()) {
    checkInterrupted(ctx);
    const dir = path.join(ctx.runDir, TEACHERS_DIR, slug(group));
    // saveAdapter writes adapter_config.json last, so its presence means the teacher dir is complete
    if (done || existsSync(path.join(dir, 'adapter_config.json'))) {
      out.set(group, await loadAdapter(dir));
      continue;
    }
    const records = data.trainExamples.filter((e) => groupOfTask.get(e.taskId) === group).map((e) => ({ input: e.concatenated, output: e.outputs[0] ?? '' }));
    const stage = `teachers/${group}`;
    ctx.progress.startStage(`${stage} (${gi + 1}/${groups.length})`, c.teachers.train.steps);
    const r = await trainLoraTeacher({
      model,
      tokenizer: tok,
      records,
      loraConfig: cfg,
      steps: c.teachers.train.steps,
      batchSize: c.teachers.train.batchSize,
      lr: c.teachers.train.lr,
      warmupSteps: c.teachers.train.warmupSteps,
      schedule: c.optim.schedule,
      clip: c.optim.maxGradNorm,
      weightDecay: c.optim.weightDecay,
      maxSourceLength: c.prompt.maxSourceLength,
      maxTargetLength: c.prompt.maxTargetLength,
      seed: c.seed,
      checkpointDir: path.join(ctx.runDir, 'checkpoints', 'teachers', slug(group)),
      checkpointEvery: c.checkpointEvery,
      resume: ctx.resume,
      signal: ctx.signal,
      onLog: (e) => ctx.progress.step({ step: e.step, losses: { loss: e.loss, gradNorm: e.gradNorm }, lr: e.lr, tokens: e.tokens }),
    });
    if (r.aborted) {
      r.adapter.dispose();
      throw new InterruptedError(path.join(ctx.runDir, 'checkpoints', 'teachers', slug(group)));
    }
    await saveAdapter(dir, r.adapter);
    out.set(group, r.adapter);
    ctx.progress.endStage(`loss=${r.log[r.log.length - 1]?.loss.toPrecision(4) ?? '?'}`);
  }
  return out;
}

/** The multitask baseline: a LoRA on the frozen base, trained on the instruction-concatenated prompts. */
export async function multitaskStage(ctx: RunContext, model: T5ForConditionalGeneration, data: TaskData, tok: Tok, done: boolean): Promise<AdapterSet> {
  const c = ctx.config;
  const dir = path.join(ctx.runDir, MULTITASK_DIR);
  if (done) return loadAdapter(dir);
  const set = AdapterSet.create(model, loraConfig({ r: c.multitask.rank, loraAlpha: c.multitask.alpha, targetModules: [...c.teachers.targetModules] }), { seed: c.seed });
  const params = set.namedVariables();
  const optim = makeOptimizer(params, c.multitask.train, c.optim);
  const pairs = data.trainExamples.map((e) => ({
    src: tok.encode(e.concatenated, { maxLength: c.prompt.maxSourceLength }),
    tgt: tok.encode(e.outputs[0] ?? '', { maxLength: c.prompt.maxTargetLength }),
  }));
  const root = new Rng(c.seed).fork('multitask');
  const trainable = lossTrainable({
    stage: 'multitask',
    totalSteps: c.multitask.train.steps,
    params,
    optim,
    padId: tok.padTokenId,
    batch: (step) => {
      const rng = root.fork(`step-${step}`);
      return Array.from({ length: c.multitask.train.batchSize }, () => pairs[Math.floor(rng.next() * pairs.length)] as (typeof pairs)[number]);
    },
    loss: (b) => {
      const out = model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: set.deltas });
      tf.dispose([out.logits, out.encoderLastHiddenState]);
      return out.loss as tf.Scalar;
    },
  });
  await train(ctx, trainable);
  await saveAdapter(dir, set);
  return set;
}
