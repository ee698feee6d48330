// Activation recomputation ("gradient checkpointing"): a function whose intermediates are not kept for the
// backward pass. tfjs's tape keeps, until the whole backward has run, every tensor an op's gradient needs; for
// a deep model that is most of the training step's memory. Under `recompute`, the forward runs with the tape
// paused (a customGrad kernel) and frees its intermediates at once; only the inputs are kept, and the backward
// runs the function again under a tape of its own to get the input gradients. Costs one more forward of `f`.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';

ensureGradients();

interface EngineInternals {
  isTapeOn(): boolean;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
  state: { activeTape: unknown };
}

/**
 * `f(...inputs)`, with its gradients recomputed in the backward pass instead of kept from the forward. Every
 * tensor `f` reads that may be gone by the backward (any intermediate of the surrounding computation) must be
 * among `inputs`, and `f` must compute from its arguments, not from captured copies; gradients also reach
 * `persistent` (variables `f` reads directly, e.g. trainable weights; they outlive the step). `f` must be
 * deterministic (same result when run again: draw dropout masks from a generator forked the same way each
 * time). Without a recording tape, just `f(...inputs)`. The result equals `f(...inputs)` and so do the gradients.
 */
export function recompute(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: readonly tf.Tensor[], persistent: readonly tf.Variable[] = []): tf.Tensor {
  const engine = tf.engine() as unknown as EngineInternals;
  if (!engine.isTapeOn()) return f(...inputs);
  const n = inputs.length;
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save(inputs as tf.Tensor[]);
    return {
      // the tape is paused inside a customGrad forward: nothing of f is recorded, and the tidy frees it all
      value: tf.tidy(() => f(...inputs)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // the saved inputs stand in for the originals (which the forward's scope may have freed)
        const xs = saved.slice(0, n);
        // a nested tape replaces the engine's active one and clears it when done; the outer backward still
        // needs its own (it disposes its saved tensors from it at the end)
        const outer = engine.state.activeTape;
        try {
          const { value, grads } = engine.gradients(() => f(...xs), [...xs, ...persistent], dy, true);
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(i < n ? (xs[i] as tf.Tensor) : (persistent[i - n] as tf.Tensor)));
        } finally {
          engine.state.activeTape = outer;
        }
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
  return op(...inputs, ...persistent);
}
