// Optimisers over named variables, with state that can be saved and restored for resume, plus
// gradient clipping and accumulation. Gradients arrive as a map keyed by parameter name (as given to
// the constructor) or by tfjs variable name (what tf.variableGrads returns).
import * as tf from '@tensorflow/tfjs-core';
import type { LrSchedule } from './schedule.js';

export type GradMap = ReadonlyMap<string, tf.Tensor> | tf.NamedTensorMap;

/** Everything needed to resume: JSON-able scalars plus tensor slots (caller owns the tensors). */
export interface OptimizerState {
  kind: 'adamw' | 'adafactor';
  /** Optimizer steps taken. */
  step: number;
  /** Steps each parameter has been updated (a parameter without a gradient is skipped). */
  paramSteps: Record<string, number>;
  /** Slot tensors keyed `<param name>.<slot>`, e.g. 'encoder.block.0.q.weight.exp_avg'. */
  slots: Map<string, tf.Tensor>;
}

export type NamedParams = Iterable<[string, tf.Variable]>;

function entries(grads: GradMap): [string, tf.Tensor][] {
  return grads instanceof Map ? [...grads] : Object.entries(grads as tf.NamedTensorMap);
}

function resolveLr(lr: number | LrSchedule, step: number): number {
  const v = typeof lr === 'function' ? lr(step) : lr;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`optimizer: learning rate must be a finite number >= 0, got ${v} at step ${step}`);
  return v;
}

abstract class NamedOptimizer {
  protected readonly params = new Map<string, tf.Variable>();
  private readonly byVarName = new Map<string, string>();
  protected readonly slots = new Map<string, Map<string, tf.Variable>>();
  protected readonly paramSteps = new Map<string, number>();
  /** Optimizer steps taken so far. */
  stepCount = 0;

  constructor(params: NamedParams) {
    for (const [name, v] of params) {
      if (this.params.has(name)) throw new Error(`optimizer: parameter '${name}' given twice`);
      this.params.set(name, v);
      this.byVarName.set(v.name, name);
    }
  }

  protected abstract readonly kind: OptimizerState['kind'];

  /** Applies one update from gradients keyed by parameter (or tfjs variable) name. */
  abstract step(grads: GradMap): number;

  // Maps gradient keys to parameter names; unknown keys are an error (they usually mean a gradient
  // for a frozen or foreign variable was passed in by mistake).
  protected resolve(grads: GradMap): [string, tf.Variable, tf.Tensor][] {
    const out: [string, tf.Variable, tf.Tensor][] = [];
    for (const [key, g] of entries(grads)) {
      const name = this.params.has(key) ? key : this.byVarName.get(key);
      const v = name === undefined ? undefined : this.params.get(name);
      if (name === undefined || v === undefined) throw new Error(`optimizer.step: gradient for unknown parameter '${key}'`);
      if (!tf.util.arraysEqual(g.shape, v.shape)) {
        throw new RangeError(`optimizer.step: gradient for '${name}' has shape [${g.shape.join(', ')}], parameter is [${v.shape.join(', ')}]`);
      }
      out.push([name, v, g]);
    }
    return out;
  }

  protected slot(name: string, slot: string, init: () => tf.Tensor): tf.Variable {
    let m = this.slots.get(name);
    if (m === undefined) {
      m = new Map();
      this.slots.set(name, m);
    }
    let v = m.get(slot);
    if (v === undefined) {
      const t = init();
      v = tf.variable(t, false);
      t.dispose();
      m.set(slot, v);
    }
    return v;
  }

  stateDict(): OptimizerState {
    const slots = new Map<string, tf.Tensor>();
    for (const [name, m] of this.slots) for (const [s, v] of m) slots.set(`${name}.${s}`, tf.clone(v));
    return { kind: this.kind, step: this.stepCount, paramSteps: Object.fromEntries(this.paramSteps), slots };
  }

