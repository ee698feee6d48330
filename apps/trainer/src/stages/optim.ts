// The optimiser every app-owned loop uses, behind one small interface: an update from named gradients
// (global-norm clipping first), the learning rate of the schedule, and its state for checkpoints.
// Built on @tagi/tensor-core's AdamW / Adafactor, makeSchedule (warmup + constant/linear/cosine) and
// clipGradNorm.
import type * as tf from '@tensorflow/tfjs-core';
import { Adafactor, AdamW, clipGradNorm, makeSchedule } from '@tagi/tensor-core';
import type { TagiConfig, TrainSettings } from '../config.js';

export interface Optim {
  /** Applies one update (clipping the global norm first when configured); returns the pre-clip norm. */
  step(grads: Map<string, tf.Tensor>): number;
  /** Learning rate of the next update. */
  readonly lr: number;
  stateTensors(): Map<string, tf.Tensor>;
  stateMeta(): Record<string, unknown>;
  restore(tensors: Map<string, tf.Tensor>, meta: Record<string, unknown>): void;
}

export function makeOptimizer(params: ReadonlyMap<string, tf.Variable>, t: TrainSettings, o: TagiConfig['optim']): Optim {
  const schedule = makeSchedule({ kind: o.schedule, lr: t.lr, warmupSteps: t.warmupSteps, totalSteps: Math.max(1, t.steps) });
  const opt = o.optimizer === 'adamw' ? new AdamW(params, { lr: schedule, weightDecay: o.weightDecay }) : new Adafactor(params, { lr: schedule });
  let steps = 0;
  return {
    get lr() {
      return schedule(steps);
    },
    step(grads) {
      let norm = Number.NaN;
      if (o.maxGradNorm > 0) {
        const c = clipGradNorm(grads, o.maxGradNorm);
        norm = c.norm;
        opt.step(c.grads);
        for (const [k, g] of c.grads) if (g !== grads.get(k)) g.dispose();
      } else opt.step(grads);
      steps++;
      return norm;
    },
    stateTensors() {
      const out = new Map<string, tf.Tensor>();
      for (const [k, x] of opt.stateDict().slots) out.set(`optim.${k}`, x);
      return out;
    },
    stateMeta() {
      const s = opt.stateDict();
      return { optimizer: s.kind, step: s.step, paramSteps: s.paramSteps };
    },
    restore(tensors, meta) {
      const slots = new Map<string, tf.Tensor>();
      for (const [k, x] of tensors) if (k.startsWith('optim.')) slots.set(k.slice('optim.'.length), x);
      opt.loadStateDict({ kind: meta['optimizer'] as 'adamw' | 'adafactor', step: Number(meta['step']), paramSteps: meta['paramSteps'] as Record<string, number>, slots });
      steps = Number(meta['step']);
    },
  };
}

/** Trainable tensors + optimiser state for a checkpoint; restore checks every parameter key and shape. */
export function checkpointState(params: ReadonlyMap<string, tf.Variable>, opt: Pick<Optim, 'stateTensors' | 'stateMeta' | 'restore'>) {
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
      if (problems.length > 0) throw new Error(`${where}: checkpoint does not match the model: ${problems.slice(0, 5).join('; ')}`);
      for (const [k, p] of params) p.assign(tensors.get(`param.${k}`) as tf.Tensor);
      opt.restore(tensors, meta);
    },
  };
}
