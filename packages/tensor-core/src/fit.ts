// The one optimisation loop. Every trainer in the project (base pretraining, LoRA teachers, the multitask
// baseline, hypernetwork pretraining and finetuning) is a loss function plus a batch sampler handed to
// `fit`; the loop owns everything else: gradient accumulation, clipping, the optimiser update, evaluation,
// logging, checkpoints, resume, stopping on a signal, and stopping when training diverges (a NaN or ±Inf
// loss, loss term or gradient norm; weights or optimiser state about to be saved or handed back). Browser-
// safe: checkpoints go through an injected `CheckpointStore` (the directory store is in
// '@tagi/tensor-core/node').
import * as tf from '@tensorflow/tfjs-core';
import { findNonFinite } from './finite.js';
import { leanVariableGrads } from './lean-grads.js';
import { type GradMap, type OptimizerState, clipByGlobalNorm } from './optim.js';

/** The optimiser `fit` drives; tensor-core's AdamW and Adafactor satisfy it. */
export interface FitOptimizer {
  /** Applies one update from gradients keyed by parameter name; returns the learning rate used. */
  step(grads: GradMap): number;
  /** Updates taken so far (the schedule's position). */
  readonly stepCount: number;
  stateDict(): OptimizerState;
  loadStateDict(state: OptimizerState): void;
  /** The learning rate of the update at 0-based `step` (named in a DivergenceError; tensor-core's optimisers have it). */
  learningRate?(step: number): number;
}

/** Where the loop is when it asks for a batch or a loss. */
export interface StepContext {
  /** 0-based optimiser update. */
  readonly step: number;
  /** 0-based micro-batch within the update (gradient accumulation). */
  readonly micro: number;
  /**
   * 0-based part of the micro-batch when `microBatchSize` splits it (absent otherwise). A loss that draws
   * dropout masks from the context should fork on it, or every part reuses the first part's masks.
   */
  readonly part?: number;
}

/**
 * One part of a batch that `microBatchSize` splits, and its share of the batch's loss: the shares of a
 * batch's parts sum to 1 and Σ weight·loss(part) = loss(batch). For a token-mean loss the share is the
 * part's scored tokens over the batch's; for a per-example mean, its examples over the batch's.
 */
export interface BatchPart<B> {
  readonly batch: B;
  readonly weight: number;
}

/** What a loss function returns for one micro-batch; every tensor is owned by the loop. */
export interface LossOutput {
  /** The differentiated scalar. */
  readonly loss: tf.Scalar;
  /** Further scalars to log beside it (e.g. ce, kl, ins); read back with the loss in one host read. */
  readonly terms?: Readonly<Record<string, tf.Scalar>>;
}

/** A piece of state checkpointed beside parameters and optimiser (an RNG, a data cursor, ...). */
export interface ExtraState {
  /** Fresh tensors to save (the loop disposes them after saving). */
  tensors?(): Map<string, tf.Tensor>;
  meta(): Record<string, unknown>;
  /** Restores from what `tensors()`/`meta()` saved; the loop disposes `tensors` afterwards. */
  restore(tensors: ReadonlyMap<string, tf.Tensor>, meta: Record<string, unknown>): void;
}

/** One checkpoint as a store sees it. */
export interface Checkpoint {
  /** Completed optimiser updates. */
  readonly step: number;
  readonly totalSteps: number;
  /** `param.<name>`, `optim.<slot>`, `extra.<name>` tensors. */
  readonly tensors: Map<string, tf.Tensor>;
  /** JSON state: optimiser counters, extra state. */
  readonly meta: Record<string, unknown>;
}

/** Persists checkpoints; `load` returns the newest usable one (the caller owns its tensors). */
export interface CheckpointStore {
  save(checkpoint: Checkpoint): Promise<void>;
  load(): Promise<Checkpoint | undefined>;
  /**
   * Removes the checkpoint of `step` (completed updates) if there is one. `fit` calls it when the weights
   * saved at `step` give a non-finite loss or gradient: resuming there would fail the same way whatever the
   * learning rate. A store without it keeps such a checkpoint.
   */
  remove?(step: number): Promise<void>;
}

