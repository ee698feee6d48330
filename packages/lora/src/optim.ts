// The optimiser pieces teacher training needs: AdamW (PyTorch semantics), learning-rate schedules with
// linear warmup, and global-norm clipping. Kept local (and small) because the package only ever
// optimises LoRA factors; state is keyed by peft tensor names so checkpoints read like peft's.
import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (PyTorch AdamW default 0.01; LoRA recipes usually use 0). */
  weightDecay?: number;
}

/**
 * AdamW as torch.optim.AdamW: p ← p − lr·wd·p, then the bias-corrected Adam update
 * p ← p − lr·m̂ / (sqrt(v̂) + eps).
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(opts: AdamWOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  /** One update of every variable in `params` with the gradient of the same name. */
  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.stepCount += 1;
    const t = this.stepCount;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (g === undefined) throw new RangeError(`AdamW.step: no gradient for '${name}'`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (m === undefined || v === undefined) {
        const z = tf.zerosLike(p);
        m = tf.variable(z, false);
        v = tf.variable(z, false);
        z.dispose(); // each variable keeps its own reference to the data
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const mm = m;
      const vv = v;
      tf.tidy(() => {
        mm.assign(tf.add(tf.mul(mm, this.beta1), tf.mul(g, 1 - this.beta1)));
        vv.assign(tf.add(tf.mul(vv, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.sqrt(tf.div(vv, bc2)), this.eps);
        const update = tf.div(tf.div(mm, bc1), denom);
        const decayed = this.weightDecay === 0 ? p : tf.mul(p, 1 - lr * this.weightDecay);
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    }
  }

  /** Moments under `<name>.exp_avg` / `<name>.exp_avg_sq` (live variables: clone to keep). */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [k, m] of this.m) {
      out.set(`${k}.exp_avg`, m);
      out.set(`${k}.exp_avg_sq`, this.v.get(k) as tf.Variable);
    }
    return out;
  }

  /** Restores moments saved by {@link stateTensors} (copies them) and the step count. */
  loadState(tensors: ReadonlyMap<string, tf.Tensor>, stepCount: number): void {
    this.dispose();
    for (const [k, t] of tensors) {
      const m = /^(.*)\.exp_avg(_sq)?$/.exec(k);
      if (m === null) throw new RangeError(`AdamW.loadState: unexpected key '${k}'`);
      (m[2] === undefined ? this.m : this.v).set(m[1] as string, tf.variable(t, false));
    }
    this.stepCount = stepCount;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

/**
 * Learning rate at optimiser step `step` (0-based) of `total`: linear warmup from 0 over `warmup`
 * steps, then constant, linear decay to 0, or half-cosine decay to 0 (as HF's schedulers).
 */
export function learningRate(kind: ScheduleKind, peak: number, step: number, total: number, warmup: number): number {
  if (warmup > 0 && step < warmup) return (peak * (step + 1)) / warmup;
  if (kind === 'constant') return peak;
  const progress = total <= warmup ? 1 : Math.min(1, (step - warmup) / (total - warmup));
  if (kind === 'linear') return peak * Math.max(0, 1 - progress);
  return peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Scales every gradient so the global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  // summed in sorted-name order so the result does not depend on the map's insertion order
  const keys = [...grads.keys()].sort();
  const norm = tf.tidy(() => tf.sqrt(tf.addN(keys.map((k) => tf.sum(tf.square(grads.get(k) as tf.Tensor))))).dataSync()[0] as number);
  if (Number.isFinite(maxNorm) && maxNorm > 0 && norm > maxNorm) {
    const f = maxNorm / (norm + 1e-6);
    for (const [k, g] of grads) {
      grads.set(k, tf.mul(g, f));
      g.dispose();
    }
  }
  return norm;
}
