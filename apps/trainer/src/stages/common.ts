// A Trainable for the app's own loops (base pretraining, multitask baseline): one optimiser update per
// step on the batch `batch(step)` — a pure function of the step and the seed — so resume is exact.
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';
import type { StepOutput, Trainable } from '../run.js';
import { type BatchTensors, type IdPair, disposeBatch, toTensors } from './batches.js';
import { type Optim, checkpointState } from './optim.js';

export interface LossTrainableOptions {
  stage: string;
  totalSteps: number;
  /** Trainable variables by a stable name (checkpoint keys). */
  params: ReadonlyMap<string, tf.Variable>;
  optim: Optim;
  padId: number;
  batch(step: number): IdPair[];
  /** The scalar loss of a batch (called inside tf.variableGrads). */
  loss(b: BatchTensors, step: number): tf.Scalar;
}

export function lossTrainable(o: LossTrainableOptions): Trainable {
  const ckpt = checkpointState(o.params, o.optim);
  const varNames = new Map<string, string>();
  for (const [name, v] of o.params) varNames.set(v.name, name);
  const vars = [...o.params.values()];
  return {
    stage: o.stage,
    totalSteps: o.totalSteps,
    stateTensors: () => ckpt.stateTensors(),
    stateMeta: () => ckpt.stateMeta(),
    restore(tensors, meta) {
      try {
        ckpt.restore(tensors, meta, o.stage);
      } catch (e) {
        throw new CheckpointError(o.stage, (e as Error).message);
      }
    },
    async step(step): Promise<StepOutput> {
      const lr = o.optim.lr;
      const b = toTensors(o.batch(step), o.padId);
      try {
        const { value, grads } = tf.variableGrads(() => o.loss(b, step), vars);
        const named = new Map<string, tf.Tensor>();
        for (const [varName, g] of Object.entries(grads)) named.set(varNames.get(varName) ?? varName, g);
        const gradNorm = o.optim.step(named);
        tf.dispose([...named.values()]);
        const loss = (await value.data())[0] as number;
        value.dispose();
        return { losses: { loss, gradNorm }, tokens: b.tokens, lr };
      } finally {
        disposeBatch(b);
      }
    },
  };
}
