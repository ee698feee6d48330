// Gradients of variables like tf.variableGrads, freeing as the backward pass goes. tfjs's own backward keeps
// every intermediate gradient and every tensor an op saved for its gradient until the whole backward has run,
// so a training step peaks at the end of its backward with all of them alive. Here each op's saved tensors and
// the gradient of each of its outputs are freed as soon as that op has been differentiated (every use of a
// tensor comes after the op that made it, so its gradient is complete by then), as PyTorch's autograd does.
// The arithmetic is tfjs's: the same tape, the same gradient functions, in the same order.
import * as tf from '@tensorflow/tfjs-core';
import { getFilteredNodesXToY, type TapeNode } from '@tensorflow/tfjs-core/dist/tape';
import { ensureGradients } from './gradients.js';

ensureGradients();

interface EngineInternals {
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
}

/**
 * `tf.variableGrads(f, vars)` with the memory of the backward pass freed as it goes: the value of `f` and the
 * gradient of each variable it reaches (keyed by variable name; unreached variables are absent). Only at the
 * outermost level: inside another gradient computation it defers to tf.variableGrads.
 */
export function leanVariableGrads(f: () => tf.Scalar, vars: readonly tf.Variable[]): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth > 0) return tf.variableGrads(f, vars as tf.Variable[]);
  if (vars.length === 0) throw new RangeError('leanVariableGrads: no variables to differentiate');
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0) throw new TypeError('leanVariableGrads: f must return a scalar tensor');
  const tape = engine.state.activeTape as TapeNode[];
  try {
    const filtered = getFilteredNodesXToY(tape, [...vars] as tf.Tensor[], y);
    const keep = new Set(vars.map((v) => v.id));
    const grads = engine.tidy('backward', () => {
      const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
      for (let i = filtered.length - 1; i >= 0; i--) {
        const node = filtered[i] as TapeNode;
        const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
        if (node.gradient == null) throw new Error(`leanVariableGrads: no gradient for ${node.kernelName}`);
        const inputGrads = node.gradient(dys as tf.Tensor[]);
        for (const name of Object.keys(node.inputs)) {
          const x = node.inputs[name] as tf.Tensor;
          const grad = inputGrads[name];
          if (grad === undefined) throw new Error(`leanVariableGrads: ${node.kernelName} has no gradient for its input ${name}`);
          const dx = engine.tidy('dx', grad);
          const prev = acc.get(x.id);
          if (prev === undefined) acc.set(x.id, dx);
          else {
            acc.set(x.id, tf.add(prev, dx));
            tf.dispose([prev, dx]);
          }
        }
        // this op is done: its outputs' gradients and what it saved are needed no more
        for (const o of node.outputs) {
          const g = acc.get(o.id);
          if (g !== undefined && !keep.has(o.id)) {
            g.dispose();
            acc.delete(o.id);
          }
        }
        for (const t of node.saved ?? []) t.dispose();
      }
      const out: Record<string, tf.Tensor> = {};
      for (const v of vars) {
        const g = acc.get(v.id);
        if (g !== undefined) out[v.name] = g;
      }
      for (const [id, g] of acc) if (!keep.has(id)) g.dispose();
      return out;
    });
    return { value: y as tf.Scalar, grads };
  } finally {
    // the tape's other nodes still hold their saved tensors (as the engine's own cleanup does)
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
}
