// `trainLoraTeacher`: the LoRA objective run by tensor-core's `fit` (the one training loop: accumulation,
// clipping, schedule, checkpoints, resume, stopping) with AdamW, optional evaluation and a peft output
// dir. Node-only (checkpoints and outputs are files).
import path from 'node:path';
import { AdamW, type ScheduleKind, fit, makeSchedule } from '@tagi/tensor-core';
import { DirCheckpointStore, writeFileAtomic } from '@tagi/tensor-core/node';
import type { AdapterSet } from './adapter-set.js';
import type { LoraConfig } from './config.js';
import { saveAdapter } from './peft-files.js';
import { type RecordTokenizer, type Seq2SeqModel, TeacherTrainingError, type TokenizedExample, evalLoss, loraObjective, tokenizeRecords } from './teacher.js';

export interface TeacherLogEntry {
  step: number;
  epoch: number;
  /** Mean training loss over the step's micro-batches. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens processed this step: source + target, padding excluded (`processedTokens`). */
  tokens: number;
  evalLoss?: number;
}

export interface TrainLoraTeacherOptions {
  model: Seq2SeqModel;
  /** Needed with `records`; omit when passing `examples`. */
  tokenizer?: RecordTokenizer;
  records?: readonly { input: string; output: string }[];
  /** Pre-tokenised examples (instead of records + tokenizer). */
  examples?: readonly TokenizedExample[];
  evalRecords?: readonly { input: string; output: string }[];
  evalExamples?: readonly TokenizedExample[];
  /** Default: `loraConfig()`, peft's defaults (r 8, alpha 8, dropout 0 on T5's q, v). */
  loraConfig?: LoraConfig;
  /** Optimiser steps; default `epochs` × steps per epoch. */
  steps?: number;
  epochs?: number;
  batchSize?: number;
  /** Micro-batches per optimiser step (default 1). */
  gradAccum?: number;
  lr?: number;
  schedule?: ScheduleKind;
  warmupSteps?: number;
  /** Max global gradient norm (default 1; 0 = off). */
  clip?: number;
  weightDecay?: number;
  /** Eval loss every this many steps (and at the end) when eval data is given. */
  evalEvery?: number;
  maxSourceLength?: number;
  maxTargetLength?: number;
  seed?: number;
  /** A DirCheckpointStore directory: adapter, AdamW moments and the log, every `checkpointEvery` steps and on a stop. */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Continue from the newest usable checkpoint in `checkpointDir` (otherwise its checkpoints are removed first). */
  resume?: boolean;
  /** Write the final peft dir and `metrics.jsonl` here. */
  outputDir?: string;
  /** Stops cleanly after the current step (a checkpoint is written first when `checkpointDir` is set). */
  signal?: AbortSignal;
  onLog?: (entry: TeacherLogEntry) => void;
}

export interface TeacherResult {
  /** The trained adapter (caller owns it: dispose). */
  adapter: AdapterSet;
  /** One entry per optimiser step of the whole run (a resumed run includes the steps before the stop). */
  log: TeacherLogEntry[];
  /** Optimiser steps done in total (including resumed ones). */
  step: number;
  totalSteps: number;
  /** True when `signal` stopped the run early. */
  aborted: boolean;
}

/**
 * Trains a LoRA on seq2seq records with the base model frozen. Returns the adapter; with `outputDir`
 * also writes it as a peft dir plus `metrics.jsonl`. Leaves no tensors behind except the returned
 * adapter's.
 */