  /** Restores state saved by `stateDict()`; the caller keeps ownership of `state.slots`. */
  loadStateDict(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`loadStateDict: state is for '${state.kind}', this optimizer is '${this.kind}'`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`loadStateDict: step must be a non-negative integer, got ${state.step}`);
    const parsed: [string, string, tf.Tensor][] = [];
    for (const [key, t] of state.slots) {
      const name = [...this.params.keys()].find((p) => key.startsWith(`${p}.`) && !key.slice(p.length + 1).includes('.'));
      if (name === undefined) throw new Error(`loadStateDict: slot '${key}' belongs to no parameter of this optimizer`);
      parsed.push([name, key.slice(name.length + 1), t]);
    }
    for (const name of Object.keys(state.paramSteps)) {
      if (!this.params.has(name)) throw new Error(`loadStateDict: paramSteps names unknown parameter '${name}'`);
    }
    this.disposeSlots();
    for (const [name, s, t] of parsed) this.slot(name, s, () => tf.clone(t));
    this.stepCount = state.step;
    this.paramSteps.clear();
    for (const [k, v] of Object.entries(state.paramSteps)) this.paramSteps.set(k, v);
  }

  private disposeSlots(): void {
    for (const m of this.slots.values()) for (const v of m.values()) v.dispose();
    this.slots.clear();
  }

  /** Frees the optimizer's state (not the parameters). */
  dispose(): void {
    this.disposeSlots();
  }
}

export interface AdamWOptions {
  lr: number | LrSchedule;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (PyTorch default 0.01). */
  weightDecay?: number;
  /** Parameters (by name) exempt from weight decay, e.g. biases and norm weights. */
  noDecay?: (name: string) => boolean;
}

/**
 * AdamW as PyTorch's `torch.optim.AdamW` (Loshchilov & Hutter): p ← p·(1 − lr·wd), then the
 * bias-corrected Adam update lr·m̂ / (sqrt(v̂) + eps).
 */
export class AdamW extends NamedOptimizer {
  protected readonly kind = 'adamw' as const;
  private readonly opts: Required<Omit<AdamWOptions, 'noDecay'>> & Pick<AdamWOptions, 'noDecay'>;