/** One logged optimiser update. */
export interface StepRecord {
  readonly name: string;
  /** 1-based: updates completed including this one. */
  readonly step: number;
  readonly totalSteps: number;
  /** Mean loss over the update's micro-batches. */
  readonly loss: number;
  /** Mean of each extra term over the micro-batches. */
  readonly terms: Readonly<Record<string, number>>;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  readonly lr: number;
  /** Tokens in the update (when `tokens` is given), else 0. */
  readonly tokens: number;
  readonly seconds: number;
  /** Present on updates where `evaluate` ran. */
  readonly eval?: Readonly<Record<string, number>>;
}

/**
 * What a training stage contributes to `fit`: its trainable parameters, a batch sampler and a loss. Library
 * packages export objectives (a LoRA teacher, hypernetwork pretraining or finetuning); callers spread one into
 * `fit({ ...objective, name, optimizer, steps, ... })` and `dispose()` it afterwards (it may hold caches).
 */
export interface Objective<B> {
  readonly params: ReadonlyMap<string, tf.Variable>;
  batch(ctx: StepContext): B;
  loss(batch: B, ctx: StepContext): LossOutput;
  tokens?(batch: B): number;
  release?(batch: B): void;
  /** Splits a batch into parts of at most `size` examples with their loss shares (see FitOptions.microBatchSize). */
  split?(batch: B, size: number): readonly BatchPart<B>[];
  /** Frees what the objective holds (caches, constant tensors), never the parameters. */
  dispose?(): void;
}

export interface FitOptions<B> {
  /** Name of the run or stage (logs, errors). */
  readonly name: string;
  /** Trainable parameters by stable name (checkpoint keys). Only these are differentiated. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly optimizer: FitOptimizer;
  /** Optimiser updates in total. */
  readonly steps: number;
  /** Micro-batches per update; gradients are averaged over them. Default 1. */
  readonly gradAccum?: number;
  /**
   * Examples per forward/backward pass, to bound memory: each micro-batch is cut by `split` into parts of at
   * most this many examples, run one after the other, and their gradients (and logged loss and terms) summed
   * with the parts' loss shares, so the update is the whole micro-batch's (up to float rounding) while the
   * activations alive at once are one part's. Needs `split`. Absent: each micro-batch in one pass.
   */
  readonly microBatchSize?: number;
  /**
   * The micro-batch for `ctx`. Must be a pure function of (ctx, the run's seed) so a resumed run sees the
   * batches an uninterrupted one sees.
   */
  batch(ctx: StepContext): B;
  /** The loss of one micro-batch; runs inside the gradient tape (no host reads here). */
  loss(batch: B, ctx: StepContext): LossOutput;
  /** Tokens of a batch, for throughput. */
  tokens?(batch: B): number;
  /** Frees a batch after its micro-step (and each part `split` made, after its pass). */
  release?(batch: B): void;
  /**
   * Cuts a batch into parts of at most `size` examples, each with its share of the batch's loss (shares sum
   * to 1; Σ weight·loss(part) must equal loss(batch) for the update to be the whole batch's). A part may be
   * the batch itself (weight 1); other parts are new batches that `release` frees.
   */
  split?(batch: B, size: number): readonly BatchPart<B>[];
  /** Clip the global gradient norm to this (PyTorch's clip_grad_norm_); 0 or absent: no clipping. */
  readonly maxGradNorm?: number;
  /** Run `evaluate` every this many updates and after the last. */
  readonly evalEvery?: number;
  evaluate?(step: number): Promise<Record<string, number>> | Record<string, number>;
  /**
   * Called once before the first update, after a checkpoint (if any) was restored: where the run starts.
   * A caller that appends per-step logs drops entries past `resumedFrom` here.
   */
  onStart?(start: { readonly resumedFrom: number; readonly totalSteps: number }): void | Promise<void>;
  /** Called after every update with its figures (the caller decides what to print). */
  onStep?(record: StepRecord): void | Promise<void>;
  /** Save every this many updates (and when stopped by `signal`). Needs `checkpoints`. */
  readonly checkpointEvery?: number;
  readonly checkpoints?: CheckpointStore;
  /** State saved with each checkpoint besides parameters and optimiser. */
  readonly extraState?: ExtraState;
  /** Checked after every update: when aborted, the loop saves a checkpoint and returns `aborted`. */
  readonly signal?: AbortSignal;
}

export interface FitResult {
  /** Updates completed. */
  readonly step: number;
  /** Update the run resumed from (0 for a fresh run). */
  readonly resumedFrom: number;
  readonly aborted: boolean;
  readonly last?: StepRecord;
}

