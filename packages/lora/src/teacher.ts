// Stage 1 of TAGI: a LoRA "teacher" trained by instance training on one task (or task category).
// Only the LoRA factors are differentiated (the base model is frozen and never enters the gradient
// variable list), so the backward pass computes no weight gradients for the base.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, type DeltaMap, type Module, Rng, type ScheduleKind, clipGradNorm, makeSchedule, parseSafetensors, serializeSafetensors } from '@tagi/tensor-core';
import { writeFileAtomic } from '@tagi/tensor-core/node';
import { AdapterSet } from './adapter-set.js';
import { type LoraConfig, loraConfig as makeLoraConfig } from './config.js';
import { loadAdapter, saveAdapter } from './node.js';

/** The part of a seq2seq model (T5ForConditionalGeneration) teacher training uses. */
export interface Seq2SeqModel extends Module {
  forward(args: {
    inputIds: tf.Tensor2D;
    attentionMask?: tf.Tensor2D;
    labels?: tf.Tensor2D;
    adapters?: DeltaMap;
    rng?: Rng;
  }): { logits: tf.Tensor3D; loss?: tf.Scalar; encoderLastHiddenState: tf.Tensor3D };
}

/** What tokenises records (T5Tokenizer fits): `encode` appends eos, as HF's T5 tokenizer does. */
export interface RecordTokenizer {
  readonly padTokenId: number;
  encode(text: string, opts?: { maxLength?: number }): number[];
}

/** One tokenised example: source ids and target ids (both ending in eos). */
export interface TokenizedExample {
  input: readonly number[];
  target: readonly number[];
}

export interface TeacherLogEntry {
  step: number;
  epoch: number;
  /** Mean training loss over the step's micro-batches. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Target tokens (labels ≠ -100) this step. */
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
  /** Default: r 8, alpha 16 on T5's q, v. */
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
  /** Checkpoint (adapter + optimiser moments + trainer state) here, atomically, every `checkpointEvery` steps. */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Continue from `checkpointDir` when a checkpoint is there. */
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
  log: TeacherLogEntry[];
  /** Optimiser steps done in total (including resumed ones). */
  step: number;
  totalSteps: number;
  /** True when `signal` stopped the run early. */
  aborted: boolean;
}

export class TeacherTrainingError extends Error {
  override readonly name = 'TeacherTrainingError';
}

const TRAINER_STATE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

function tokenize(records: readonly { input: string; output: string }[], tok: RecordTokenizer, maxSrc?: number, maxTgt?: number, what = 'records'): TokenizedExample[] {
  return records.map((r, i) => {
    if (typeof r.input !== 'string' || typeof r.output !== 'string') throw new TeacherTrainingError(`${what}.${i}: expected { input: string, output: string }`);
    return { input: tok.encode(r.input, { maxLength: maxSrc }), target: tok.encode(r.output, { maxLength: maxTgt }) };
  });
}

/** Right-padded int32 batch: pad id for inputs, -100 for labels. */
export function collate(examples: readonly TokenizedExample[], padId: number): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D; labels: tf.Tensor2D; tokens: number } {
  const sLen = Math.max(...examples.map((e) => e.input.length));
  const tLen = Math.max(...examples.map((e) => e.target.length));
  const ids = new Int32Array(examples.length * sLen).fill(padId);
  const mask = new Int32Array(examples.length * sLen);
  const labels = new Int32Array(examples.length * tLen).fill(-100);
  let tokens = 0;
  examples.forEach((e, b) => {
    e.input.forEach((t, j) => {
      ids[b * sLen + j] = t;
      mask[b * sLen + j] = 1;
    });
    e.target.forEach((t, j) => {
      labels[b * tLen + j] = t;
    });
    tokens += e.target.length;
  });
  return {
    inputIds: tf.tensor2d(ids, [examples.length, sLen], 'int32'),
    attentionMask: tf.tensor2d(mask, [examples.length, sLen], 'int32'),
    labels: tf.tensor2d(labels, [examples.length, tLen], 'int32'),
    tokens,
  };
}

