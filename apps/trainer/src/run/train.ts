// Every training stage of the trainer goes through here: `fitStage` hands an objective (a library's loss +
// sampler) to tensor-core's `fit`, the one optimisation loop, with the run's optimiser, schedule, clipping,
// micro-batches, recomputation and checkpoints (DirCheckpointStore under <run>/checkpoints/<stage>/); its host
// is the single process's Run (`trainStage`: progress, run state, stop signal) or a queue worker's teacher job.
// A stage that diverges (fit's DivergenceError) ends with the host's error and a resume command with a lower lr.
import type * as tf from '@tensorflow/tfjs-core';
import { Adafactor, AdamW, DivergenceError, type FitResult, type Objective, type StepRecord, fit, formatLr, makeSchedule } from '@tagi/tensor-core';
import { CheckpointError, DirCheckpointStore } from '@tagi/tensor-core/node';
import type { TagiConfig, TrainSettings } from '../config/config.js';
import { CliError } from '../common/errors.js';
import { presetConfig } from '../config/resolve.js';
import { type Run, slug } from './run.js';

/** AdamW or Adafactor (config.optim) with linear warmup + the configured schedule. */
export function makeOptimizer(params: ReadonlyMap<string, tf.Variable>, t: TrainSettings, o: TagiConfig['optim']): AdamW | Adafactor {
  const lr = makeSchedule({ kind: o.schedule, lr: t.lr, warmupSteps: t.warmupSteps, totalSteps: Math.max(1, t.steps) });
  return o.optimizer === 'adamw' ? new AdamW(params, { lr, weightDecay: o.weightDecay }) : new Adafactor(params, { lr });
}