/**
 * Training diverged: the loss, a loss term or the gradient norm of an update came out NaN or ±Inf (the update
 * was not applied), or the weights or optimiser state were non-finite when `fit` was about to save them or
 * hand them back (nothing was saved). A checkpoint holding the weights that gave it was removed from the store.
 */
export class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
  constructor(
    readonly run: string,
    /** The 1-based update that was refused (or whose result was refused). */
    readonly step: number,
    readonly totalSteps: number,
    /** What was non-finite: 'loss', a term ('ce', 'kl', …), 'gradNorm', or a state tensor ('param.<name>', 'optim.<slot>'). */
    readonly terms: readonly string[],
    /** The non-finite figures and their values, or the tensor and its counts, as the message gives them. */
    readonly detail: string,
    /** Learning rate of the update that made the weights in question (the previous one; for update 1, its own); undefined when the optimiser cannot say. */
    readonly lr: number | undefined,
    /** Step of the checkpoint removed because it holds the weights that gave this (undefined: none removed). */
    readonly removedCheckpoint: number | undefined,
    /** Whether the update was applied to the parameters in memory (non-finite state found after it); never saved either way. */
    readonly applied = false,
  ) {
    super(
      `${run}: training diverged at update ${step}/${totalSteps}: ${detail}${lr !== undefined ? ` (lr ${formatLr(lr)})` : ''}; ${applied ? 'its result was not saved' : 'the update was not applied and nothing of it saved'}` +
        `${removedCheckpoint !== undefined ? `, and the checkpoint of update ${removedCheckpoint} (its weights give this) was removed` : ''}; ` +
        'try a lower learning rate or gradient clipping (maxGradNorm)',
    );
  }
}

/** A learning rate as people write it: 0.003, 5e-05, 1e+12. */
export function formatLr(lr: number): string {
  if (lr === 0 || !Number.isFinite(lr)) return String(lr);
  const a = Math.abs(lr);
  return a >= 1e4 || a < 1e-3 ? Number(lr.toPrecision(3)).toExponential() : String(Number(lr.toPrecision(3)));
}

