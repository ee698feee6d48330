// The optimiser every stage uses, behind one small interface: an update from named gradients, the
// current learning rate (warmup + schedule), and its state for checkpoints.
//
// Local AdamW (decoupled weight decay, bias correction as torch.optim.AdamW) until @tagi/tensor-core's
// optimisers are exported; the interface stays when it is swapped in.
import * as tf from '@tensorflow/tfjs-core';
import type { TagiConfig, TrainSettings } from '../config.js';

export interface Optim {
  /** Applies one update (clipping the global norm first when configured); returns the pre-clip norm. */
  step(grads: Map<string, tf.Tensor>): number;
  /** Learning rate of the next update. */
  readonly lr: number;
  readonly steps: number;
  stateTensors(): Map<string, tf.Tensor>;
  stateMeta(): Record<string, unknown>;
  restore(tensors: Map<string, tf.Tensor>, meta: Record<string, unknown>): void;
}

export function learningRate(step: number, t: TrainSettings, schedule: TagiConfig['optim']['schedule']): number {
  if (t.warmupSteps > 0 && step < t.warmupSteps) return (t.lr * (step + 1)) / t.warmupSteps;
  const span = Math.max(1, t.steps - t.warmupSteps);
  const p = Math.min(1, Math.max(0, (step - t.warmupSteps) / span));
  if (schedule === 'linear') return t.lr * (1 - p);
  if (schedule === 'cosine') return t.lr * 0.5 * (1 + Math.cos(Math.PI * p));
  return t.lr;
}

export function makeOptimizer(params: ReadonlyMap<string, tf.Variable>, t: TrainSettings, o: TagiConfig['optim']): Optim {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const m = new Map<string, tf.Variable>();
  const v = new Map<string, tf.Variable>();
  for (const [k, p] of params) {
    m.set(k, tf.variable(tf.zerosLike(p), false));
    v.set(k, tf.variable(tf.zerosLike(p), false));
  }
  let steps = 0;
  return {
    get lr() {
      return learningRate(steps, t, o.schedule);
    },
    get steps() {
      return steps;
    },
    step(grads) {
      const lr = learningRate(steps, t, o.schedule);
      const norm = tf.tidy(() => Math.sqrt([...grads.values()].reduce((s, g) => s + (tf.sum(tf.square(g)).dataSync()[0] as number), 0)));
      const clip = o.maxGradNorm > 0 && norm > o.maxGradNorm ? o.maxGradNorm / (norm + 1e-6) : 1;
      steps++;
      const bc1 = 1 - beta1 ** steps;
      const bc2 = 1 - beta2 ** steps;
      tf.tidy(() => {
        for (const [k, g0] of grads) {
          const p = params.get(k);
          const mk = m.get(k);
          const vk = v.get(k);
          if (p === undefined || mk === undefined || vk === undefined) throw new Error(`optimiser: gradient for unknown parameter '${k}'`);
          const g = clip === 1 ? g0 : tf.mul(g0, clip);
          mk.assign(tf.add(tf.mul(mk, beta1), tf.mul(g, 1 - beta1)));
          vk.assign(tf.add(tf.mul(vk, beta2), tf.mul(tf.square(g), 1 - beta2)));
          const update = tf.div(tf.div(mk, bc1), tf.add(tf.sqrt(tf.div(vk, bc2)), eps));
          let next = tf.sub(p, tf.mul(update, lr));
          if (o.weightDecay > 0) next = tf.sub(next, tf.mul(p, lr * o.weightDecay));
          p.assign(next);
        }
      });
      return norm;
    },
    stateTensors() {
      const out = new Map<string, tf.Tensor>();
      for (const [k, x] of m) out.set(`optim.m.${k}`, x);
      for (const [k, x] of v) out.set(`optim.v.${k}`, x);
      return out;
    },
    stateMeta() {
      return { optimizer: 'adamw', steps };
    },
    restore(tensors, meta) {
      for (const [k, x] of m) x.assign(tensors.get(`optim.m.${k}`) as tf.Tensor);
      for (const [k, x] of v) x.assign(tensors.get(`optim.v.${k}`) as tf.Tensor);
      steps = Number(meta['steps']);
    },
  };
}

/** Trainable tensors + optimiser state for a checkpoint; restore checks every key and shape. */
export function checkpointState(params: ReadonlyMap<string, tf.Variable>, opt: Optim) {
  return {
    stateTensors(): Map<string, tf.Tensor> {
      const out = new Map<string, tf.Tensor>();
      for (const [k, p] of params) out.set(`param.${k}`, p);
      for (const [k, x] of opt.stateTensors()) out.set(k, x);
      return out;
    },
    stateMeta(): Record<string, unknown> {
      return opt.stateMeta();
    },
    restore(tensors: Map<string, tf.Tensor>, meta: Record<string, unknown>, where: string): void {
      const problems: string[] = [];
      for (const [k, p] of params) {
        const t = tensors.get(`param.${k}`);
        if (t === undefined) problems.push(`missing param.${k}`);
        else if (t.shape.join(',') !== p.shape.join(',')) problems.push(`param.${k}: shape [${t.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
      }
      for (const [k, x] of opt.stateTensors()) {
        const t = tensors.get(k);
        if (t === undefined) problems.push(`missing ${k}`);
        else if (t.shape.join(',') !== x.shape.join(',')) problems.push(`${k}: shape mismatch`);
      }
      if (problems.length > 0) throw new Error(`${where}: checkpoint does not match the model: ${problems.slice(0, 5).join('; ')}`);
      for (const [k, p] of params) p.assign(tensors.get(`param.${k}`) as tf.Tensor);
      opt.restore(tensors, meta);
    },
  };
}