/** The dotted config key of a settings object of `c` (found by identity: 'base.train', 'hypernet.pretrain'). */
function settingsKey(node: unknown, target: object, prefix = ''): string | undefined {
  if (node === target) return prefix;
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  for (const [k, v] of Object.entries(node)) {
    const found = settingsKey(v, target, prefix ? `${prefix}.${k}` : k);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The message a diverged stage ends the command with: what was non-finite at which update and lr, what
 * was kept, and the command that continues with a lower learning rate — the preset's when the run's is
 * above it, else a tenth — plus clipping when it is off. `resumeAt`: the checkpoint a resume starts from
 * (0: the stage's beginning).
 */
function divergenceMessage(c: TagiConfig, e: DivergenceError, t: TrainSettings, resumeAt: number, resumeCommand: string): string {
  const at = settingsKey(c, t);
  const key = at === undefined ? undefined : `${at}.lr`;
  let presetLr: number | undefined;
  try {
    const v = key === undefined ? undefined : key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], presetConfig(c.preset));
    if (typeof v === 'number') presetLr = v;
  } catch {
    // a config whose preset this version does not know: no preset value to offer
  }
  const lower = presetLr !== undefined && presetLr < t.lr ? presetLr : t.lr / 10;
  const which = presetLr !== undefined && presetLr < t.lr ? ` (the ${c.preset} preset's)` : ' (a tenth)';
  const flag = key === undefined ? 'a lower lr for this stage' : `--${key}=${formatLr(lower)}`;
  const clip = c.optim.maxGradNorm === 0 ? ' --optim.max-grad-norm=1' : '';
  return (
    `stage ${e.run} diverged at update ${e.step}/${e.totalSteps}: ${e.detail}${e.lr !== undefined ? ` (lr ${formatLr(e.lr)})` : ''}; ` +
    `${e.applied ? 'its result was not saved' : 'the update was not applied and nothing of it saved'}, and the stage wrote no output` +
    `${e.removedCheckpoint !== undefined ? `; the checkpoint of update ${e.removedCheckpoint} was removed (its weights give this whatever the lr)` : ''}; ` +
    `${resumeAt > 0 ? `a resume continues from the checkpoint of update ${resumeAt}` : 'a resume starts the stage again'}. ` +
    `Continue with a lower learning rate${key === undefined ? '' : which}: ${resumeCommand} ${flag}${clip}`
  );
}

/** The newest checkpoint step of a store (0: none), where a resume of its stage starts. */
async function resumeStep(store: DirCheckpointStore): Promise<number> {
  return (await store.list())[0]?.step ?? 0;
}

export interface StageTraining {
  /** Checkpoint dir of the stage, relative to the run dir. */
  readonly checkpoints: string;
  readonly result: FitResult;
  readonly seconds: number;
}

/** The T5 a stage runs (frozen or trained): its blocks are recomputed while the stage trains when `train.recompute`. */
export interface RecomputableModel {
  setRecomputeBlocks(on: boolean): unknown;
}

/**
 * Where a stage's training reports and how it stops: the single process's Run (trainStage) or a queue worker's
 * job (queue/teachers.ts). Both train through `fitStage`, so every `train.*` key means the same on both.
 */
export interface FitHost {
  /** The stage's checkpoints: a stopped or crashed stage resumes from the newest usable one. */
  readonly store: DirCheckpointStore;
  readonly signal: AbortSignal;
  /** The command a diverged stage's message offers to continue with (a lower lr is appended). */
  readonly resumeCommand: string;
  onStart?(resumedFrom: number): void;
  onStep?(r: StepRecord): void | Promise<void>;
  /** Called once a diverged stage's checkpoints are settled, with the update a resume starts from. */
  onDiverged?(resumeAt: number): Promise<void>;
  /** The error a diverged stage ends with (its message names the resume command). */
  divergenceError(message: string): Error;
}

/** A stage's `train.microBatchSize` (undefined when the batch fits one part) and the T5 `train.recompute` switches; a key the stage cannot honour is refused, naming it. */
function memoryKeys<B>(c: TagiConfig, name: string, objective: Objective<B>, t: TrainSettings, model?: RecomputableModel) {
  const micro = t.microBatchSize !== undefined && t.microBatchSize < t.batchSize ? t.microBatchSize : undefined;
  if (micro !== undefined && objective.split === undefined) {
    throw new CliError(
      `--${settingsKey(c, t) ?? 'train'}.micro-batch-size: stage ${name} trains its batch in one pass (its objective cannot cut a batch into parts); remove the key`,
    );
  }
  const recompute = t.recompute === true ? model : undefined;
  if (t.recompute === true && recompute === undefined)
    throw new CliError(`--${settingsKey(c, t) ?? 'train'}.recompute: stage ${name} runs no T5 whose blocks could be recomputed; remove the key`);
  return { micro, recompute };
}

/**
 * The one driver around `fit`: the stage's optimiser and schedule (config.optim, `t`), clipping, micro-batches
 * (`t.microBatchSize`, when the objective can split), block recomputation (`t.recompute`, on `model`),
 * checkpoints every `checkpointEvery` updates, and a divergence turned into the host's error with a resume
 * command at a lower lr. A key the stage cannot honour is refused, naming it.
 */
export async function fitStage<B>(
  c: TagiConfig,
  name: string,
  objective: Objective<B>,
  t: TrainSettings,
  host: FitHost,
  model?: RecomputableModel,
): Promise<FitResult> {
  const { micro, recompute } = memoryKeys(c, name, objective, t, model);
  const optimizer = makeOptimizer(objective.params, t, c.optim);
  recompute?.setRecomputeBlocks(true);
  try {
    return await fit({
      ...objective,
      name,
      optimizer,
      steps: t.steps,
      maxGradNorm: c.optim.maxGradNorm,
      ...(micro !== undefined ? { microBatchSize: micro } : {}),
      checkpoints: host.store,
      ...(c.checkpointEvery > 0 ? { checkpointEvery: c.checkpointEvery } : {}),
      signal: host.signal,
      onStart: ({ resumedFrom }) => host.onStart?.(resumedFrom),
      onStep: (r: StepRecord) => host.onStep?.(r),
    });
  } catch (e) {
    if (e instanceof DivergenceError) {
      const at = await resumeStep(host.store);
      await host.onDiverged?.(at);
      throw host.divergenceError(divergenceMessage(c, e, t, at, host.resumeCommand));
    }
    throw e;
  } finally {
    optimizer.dispose();
    recompute?.setRecomputeBlocks(false);
  }
}

/** What `trainStage` passes on besides the objective: its progress label and the T5 it runs. */
export interface StageModels {
  /** Label of the stage in progress lines (default: its name). */
  readonly label?: string;
  readonly model?: RecomputableModel;
}

/**
 * Trains `objective` for `t.steps` updates as stage `name` of `run` (continuing from the stage's newest
 * usable checkpoint). On a stop (SIGINT/SIGTERM) `fit` saves a checkpoint and this throws the run's
 * InterruptedError. The caller writes the stage's outputs, then `run.finishStage(name, ...)`.
 */
export async function trainStage<B>(run: Run, name: string, objective: Objective<B>, t: TrainSettings, opts: StageModels = {}): Promise<StageTraining> {
  const c = run.config;
  const label = opts.label ?? name;
  const checkpoints = ['checkpoints', ...slug(name).split('/')].join('/');
  const store = new DirCheckpointStore(run.path(checkpoints), {
    onWarning: (m) => run.progress.info(`warning: ${m}`),
    resumeCommand: run.resumeCommand,
  });
  const host: FitHost = {
    store,
    signal: run.signal,
    resumeCommand: run.resumeCommand,
    onStart: (resumedFrom) => {
      run.metrics.truncate(name, resumedFrom);
      run.progress.startStage(name, t.steps, resumedFrom, label);
    },
    onStep: async (r) => {
      run.progress.step({ step: r.step, losses: { loss: r.loss, ...r.terms, gradNorm: r.gradNorm }, lr: r.lr, tokens: r.tokens });
      if (c.checkpointEvery > 0 && r.step % c.checkpointEvery === 0 && r.step < t.steps) await run.stageProgress(name, r.step);
    },
    onDiverged: (at) => run.stageProgress(name, at),
    divergenceError: (message) => new CliError(message),
  };
  memoryKeys(c, name, objective, t, opts.model); // refused before the stage is marked running
  await run.beginStage(name, t.steps, checkpoints);
  const t0 = performance.now();
  let result: FitResult;
  try {
    result = await fitStage(c, name, objective, t, host, opts.model);
  } catch (e) {
    if (e instanceof CheckpointError)
      throw new CliError(`${e.message}${e.advice ? '' : `; to restart the stage: rm -rf '${store.dir}' && ${run.resumeCommand}`}`);
    throw e;
  }
  if (result.aborted) {
    await run.stageProgress(name, result.step);
    throw run.interrupted(`in stage ${name} at step ${result.step}/${t.steps}: checkpoint saved in ${store.dir}`);
  }
  const last = result.last;
  run.progress.endStage(last ? `loss=${last.loss.toPrecision(4)}` : undefined);
  return { checkpoints, result, seconds: (performance.now() - t0) / 1000 };
}