/** A checkpoint that does not fit the run it is loaded into. */
export class FitStateError extends Error {
  override readonly name = 'FitStateError';
  constructor(
    readonly run: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${run}: the checkpoint does not match this run: ${problems.slice(0, 6).join('; ')}${problems.length > 6 ? `; … (${problems.length} problems)` : ''}`,
    );
  }
}

function checkOptions<B>(o: FitOptions<B>): void {
  const int = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new RangeError(`fit(${o.name}): ${name} must be an integer >= ${min}, got ${v}`);
  };
  int(o.steps, 'steps', 0);
  int(o.gradAccum, 'gradAccum', 1);
  int(o.microBatchSize, 'microBatchSize', 1);
  if (o.microBatchSize !== undefined && o.split === undefined)
    throw new RangeError(`fit(${o.name}): microBatchSize needs split (how to cut a batch into parts, with their loss shares)`);
  int(o.evalEvery, 'evalEvery', 1);
  int(o.checkpointEvery, 'checkpointEvery', 1);
  if (o.maxGradNorm !== undefined && !(o.maxGradNorm >= 0)) throw new RangeError(`fit(${o.name}): maxGradNorm must be >= 0, got ${o.maxGradNorm}`);
  if (o.params.size === 0) throw new RangeError(`fit(${o.name}): no trainable parameters`);
  const frozen = [...o.params].filter(([, v]) => !v.trainable).map(([k]) => k);
  if (frozen.length > 0)
    throw new RangeError(
      `fit(${o.name}): parameters marked not trainable cannot be trained: ${frozen.slice(0, 5).join(', ')}${frozen.length > 5 ? ', …' : ''}`,
    );
}

/** Parameters, optimiser slots and extra state as one tensor map + JSON meta. */
function captureState<B>(o: FitOptions<B>, step: number): Checkpoint {
  const tensors = new Map<string, tf.Tensor>();
  for (const [k, p] of o.params) tensors.set(`param.${k}`, p);
  const opt = o.optimizer.stateDict();
  for (const [k, t] of opt.slots) tensors.set(`optim.${k}`, t);
  const extraTensors = o.extraState?.tensors?.() ?? new Map<string, tf.Tensor>();
  for (const [k, t] of extraTensors) tensors.set(`extra.${k}`, t);
  const meta: Record<string, unknown> = {
    optimizer: { kind: opt.kind, step: opt.step, paramSteps: opt.paramSteps },
    ...(o.extraState ? { extra: o.extraState.meta() } : {}),
  };
  return { step, totalSteps: o.steps, tensors, meta };
}

/** Disposes what `captureState` created (optimiser slot copies and extra tensors), never the parameters. */
function releaseCaptured<B>(o: FitOptions<B>, c: Checkpoint): void {
  for (const [k, t] of c.tensors) if (!k.startsWith('param.')) t.dispose();
}

function restoreState<B>(o: FitOptions<B>, c: Checkpoint): void {
  const problems: string[] = [];
  if (c.totalSteps !== o.steps) problems.push(`it was made for ${c.totalSteps} updates, this run has ${o.steps}`);
  for (const [k, p] of o.params) {
    const t = c.tensors.get(`param.${k}`);
    if (t === undefined) problems.push(`missing param.${k}`);
    else if (!tf.util.arraysEqual(t.shape, p.shape)) problems.push(`param.${k} has shape [${t.shape.join(', ')}], the run has [${p.shape.join(', ')}]`);
  }
  for (const k of c.tensors.keys()) {
    if (k.startsWith('param.') && !o.params.has(k.slice('param.'.length))) problems.push(`unexpected ${k}`);
  }
  const opt = c.meta['optimizer'] as { kind?: unknown; step?: unknown; paramSteps?: unknown } | undefined;
  if (opt === undefined || typeof opt.kind !== 'string' || typeof opt.step !== 'number') problems.push('meta.optimizer missing');
  if (o.extraState !== undefined && !('extra' in c.meta)) problems.push('meta.extra missing');
  if (problems.length > 0) throw new FitStateError(o.name, problems);
  for (const [k, p] of o.params) p.assign(c.tensors.get(`param.${k}`) as tf.Tensor);
  const slots = new Map<string, tf.Tensor>();
  const extra = new Map<string, tf.Tensor>();
  for (const [k, t] of c.tensors) {
    if (k.startsWith('optim.')) slots.set(k.slice('optim.'.length), t);
    else if (k.startsWith('extra.')) extra.set(k.slice('extra.'.length), t);
  }
  const o2 = opt as { kind: OptimizerState['kind']; step: number; paramSteps?: Record<string, number> };
  o.optimizer.loadStateDict({ kind: o2.kind, step: o2.step, paramSteps: o2.paramSteps ?? {}, slots });
  o.extraState?.restore(extra, (c.meta['extra'] ?? {}) as Record<string, unknown>);
}

/** `split`'s parts of one batch, checked: at least one, each share finite and >= 0, the shares summing to 1. */
function splitChecked<B>(o: FitOptions<B>, batch: B, size: number): readonly BatchPart<B>[] {
  const parts = (o.split as NonNullable<FitOptions<B>['split']>)(batch, size);
  const total = parts.reduce((a, p) => a + p.weight, 0);
  if (parts.length === 0 || parts.some((p) => !(p.weight >= 0) || !Number.isFinite(p.weight)) || Math.abs(total - 1) > 1e-6) {
    for (const p of parts) if (p.batch !== batch) o.release?.(p.batch);
    throw new RangeError(
      `fit(${o.name}): split must return parts whose loss shares are finite, >= 0 and sum to 1; got [${parts.map((p) => p.weight).join(', ')}]`,
    );
  }
  return parts;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * Runs `steps` optimiser updates (continuing from the newest checkpoint in `checkpoints` when there is
 * one). Per update: for each micro-batch (and, with `microBatchSize`, each of its parts in turn, weighted by
 * its loss share), the loss and its gradients w.r.t. `params` (nothing else is differentiated); gradients
 * averaged over micro-batches; the global norm computed and clipped on the device; one host read
 * for the logged figures; the optimiser update; evaluation and a checkpoint when due.
 *
 * Divergence stops the run with a DivergenceError: a NaN or ±Inf loss, term or gradient norm (before its
 * update is applied), non-finite state at a checkpoint (not written) or after the last update (the caller
 * must not write it). A checkpoint in the store holding the weights that gave the non-finite figures is
 * removed, so a resume with a lower learning rate starts from an earlier one.
 */
export async function fit<B>(o: FitOptions<B>): Promise<FitResult> {
  checkOptions(o);
  const names = [...o.params.keys()];
  const vars = names.map((k) => o.params.get(k) as tf.Variable);
  const accum = o.gradAccum ?? 1;
  const clip = o.maxGradNorm ?? 0;

  let start = 0;
  const saved = o.checkpoints ? await o.checkpoints.load() : undefined;
  /** Step of the newest checkpoint this run knows is in the store (the one it resumed from, or saved). */
  let newestSaved = saved?.step;
  if (saved !== undefined) {
    try {
      restoreState(o, saved);
    } finally {
      for (const t of saved.tensors.values()) t.dispose();
    }
    start = saved.step;
  }

  const lrOf = (step: number) => o.optimizer.learningRate?.(Math.max(0, step));
  // the weights after `step` updates gave something non-finite: a checkpoint of them goes (see CheckpointStore.remove)
  const diverged = async (step: number, terms: string[], detail: string, lr: number | undefined) => {
    let removed: number | undefined;
    if (newestSaved === step && o.checkpoints?.remove) {
      await o.checkpoints.remove(step);
      removed = step;
    }
    return new DivergenceError(o.name, step + 1, o.steps, terms, detail, lr, removed);
  };
  // never persists non-finite state: a checkpoint is either finite or not written
  const save = async (step: number) => {
    if (!o.checkpoints) return;
    const c = captureState(o, step);
    try {
      const bad = findNonFinite(c.tensors);
      if (bad !== undefined) {
        throw new DivergenceError(
          o.name,
          step,
          o.steps,
          [bad.tensor],
          `${bad.tensor} holds NaN: ${bad.nan}, ±Inf: ${bad.inf}`,
          lrOf(step - 1),
          undefined,
          true,
        );
      }
      await o.checkpoints.save(c);
      newestSaved = step;
    } finally {
      releaseCaptured(o, c);
    }
  };

  await o.onStart?.({ resumedFrom: start, totalSteps: o.steps });
  let last: StepRecord | undefined;
  for (let step = start; step < o.steps; step++) {
    // let the event loop turn once per update: a signal handler (SIGINT → abort) only runs then, and on
    // cpu/wasm every tfjs promise resolves as a microtask, so the loop's awaits alone never yield
    if (o.signal !== undefined) await yieldToEventLoop();
    if (o.signal?.aborted) {
      if (step > start) await save(step);
      return { step, resumedFrom: start, aborted: true, ...(last ? { last } : {}) };
    }
    const t0 = performance.now();
    let gradSum: tf.Tensor[] | undefined;
    // parameters the loss reached in some micro-batch; the others get no update (as PyTorch skips grad None)
    const touched = vars.map(() => false);
    // every loss and term share-weighted (1 without microBatchSize); a term's mean is over the micro-batches it came from
    const lossParts: tf.Scalar[] = [];
    const termParts = new Map<string, tf.Scalar[]>();
    const termMicros = new Map<string, number>();
    let tokens = 0;
    for (let micro = 0; micro < accum; micro++) {
      const batch = o.batch({ step, micro });
      try {
        if (o.tokens) tokens += o.tokens(batch);
        const parts = o.microBatchSize === undefined ? [{ batch, weight: 1 }] : splitChecked(o, batch, o.microBatchSize);
        const seen = new Set<string>();
        for (const [part, { batch: b, weight }] of parts.entries()) {
          const ctx: StepContext = o.microBatchSize === undefined ? { step, micro } : { step, micro, part };
          try {
            let kept: Record<string, tf.Scalar> = {};
            // the share scales the loss inside the tape, so the gradients come out scaled with it
            // tfjs's gradients, freeing each op's saved tensors and output gradients as the backward goes
            const { value, grads } = leanVariableGrads(() => {
              const out = o.loss(b, ctx);
              kept = {};
              for (const [k, t] of Object.entries(out.terms ?? {})) kept[k] = tf.keep(weight === 1 ? t : tf.mul(t, weight));
              return weight === 1 ? out.loss : tf.mul(out.loss, weight);
            }, vars);
            lossParts.push(value);
            for (const [k, t] of Object.entries(kept)) {
              const list = termParts.get(k) ?? [];
              list.push(t);
              termParts.set(k, list);
              if (!seen.has(k)) termMicros.set(k, (termMicros.get(k) ?? 0) + 1);
              seen.add(k);
            }
            vars.forEach((v, i) => (touched[i] = touched[i] || grads[v.name] != null));
            const ordered = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
            if (gradSum === undefined) gradSum = ordered;
            else {
              const prev = gradSum;
              gradSum = prev.map((g, i) => tf.add(g, ordered[i] as tf.Tensor));
              tf.dispose([...prev, ...ordered]);
            }
          } finally {
            if (b !== batch) o.release?.(b);
          }
        }
      } finally {
        o.release?.(batch);
      }
    }
    const summed = (gradSum as tf.Tensor[]).filter((g, i) => touched[i] || (g.dispose(), false));
    const updated = names.filter((_, i) => touched[i]);
    if (summed.length === 0) throw new RangeError(`fit(${o.name}): the loss reaches none of the parameters`);
    // mean over micro-batches, global norm and clipping, all on the device
    const mean = accum === 1 ? summed : tf.tidy(() => summed.map((g) => tf.div(g, accum)));
    const { grads, norm } = clipByGlobalNorm(mean, clip);
    tf.dispose(summed);
    if (mean !== summed) tf.dispose(mean);
    // one host read for every logged figure of this update, before the update is applied: a NaN or ±Inf
    // loss, term or gradient norm stops the run with the weights as they were
    const termNames = [...termParts.keys()];
    const figures = tf.tidy(() =>
      tf.stack([
        tf.div(tf.addN(lossParts), accum),
        norm,
        ...termNames.map((k) => tf.div(tf.addN(termParts.get(k) as tf.Scalar[]), termMicros.get(k) as number)),
      ]),
    );
    const values = await figures.data();
    tf.dispose([figures, norm, ...lossParts, ...[...termParts.values()].flat()]);
    const shown: [string, string, number][] = [
      ['loss', 'loss', values[0] as number],
      ...termNames.map((k, i): [string, string, number] => [k, k, values[2 + i] as number]),
      ['gradNorm', 'gradient norm', values[1] as number],
    ];
    const bad = shown.filter(([, , v]) => !Number.isFinite(v));
    if (bad.length > 0) {
      tf.dispose(grads);
      throw await diverged(
        step,
        bad.map(([k]) => k),
        bad.map(([, label, v]) => `${label} ${v}`).join(', '),
        lrOf(step - 1),
      );
    }
    const named = new Map<string, tf.Tensor>();
    grads.forEach((g, i) => named.set(updated[i] as string, g));
    const lr = o.optimizer.step(named);
    tf.dispose(grads);
    const done = step + 1;
    const evalDue = o.evaluate !== undefined && ((o.evalEvery !== undefined && done % o.evalEvery === 0) || done === o.steps);
    const evalFigures = evalDue ? await (o.evaluate as NonNullable<FitOptions<B>['evaluate']>)(done) : undefined;
    const terms: Record<string, number> = {};
    termNames.forEach((k, i) => (terms[k] = values[2 + i] as number));
    last = {
      name: o.name,
      step: done,
      totalSteps: o.steps,
      loss: values[0] as number,
      terms,
      gradNorm: values[1] as number,
      lr,
      tokens,
      seconds: (performance.now() - t0) / 1000,
      ...(evalFigures ? { eval: evalFigures } : {}),
    };
    await o.onStep?.(last);
    const checkpointDue = o.checkpointEvery !== undefined && done % o.checkpointEvery === 0 && done < o.steps;
    if (checkpointDue || (o.signal?.aborted && done < o.steps)) await save(done);
    if (o.signal?.aborted && done < o.steps) return { step: done, resumedFrom: start, aborted: true, last };
  }
  // the last update's result is checked before the caller writes it anywhere (one more host read)
  if (o.steps > start) {
    const bad = findNonFinite(o.params);
    if (bad !== undefined)
      throw new DivergenceError(
        o.name,
        o.steps,
        o.steps,
        [`param.${bad.tensor}`],
        `param.${bad.tensor} holds NaN: ${bad.nan}, ±Inf: ${bad.inf}`,
        lrOf(o.steps - 1),
        undefined,
        true,
      );
  }
  return { step: Math.max(start, o.steps), resumedFrom: start, aborted: false, ...(last ? { last } : {}) };
}