/** Token-weighted mean loss of `model` + `adapter` over `examples` (eval mode, no dropout). */
export function evalLoss(model: Seq2SeqModel, adapter: AdapterSet | undefined, examples: readonly TokenizedExample[], padId: number, batchSize = 8): number {
  const was = model.training;
  model.eval();
  let sum = 0;
  let count = 0;
  try {
    for (let i = 0; i < examples.length; i += batchSize) {
      const part = examples.slice(i, i + batchSize);
      const b = collate(part, padId);
      const l = tf.tidy(() => (model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: adapter?.deltas }).loss as tf.Scalar).dataSync()[0] as number);
      tf.dispose([b.inputIds, b.attentionMask, b.labels]);
      sum += l * b.tokens;
      count += b.tokens;
    }
  } finally {
    model.train(was);
  }
  return count === 0 ? Number.NaN : sum / count;
}

interface TrainerState {
  format: 'tagi-lora-teacher/1';
  step: number;
  totalSteps: number;
  seed: number;
  optimizerStep: number;
  paramSteps: Record<string, number>;
  log: TeacherLogEntry[];
}

// The example order of epoch e depends only on (seed, e), and the dropout stream of step s only on
// (seed, s): a run resumed at step s sees exactly what the uninterrupted run saw.
function epochOrder(seed: number, epoch: number, n: number): number[] {
  return new Rng(seed).fork(`epoch-${epoch}`).shuffle(Array.from({ length: n }, (_, i) => i));
}

async function writeCheckpoint(dir: string, adapter: AdapterSet, opt: AdamW, state: Omit<TrainerState, 'optimizerStep' | 'paramSteps'>): Promise<void> {
  // Written into a fresh sibling directory, then swapped in by renames: a crash leaves either the old
  // or the new checkpoint complete, never a mix.
  const parent = path.dirname(path.resolve(dir));
  await fs.promises.mkdir(parent, { recursive: true });
  const tmp = `${path.resolve(dir)}.tmp-${process.pid}`;
  const old = `${path.resolve(dir)}.old`;
  await fs.promises.rm(tmp, { recursive: true, force: true });
  await saveAdapter(tmp, adapter);
  const os = opt.stateDict();
  try {
    await writeFileAtomic(path.join(tmp, OPTIMIZER_FILE), serializeSafetensors(os.slots, { format: 'pt' }));
  } finally {
    tf.dispose([...os.slots.values()]);
  }
  const full: TrainerState = { ...state, optimizerStep: os.step, paramSteps: os.paramSteps };
  await writeFileAtomic(path.join(tmp, TRAINER_STATE), `${JSON.stringify(full, null, 2)}\n`);
  await fs.promises.rm(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) await fs.promises.rename(dir, old);
  await fs.promises.rename(tmp, dir);
  await fs.promises.rm(old, { recursive: true, force: true });
}

async function readCheckpoint(dir: string): Promise<{ adapter: AdapterSet; optimizer: Map<string, tf.Tensor>; state: TrainerState } | undefined> {
  let d = dir;
  if (!fs.existsSync(path.join(d, TRAINER_STATE))) {
    d = `${path.resolve(dir)}.old`; // interrupted between the two renames
    if (!fs.existsSync(path.join(d, TRAINER_STATE))) return undefined;
  }
  const state = JSON.parse(fs.readFileSync(path.join(d, TRAINER_STATE), 'utf8')) as TrainerState;
  if (state.format !== 'tagi-lora-teacher/1') throw new TeacherTrainingError(`${path.join(d, TRAINER_STATE)}: unknown format ${JSON.stringify(state.format)}`);
  const adapter = await loadAdapter(d, { trainable: true });
  const bytes = new Uint8Array(fs.readFileSync(path.join(d, OPTIMIZER_FILE)));
  return { adapter, optimizer: parseSafetensors(bytes, path.join(d, OPTIMIZER_FILE)).tensors, state };
}

/**
 * Trains a LoRA on seq2seq records with the base model frozen. Returns the adapter; with
 * `outputDir` also writes it as a peft dir plus `metrics.jsonl`. Leaves no tensors behind except
 * the returned adapter's.
 */
