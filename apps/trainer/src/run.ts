// A run: its directory, resolved config, progress/metrics, resumable state, and the training loop every
// stage uses (checkpoints every N steps, exact resume, Ctrl-C saves before exit).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '@tagi/tensor-core/node';
import {
  TRAINER_STATE_FILE,
  type StageRecord,
  type TrainerState,
  configHash,
  loadCheckpoint,
  pruneCheckpoints,
  readTrainerState,
  saveCheckpoint,
  writeTrainerState,
} from './checkpoint.js';
import { type TagiConfig, stableJson, validateConfig } from './config.js';
import { CheckpointError, CliError, InterruptedError } from './errors.js';
import { MetricsWriter } from './metrics.js';
import { Progress, type ProgressSink } from './progress.js';

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';

export interface RunContext {
  readonly runDir: string;
  readonly config: TagiConfig;
  readonly progress: Progress;
  readonly resume: boolean;
  /** Aborted on SIGINT: the loop saves a checkpoint after the current step and stops. */
  readonly signal: AbortSignal;
  readonly state: TrainerState;
}

export interface OpenRunOptions {
  config: TagiConfig;
  runDir: string;
  resume: boolean;
  out: ProgressSink;
  tty?: boolean;
  signal?: AbortSignal;
}

/** Default run dir: runs/<name or UTC timestamp>. */
export function defaultRunDir(config: TagiConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return path.join('runs', config.name ?? `${config.preset}-${stamp}`);
}

/** Reads and validates a run dir's saved config (for --resume and inspect). */
export function readRunConfig(runDir: string): TagiConfig {
  const file = path.join(runDir, CONFIG_FILE);
  if (!existsSync(file)) throw new CliError(`--resume: ${file} not found (is '${runDir}' a run dir?)`);
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(file, `not valid JSON (${(e as Error).message})`);
  }
  return validateConfig(obj, file);
}

/**
 * Creates a fresh run dir (refusing one that already holds a run) or reopens one for --resume (the saved
 * config must still hash to what trainer_state.json recorded).
 */
export async function openRun(opts: OpenRunOptions): Promise<RunContext> {
  const { config, runDir } = opts;
  const hash = configHash(config);
  let state: TrainerState;
  if (opts.resume) {
    const saved = readTrainerState(runDir);
    if (saved === undefined) throw new CliError(`--resume: ${path.join(runDir, TRAINER_STATE_FILE)} not found; nothing to resume`);
    if (saved.configHash !== hash) {
      throw new CheckpointError(path.join(runDir, TRAINER_STATE_FILE), `config hash ${saved.configHash} does not match ${CONFIG_FILE} (${hash}); the config was edited after the run started`);
    }
    state = saved;
  } else {
    if (existsSync(path.join(runDir, TRAINER_STATE_FILE)) || existsSync(path.join(runDir, CONFIG_FILE))) {
      throw new CliError(`run dir '${runDir}' already holds a run; continue it with --resume --run-dir=${runDir}, or choose another --run-dir`);
    }
    mkdirSync(runDir, { recursive: true });
    await writeFileAtomic(path.join(runDir, CONFIG_FILE), stableJson(config));
    writeFileSync(path.join(runDir, METRICS_FILE), '');
    state = { version: 1, configHash: hash, stages: {} };
    await writeTrainerState(runDir, state);
  }
  const metrics = new MetricsWriter(path.join(runDir, METRICS_FILE));
  const progress = new Progress(opts.out, metrics, { ...(opts.tty !== undefined ? { tty: opts.tty } : {}), logEvery: config.logEvery });
  return { runDir, config, progress, resume: opts.resume, signal: opts.signal ?? new AbortController().signal, state };
}

export function stageRecord(ctx: RunContext, stage: string): StageRecord | undefined {
  return ctx.state.stages[stage];
}

export function isStageDone(ctx: RunContext, stage: string): boolean {
  return ctx.state.stages[stage]?.status === 'done';
}

export async function markStageDone(ctx: RunContext, stage: string, outputs: Record<string, string> = {}, summary: Record<string, number | string> = {}): Promise<void> {
  const prev = ctx.state.stages[stage];
  ctx.state.stages[stage] = { status: 'done', step: prev?.step ?? 0, totalSteps: prev?.totalSteps ?? 0, outputs, summary };
  await writeTrainerState(ctx.runDir, ctx.state);
  pruneCheckpoints(ctx.runDir, stage);
}

/** Throws InterruptedError when Ctrl-C arrived (between stages nothing needs saving). */
export function checkInterrupted(ctx: RunContext): void {
  if (ctx.signal.aborted) throw new InterruptedError(undefined);
}

