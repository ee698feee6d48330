// Every training stage of the trainer goes through here: an objective (a library's loss + sampler) is
// handed to tensor-core's `fit`, the one optimisation loop, with the run's optimiser, schedule, clipping,
// checkpoints (DirCheckpointStore under <run>/checkpoints/<stage>/), progress and stop signal.
import type * as tf from '@tensorflow/tfjs-core';
import { Adafactor, AdamW, type FitResult, type Objective, type StepRecord, fit, makeSchedule } from '@tagi/tensor-core';
import { CheckpointError, DirCheckpointStore } from '@tagi/tensor-core/node';
import type { TagiConfig, TrainSettings } from './config.js';
import { CliError } from './errors.js';
import { type Run, slug } from './run.js';

/** AdamW or Adafactor (config.optim) with linear warmup + the configured schedule. */
export function makeOptimizer(params: ReadonlyMap<string, tf.Variable>, t: TrainSettings, o: TagiConfig['optim']): AdamW | Adafactor {
  const lr = makeSchedule({ kind: o.schedule, lr: t.lr, warmupSteps: t.warmupSteps, totalSteps: Math.max(1, t.steps) });
  return o.optimizer === 'adamw' ? new AdamW(params, { lr, weightDecay: o.weightDecay }) : new Adafactor(params, { lr });
}

export interface StageTraining {
  /** Checkpoint dir of the stage, relative to the run dir. */
  readonly checkpoints: string;
  readonly result: FitResult;
  readonly seconds: number;
}

/**
 * Trains `objective` for `t.steps` updates as stage `name` of `run` (continuing from the stage's newest
 * usable checkpoint). On a stop (SIGINT/SIGTERM) `fit` saves a checkpoint and this throws the run's
 * InterruptedError. The caller writes the stage's outputs, then `run.finishStage(name, ...)`.
 */
export async function trainStage<B>(run: Run, name: string, objective: Objective<B>, t: TrainSettings, label = name): Promise<StageTraining> {
  const c = run.config;
  const checkpoints = ['checkpoints', ...slug(name).split('/')].join('/');
  const store = new DirCheckpointStore(run.path(checkpoints), {
    onWarning: (m) => run.progress.info(`warning: ${m}`),
    resumeCommand: run.resumeCommand,
  });
  await run.beginStage(name, t.steps, checkpoints);
  const optimizer = makeOptimizer(objective.params, t, c.optim);
  const t0 = performance.now();
  let result: FitResult;
  try {
    result = await fit({
      ...objective,
      name,
      optimizer,
      steps: t.steps,
      maxGradNorm: c.optim.maxGradNorm,
      checkpoints: store,
      ...(c.checkpointEvery > 0 ? { checkpointEvery: c.checkpointEvery } : {}),
      signal: run.signal,
      onStart: ({ resumedFrom }) => {
        run.metrics.truncate(name, resumedFrom);
        run.progress.startStage(name, t.steps, resumedFrom, label);
      },
      onStep: async (r: StepRecord) => {
        run.progress.step({ step: r.step, losses: { loss: r.loss, ...r.terms, gradNorm: r.gradNorm }, lr: r.lr, tokens: r.tokens });
        if (c.checkpointEvery > 0 && r.step % c.checkpointEvery === 0 && r.step < t.steps) await run.stageProgress(name, r.step);
      },
    });
  } catch (e) {
    if (e instanceof CheckpointError) throw new CliError(`${e.message}${e.advice ? '' : `; to restart the stage: rm -rf '${store.dir}' && ${run.resumeCommand}`}`);
    throw e;
  } finally {
    optimizer.dispose();
  }
  if (result.aborted) {
    await run.stageProgress(name, result.step);
    throw run.interrupted(`in stage ${name} at step ${result.step}/${t.steps}: checkpoint saved in ${store.dir}`);
  }
  const last = result.last;
  run.progress.endStage(last ? `loss=${last.loss.toPrecision(4)}` : undefined);
  return { checkpoints, result, seconds: (performance.now() - t0) / 1000 };
}