export async function trainLoraTeacher(opts: TrainLoraTeacherOptions): Promise<TeacherResult> {
  const { model } = opts;
  const padId = opts.tokenizer?.padTokenId ?? 0;
  const lengths = { maxSourceLength: opts.maxSourceLength, maxTargetLength: opts.maxTargetLength };
  let examples: readonly TokenizedExample[];
  if (opts.examples !== undefined) examples = opts.examples;
  else if (opts.records !== undefined && opts.tokenizer !== undefined) examples = tokenizeRecords(opts.records, opts.tokenizer, lengths);
  else throw new TeacherTrainingError('trainLoraTeacher: pass `examples`, or `records` with a `tokenizer`');
  if (examples.length === 0) throw new TeacherTrainingError('trainLoraTeacher: no training examples');
  let evalExamples: readonly TokenizedExample[] = opts.evalExamples ?? [];
  if (opts.evalRecords !== undefined) {
    if (opts.tokenizer === undefined) throw new TeacherTrainingError('trainLoraTeacher: evalRecords need a tokenizer');
    evalExamples = tokenizeRecords(opts.evalRecords, opts.tokenizer, { ...lengths, what: 'evalRecords' });
  }
  const batchSize = opts.batchSize ?? 8;
  const gradAccum = opts.gradAccum ?? 1;
  const seed = opts.seed ?? 0;
  const objective = loraObjective({ model, examples, padId, batchSize, gradAccum, seed, ...(opts.loraConfig ? { config: opts.loraConfig } : {}) });
  const { adapter } = objective;
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * objective.stepsPerEpoch;
  const microPerEpoch = Math.ceil(examples.length / batchSize);
  const optimizer = new AdamW(objective.params, {
    lr: makeSchedule({ kind: opts.schedule ?? 'linear', lr: opts.lr ?? 1e-3, warmupSteps: opts.warmupSteps ?? 0, totalSteps }),
    weightDecay: opts.weightDecay ?? 0,
  });
  const store = opts.checkpointDir === undefined ? undefined : new DirCheckpointStore(opts.checkpointDir);
  if (store !== undefined && opts.resume !== true) await store.clear();
  const log: TeacherLogEntry[] = [];
  const evalEvery = opts.evalEvery ?? 0;
  const wasTraining = model.training;
  try {
    if (!Number.isInteger(totalSteps) || totalSteps <= 0)
      throw new TeacherTrainingError(`trainLoraTeacher: steps must be a positive integer, got ${totalSteps}`);
    model.train();
    const r = await fit({
      ...objective,
      name: 'lora-teacher',
      optimizer,
      steps: totalSteps,
      gradAccum,
      maxGradNorm: opts.clip ?? 1,
      ...(evalExamples.length > 0
        ? { evalEvery: evalEvery > 0 ? evalEvery : totalSteps, evaluate: () => ({ loss: evalLoss(model, adapter, evalExamples, padId, batchSize) }) }
        : {}),
      onStep: (rec) => {
        const entry: TeacherLogEntry = {
          step: rec.step,
          epoch: Math.floor(((rec.step - 1) * gradAccum) / microPerEpoch),
          loss: rec.loss,
          lr: rec.lr,
          gradNorm: rec.gradNorm,
          tokens: rec.tokens,
          ...(rec.eval?.['loss'] !== undefined ? { evalLoss: rec.eval['loss'] } : {}),
        };
        log.push(entry);
        opts.onLog?.(entry);
      },
      ...(store ? { checkpoints: store, ...(opts.checkpointEvery ? { checkpointEvery: opts.checkpointEvery } : {}) } : {}),
      // the run's identity and its log so far travel with each checkpoint
      extraState: {
        meta: () => ({ seed, totalSteps, log }),
        restore: (_t, meta) => {
          if (meta['seed'] !== seed) {
            throw new TeacherTrainingError(
              `${opts.checkpointDir}: checkpoint was made with seed ${String(meta['seed'])} and ${String(meta['totalSteps'])} steps, this run has seed ${seed} and ${totalSteps} steps`,
            );
          }
          log.splice(0, log.length, ...((meta['log'] as TeacherLogEntry[] | undefined) ?? []));
        },
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (opts.outputDir !== undefined && !r.aborted) {
      await saveAdapter(opts.outputDir, adapter);
      await writeFileAtomic(path.join(opts.outputDir, 'metrics.jsonl'), log.map((l) => JSON.stringify(l)).join('\n') + '\n');
    }
    return { adapter, log, step: r.step, totalSteps, aborted: r.aborted };
  } catch (e) {
    adapter.dispose();
    throw e;
  } finally {
    optimizer.dispose();
    model.train(wasTraining);
  }
}