export interface StepOutput {
  /** Every loss term by name; 'loss' is the optimised total. */
  losses: Record<string, number>;
  /** Tokens processed in this update (for tokens/s). */
  tokens?: number;
  lr?: number;
}

/**
 * A resumable training stage. `step(i)` must derive its batch and randomness from `i` (and the seed)
 * only, so that a resumed run sees exactly the batches an uninterrupted run sees.
 */
export interface Trainable {
  readonly stage: string;
  readonly totalSteps: number;
  /** Trainable tensors and optimiser slots (names unique). Not disposed by the loop. */
  stateTensors(): Map<string, tf.Tensor>;
  /** JSON state (optimiser step counter, RNG state, ...). */
  stateMeta(): Record<string, unknown>;
  /** Restores both; the loop disposes `tensors` afterwards. */
  restore(tensors: Map<string, tf.Tensor>, meta: Record<string, unknown>): void;
  step(step: number): Promise<StepOutput>;
}

async function checkpointNow(ctx: RunContext, t: Omit<Trainable, 'step'>, step: number): Promise<string> {
  const rel = await saveCheckpoint(ctx.runDir, t.stage, step, t.totalSteps, t.stateTensors(), t.stateMeta());
  ctx.state.stages[t.stage] = { status: 'running', step, totalSteps: t.totalSteps, checkpoint: rel };
  await writeTrainerState(ctx.runDir, ctx.state);
  pruneCheckpoints(ctx.runDir, t.stage, rel);
  return rel;
}

async function resumePoint(ctx: RunContext, t: Omit<Trainable, 'step'>): Promise<number> {
  const rec = ctx.state.stages[t.stage];
  if (rec === undefined || rec.status !== 'running' || rec.checkpoint === undefined) return 0;
  const { tensors, meta } = await loadCheckpoint(ctx.runDir, rec.checkpoint, t.stage);
  try {
    if (meta.totalSteps !== t.totalSteps) {
      throw new CheckpointError(path.join(ctx.runDir, rec.checkpoint), `stage '${t.stage}' has ${t.totalSteps} steps, the checkpoint was made for ${meta.totalSteps}`);
    }
    t.restore(tensors, meta.meta);
  } finally {
    for (const x of tensors.values()) x.dispose();
  }
  return meta.step;
}

/** Hooks a library training loop calls; they log, checkpoint every N steps and stop on Ctrl-C. */
export interface LoopHooks {
  /** After update `step` (1-based). Saves and throws InterruptedError when Ctrl-C arrived. */
  afterStep(step: number, out: StepOutput): Promise<void>;
}

/**
 * Runs a training loop owned by a library (hypernet's pretrain/finetune) with the same checkpoint,
 * resume and Ctrl-C behaviour as {@link train}: `run(startStep, hooks)` must continue from `startStep`.
 */
export async function trainExternal(
  ctx: RunContext,
  t: Omit<Trainable, 'step'>,
  run: (startStep: number, hooks: LoopHooks) => Promise<void>,
): Promise<StepOutput | undefined> {
  const start = await resumePoint(ctx, t);
  ctx.progress.startStage(t.stage, t.totalSteps, start);
  let last: StepOutput | undefined;
  const every = ctx.config.checkpointEvery;
  await run(start, {
    async afterStep(done, out) {
      last = out;
      ctx.progress.step({ step: done, losses: out.losses, ...(out.lr !== undefined ? { lr: out.lr } : {}), ...(out.tokens !== undefined ? { tokens: out.tokens } : {}) });
      const interrupted = ctx.signal.aborted;
      if (interrupted || (every > 0 && done % every === 0 && done < t.totalSteps)) {
        const rel = await checkpointNow(ctx, t, done);
        ctx.progress.event('checkpoint', { checkpoint: rel, at: done });
        if (interrupted) {
          ctx.progress.info(`[${t.stage}] interrupted at step ${done}: checkpoint saved to ${path.join(ctx.runDir, rel)}`);
          throw new InterruptedError(path.join(ctx.runDir, rel));
        }
      }
    },
  });
  // training is complete; the pipeline stage that owns this loop records its outputs separately
  ctx.state.stages[t.stage] = { status: 'done', step: t.totalSteps, totalSteps: t.totalSteps };
  ctx.progress.endStage(last ? Object.entries(last.losses).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ') : undefined);
  return last;
}

/** Runs `t` from its last checkpoint (with --resume) or from step 0. Returns the last step's output. */
export async function train(ctx: RunContext, t: Trainable): Promise<StepOutput | undefined> {
  return trainExternal(ctx, t, async (start, hooks) => {
    for (let s = start; s < t.totalSteps; s++) await hooks.afterStep(s + 1, await t.step(s));
  });
}