  constructor(params: NamedParams, opts: AdamWOptions) {
    super(params);
    this.opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...opts };
    const { beta1, beta2, eps, weightDecay } = this.opts;
    if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`AdamW: beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`AdamW: beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps >= 0)) throw new RangeError(`AdamW: eps must be >= 0, got ${eps}`);
    if (!(weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be >= 0, got ${weightDecay}`);
  }

  /** The learning rate of the update at 0-based `step` (default: the next one). */
  learningRate(step = this.stepCount): number {
    return resolveLr(this.opts.lr, step);
  }

  /** Applies one update; returns the learning rate used. */
  step(grads: GradMap): number {
    const lr = this.learningRate();
    const { beta1, beta2, eps, weightDecay, noDecay } = this.opts;
    const items = this.resolve(grads);
    tf.tidy(() => {
      for (const [name, p, g] of items) {
        const t = (this.paramSteps.get(name) ?? 0) + 1;
        this.paramSteps.set(name, t);
        const m = this.slot(name, 'exp_avg', () => tf.zerosLike(p));
        const v = this.slot(name, 'exp_avg_sq', () => tf.zerosLike(p));
        const m2 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v2 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(m2);
        v.assign(v2);
        const bc1 = 1 - beta1 ** t;
        const bc2 = 1 - beta2 ** t;
        const denom = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(bc2)), eps);
        const decayed = weightDecay > 0 && noDecay?.(name) !== true ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m2, denom), lr / bc1)));
      }
    });
    this.stepCount++;
    return lr;
  }
}

export interface AdafactorOptions {
  /** External learning rate; when omitted the relative step size min(1e-2, 1/sqrt(t)) is used. */
  lr?: number | LrSchedule;
  /** (regulariser added to squared gradients, floor of the parameter scale); HF default (1e-30, 1e-3). */
  eps?: [number, number];
  /** Updates are scaled down so their RMS is at most this (default 1). */
  clipThreshold?: number;
  /** Second-moment decay: beta2_t = 1 − t^decayRate (default −0.8). */
  decayRate?: number;
  /** First moment (momentum) coefficient; none by default. */
  beta1?: number;
  weightDecay?: number;
  /** Multiply the step size by max(eps[1], RMS(p)) (HF default true). */
  scaleParameter?: boolean;
  /** Relative step size; default: on when no `lr` is given, off otherwise (HF refuses both). */
  relativeStep?: boolean;
  /** With relativeStep: grow the step as 1e-6·t (HF's warmup_init). */
  warmupInit?: boolean;
}

function rms(t: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.mean(tf.square(t))) as tf.Scalar;
}

/**
 * Adafactor (Shazeer & Stern 2018) with the semantics of HF transformers' `Adafactor`: factored
 * second moments (row and column means) for parameters of rank >= 2, update clipping by RMS,
 * optional parameter-scaled and relative step sizes, optional first moment.
 */
export class Adafactor extends NamedOptimizer {
  protected readonly kind = 'adafactor' as const;
  private readonly o: Required<Omit<AdafactorOptions, 'lr' | 'beta1'>> & Pick<AdafactorOptions, 'lr' | 'beta1'>;

  constructor(params: NamedParams, opts: AdafactorOptions = {}) {
    super(params);
    const relativeStep = opts.relativeStep ?? opts.lr === undefined;
    if (relativeStep && opts.lr !== undefined) throw new Error('Adafactor: a manual lr cannot be combined with relativeStep: true');
    if (!relativeStep && opts.lr === undefined) throw new Error('Adafactor: lr is required when relativeStep is false');
    if (opts.warmupInit === true && !relativeStep) throw new Error('Adafactor: warmupInit requires relativeStep');
    this.o = {
      eps: [1e-30, 1e-3],
      clipThreshold: 1,
      decayRate: -0.8,
      weightDecay: 0,
      scaleParameter: true,
      warmupInit: false,
      ...opts,
      relativeStep,
    };
  }

  /**
   * The step size before the parameter scale of the update at 0-based `step` (default: the next one): the
   * schedule's lr, or the relative step of a parameter updated at every step.
   */
  learningRate(step = this.stepCount): number {
    if (!this.o.relativeStep) return resolveLr(this.o.lr as number | LrSchedule, step);
    const t = step + 1;
    return Math.min(this.o.warmupInit ? 1e-6 * t : 1e-2, 1 / Math.sqrt(t));
  }

  /**
   * Applies one update; returns the step size before the parameter scale (the schedule's lr, or the
   * relative step of the last parameter). The parameter scale max(eps2, RMS(p)) stays on the device: an
   * update makes no host read.
   */
  step(grads: GradMap): number {
    const { eps, clipThreshold, decayRate, beta1, weightDecay, scaleParameter, relativeStep, warmupInit } = this.o;
    const external = relativeStep ? undefined : resolveLr(this.o.lr as number | LrSchedule, this.stepCount);
    const items = this.resolve(grads);
    let lastLr = external ?? 0;
    tf.tidy(() => {
      for (const [name, p, g] of items) {
        const t = (this.paramSteps.get(name) ?? 0) + 1;
        this.paramSteps.set(name, t);
        const baseStep = external ?? Math.min(warmupInit ? 1e-6 * t : 1e-2, 1 / Math.sqrt(t));
        lastLr = baseStep;
        const stepSize: tf.Tensor | number = scaleParameter ? tf.mul(tf.maximum(eps[1], rms(p)), baseStep) : baseStep; // scalar
        const beta2t = 1 - t ** decayRate;
        const sq = tf.add(tf.square(g), eps[0]);
        let update: tf.Tensor;
        if (p.rank >= 2) {
          const row = this.slot(name, 'exp_avg_sq_row', () => tf.zeros(p.shape.slice(0, -1))); // [..., rows]
          const col = this.slot(name, 'exp_avg_sq_col', () => tf.zeros([...p.shape.slice(0, -2), p.shape[p.rank - 1] as number])); // [..., cols]
          const row2 = tf.add(tf.mul(row, beta2t), tf.mul(tf.mean(sq, -1), 1 - beta2t));
          const col2 = tf.add(tf.mul(col, beta2t), tf.mul(tf.mean(sq, -2), 1 - beta2t));
          row.assign(row2);
          col.assign(col2);
          // v ≈ row·col / mean(row): rsqrt factors applied to the gradient
          const rFactor = tf.expandDims(tf.rsqrt(tf.div(row2, tf.mean(row2, -1, true))), -1); // [..., rows, 1]
          const cFactor = tf.expandDims(tf.rsqrt(col2), -2); // [..., 1, cols]
          update = tf.mul(tf.mul(rFactor, cFactor), g);
        } else {
          const v = this.slot(name, 'exp_avg_sq', () => tf.zerosLike(p));
          const v2 = tf.add(tf.mul(v, beta2t), tf.mul(sq, 1 - beta2t));
          v.assign(v2);
          update = tf.mul(tf.rsqrt(v2), g);
        }
        update = tf.div(update, tf.maximum(1, tf.div(rms(update), clipThreshold)));
        update = tf.mul(update, stepSize);
        if (beta1 !== undefined) {
          const m = this.slot(name, 'exp_avg', () => tf.zerosLike(p));
          const m2 = tf.add(tf.mul(m, beta1), tf.mul(update, 1 - beta1));
          m.assign(m2);
          update = m2;
        }
        const decayed = weightDecay !== 0 ? tf.mul(p, tf.sub(1, tf.mul(weightDecay, stepSize))) : p;
        p.assign(tf.sub(decayed, update));
      }
    });
    this.stepCount++;
    return lastLr;
  }
}

/**
 * Global-norm clipping on the device (PyTorch's clip_grad_norm_: coefficient maxNorm / (norm + 1e-6),
 * applied only when below 1; maxNorm 0 = no clipping). Returns new tensors, the input untouched, and the
 * norm before clipping as a scalar tensor: no host read. The one clipping rule; `fit` and
 * {@link clipGradNorm} both use it.
 */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  if (!(maxNorm >= 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be >= 0, got ${maxNorm}`);
  return tf.tidy(() => {
    const norm = (grads.length === 0 ? tf.scalar(0) : tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))))) as tf.Scalar;
    if (maxNorm === 0) return { grads: grads.map((g) => tf.clone(g)), norm };
    const coef = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    return { grads: grads.map((g) => tf.mul(g, coef)), norm };
  });
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (see {@link clipByGlobalNorm}). Returns
 * new tensors (the input is untouched; the caller disposes both) and the norm before clipping, read back
 * to the host.
 */