export async function trainLoraTeacher(opts: TrainLoraTeacherOptions): Promise<TeacherResult> {
  const { model } = opts;
  const padId = opts.tokenizer?.padTokenId ?? 0;
  let examples: readonly TokenizedExample[];
  if (opts.examples !== undefined) examples = opts.examples;
  else if (opts.records !== undefined && opts.tokenizer !== undefined) examples = tokenize(opts.records, opts.tokenizer, opts.maxSourceLength, opts.maxTargetLength);
  else throw new TeacherTrainingError('trainLoraTeacher: pass `examples`, or `records` with a `tokenizer`');
  if (examples.length === 0) throw new TeacherTrainingError('trainLoraTeacher: no training examples');
  let evalExamples: readonly TokenizedExample[] = opts.evalExamples ?? [];
  if (opts.evalRecords !== undefined) {
    if (opts.tokenizer === undefined) throw new TeacherTrainingError('trainLoraTeacher: evalRecords need a tokenizer');
    evalExamples = tokenize(opts.evalRecords, opts.tokenizer, opts.maxSourceLength, opts.maxTargetLength, 'evalRecords');
  }
  const batchSize = opts.batchSize ?? 8;
  const gradAccum = opts.gradAccum ?? 1;
  for (const [k, v] of [['batchSize', batchSize], ['gradAccum', gradAccum]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new TeacherTrainingError(`trainLoraTeacher: ${k} must be a positive integer, got ${v}`);
  }
  const microPerEpoch = Math.ceil(examples.length / batchSize);
  const stepsPerEpoch = Math.max(1, Math.floor(microPerEpoch / gradAccum));
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * stepsPerEpoch;
  if (!Number.isInteger(totalSteps) || totalSteps <= 0) throw new TeacherTrainingError(`trainLoraTeacher: steps must be a positive integer, got ${totalSteps}`);
  const seed = opts.seed ?? 0;
  const peakLr = opts.lr ?? 1e-3;
  const scheduleKind: ScheduleKind = opts.schedule ?? 'linear';
  const warmup = opts.warmupSteps ?? 0;
  const clip = opts.clip ?? 1;
  const evalEvery = opts.evalEvery ?? 0;
  const config = opts.loraConfig ?? makeLoraConfig({ r: 8, loraAlpha: 16 });

  let adapter: AdapterSet | undefined;
  let optState: { slots: Map<string, tf.Tensor>; step: number; paramSteps: Record<string, number> } | undefined;
  let step = 0;
  const log: TeacherLogEntry[] = [];
  if (opts.resume === true && opts.checkpointDir !== undefined) {
    const ck = await readCheckpoint(opts.checkpointDir);
    if (ck !== undefined) {
      if (ck.state.seed !== seed || ck.state.totalSteps !== totalSteps) {
        ck.adapter.dispose();
        tf.dispose([...ck.optimizer.values()]);
        throw new TeacherTrainingError(
          `${opts.checkpointDir}: checkpoint was made with seed ${ck.state.seed} and ${ck.state.totalSteps} steps, this run has seed ${seed} and ${totalSteps} steps`,
        );
      }
      adapter = ck.adapter;
      optState = { slots: ck.optimizer, step: ck.state.optimizerStep, paramSteps: ck.state.paramSteps };
      step = ck.state.step;
      log.push(...ck.state.log);
    }
  }
  adapter ??= AdapterSet.create(model, config, { rng: new Rng(seed).fork('lora-init') });
  const params = adapter.namedVariables();
  const varList = [...params.values()];
  const schedule = makeSchedule({ kind: scheduleKind, lr: peakLr, warmupSteps: warmup, totalSteps });
  const opt = new AdamW(params, { lr: schedule, weightDecay: opts.weightDecay ?? 0 });
  if (optState !== undefined) {
    try {
      opt.loadStateDict({ kind: 'adamw', ...optState });
    } finally {
      tf.dispose([...optState.slots.values()]);
    }
  }
  const nameOf = new Map([...params].map(([k, v]) => [v.name, k]));
  const wasTraining = model.training;
  let aborted = false;
  try {
    model.train();
    while (step < totalSteps) {
      if (isAborted(opts.signal)) {
        aborted = true;
        break;
      }
      const stepRng = new Rng(seed).fork(`step-${step}`);
      let accum: Map<string, tf.Tensor> | undefined;
      let lossSum = 0;
      let tokens = 0;
      const epoch = Math.floor((step * gradAccum) / microPerEpoch);
      for (let micro = 0; micro < gradAccum; micro++) {
        const global = step * gradAccum + micro;
        const e = Math.floor(global / microPerEpoch);
        const order = epochOrder(seed, e, examples.length);
        const start = (global % microPerEpoch) * batchSize;
        const part = order.slice(start, start + batchSize).map((i) => examples[i] as TokenizedExample);
        const b = collate(part, padId);
        const dropRng = stepRng.fork(`micro-${micro}`);
        const { value, grads } = tf.variableGrads(() => {
          const deltas = adapter.deltasForForward(true, part.length, dropRng.fork('lora'));
          return model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: deltas, rng: dropRng.fork('model') }).loss as tf.Scalar;
        }, varList);
        lossSum += value.dataSync()[0] as number;
        tokens += b.tokens;
        value.dispose();
        tf.dispose([b.inputIds, b.attentionMask, b.labels]);
        if (accum === undefined) {
          accum = new Map();
          for (const [vn, g] of Object.entries(grads)) accum.set(nameOf.get(vn) as string, g);
        } else {
          for (const [vn, g] of Object.entries(grads)) {
            const k = nameOf.get(vn) as string;
            const prev = accum.get(k) as tf.Tensor;
            accum.set(k, tf.add(prev, g));
            tf.dispose([prev, g]);
          }
        }
      }
      const grads = accum as Map<string, tf.Tensor>;
      if (gradAccum > 1) {
        for (const [k, g] of grads) {
          grads.set(k, tf.div(g, gradAccum));
          g.dispose();
        }
      }
      // sorted by name, so the norm's summation order does not depend on how the set was built
      const sorted = new Map([...grads].sort(([a], [b]) => (a < b ? -1 : 1)));
      let gradNorm: number;
      let lr: number;
      if (clip > 0) {
        const clipped = clipGradNorm(sorted, clip);
        gradNorm = clipped.norm;
        lr = opt.step(clipped.grads);
        tf.dispose([...clipped.grads.values()]);
      } else {
        gradNorm = tf.tidy(() => Math.sqrt(tf.addN([...sorted.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0] as number));
        lr = opt.step(sorted);
      }
      tf.dispose([...grads.values()]);
      step += 1;
      const entry: TeacherLogEntry = { step, epoch, loss: lossSum / gradAccum, lr, gradNorm, tokens };
      if (evalExamples.length > 0 && ((evalEvery > 0 && step % evalEvery === 0) || step === totalSteps)) {
        entry.evalLoss = evalLoss(model, adapter, evalExamples, padId, batchSize);
        model.train();
      }
      log.push(entry);
      opts.onLog?.(entry);
      const every = opts.checkpointEvery ?? 0;
      const stopping = isAborted(opts.signal);
      if (opts.checkpointDir !== undefined && ((every > 0 && step % every === 0) || stopping)) {
        await writeCheckpoint(opts.checkpointDir, adapter, opt, { format: 'tagi-lora-teacher/1', step, totalSteps, seed, log });
      }
    }
    if (opts.outputDir !== undefined && !aborted) {
      await saveAdapter(opts.outputDir, adapter);
      await writeFileAtomic(path.join(opts.outputDir, 'metrics.jsonl'), log.map((l) => JSON.stringify(l)).join('\n') + '\n');
    }
  } catch (e) {
    adapter.dispose();
    throw e;
  } finally {
    opt.dispose();
    model.train(wasTraining);
  }
  return { adapter, log, step, totalSteps, aborted };
}

// A function, so TypeScript does not narrow `signal.aborted` across awaits and callbacks.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