export function clipGradNorm(grads: GradMap, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const items = entries(grads);
  const c = clipByGlobalNorm(
    items.map(([, g]) => g),
    maxNorm,
  );
  const norm = c.norm.dataSync()[0] as number;
  c.norm.dispose();
  return { grads: new Map(items.map(([k], i) => [k, c.grads[i] as tf.Tensor])), norm };
}

/**
 * Sums gradients over micro-batches. `add` copies what it is given (the caller disposes its own
 * tensors); `mean()` / `sum()` return new tensors; `reset()` frees the running sums.
 */
export class GradAccumulator {
  private readonly sums = new Map<string, tf.Tensor>();
  private total = 0;

  /** Adds `weight`·grads (weight: e.g. the micro-batch's share of tokens). */
  add(grads: GradMap, weight = 1): void {
    if (!Number.isFinite(weight)) throw new RangeError(`GradAccumulator.add: weight must be finite, got ${weight}`);
    for (const [k, g] of entries(grads)) {
      const prev = this.sums.get(k);
      if (prev !== undefined && !tf.util.arraysEqual(prev.shape, g.shape)) {
        throw new RangeError(`GradAccumulator.add: '${k}' has shape [${g.shape.join(', ')}], earlier [${prev.shape.join(', ')}]`);
      }
      // kept: the running sum must outlive any tidy scope the caller is in
      const next = tf.keep(tf.tidy(() => (prev === undefined ? tf.mul(g, weight) : tf.add(prev, tf.mul(g, weight)))));
      prev?.dispose();
      this.sums.set(k, next);
    }
    this.total += weight;
  }

  /** Number of micro-batches (or total weight) added since the last reset. */
  get count(): number {
    return this.total;
  }

  sum(): Map<string, tf.Tensor> {
    return new Map([...this.sums].map(([k, t]) => [k, tf.clone(t)]));
  }

  /** Sum divided by the total weight. */
  mean(): Map<string, tf.Tensor> {
    if (this.total === 0) throw new Error('GradAccumulator.mean: nothing accumulated');
    return new Map([...this.sums].map(([k, t]) => [k, tf.tidy(() => tf.div(t, this.total))]));
  }

  reset(): void {
    for (const t of this.sums.values()) t.dispose();
    this.sums.clear();
    this.total = 0;
  }

  dispose(): void {
    this.reset();
  }
}
