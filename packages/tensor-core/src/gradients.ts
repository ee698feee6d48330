// tfjs-core ships its gradient definitions as a separate side-effect module that the `@tensorflow/tfjs`
// union package normally imports; with tfjs-core alone, `tf.grads` finds no gradients at all. The
// build bundles this ESM-only module into our dist (as the union package does); it registers into
// tfjs's global gradient registry. Modules that differentiate call `ensureGradients()` at load, which
// also keeps bundlers from dropping this import under `sideEffects: false`.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/** Throws if tfjs's standard gradients are not registered (they are once this module has loaded). */
export function ensureGradients(): void {
  if (tf.getGradient('Sum') === undefined || tf.getGradient('BatchMatMul') === undefined) {
    throw new Error('@tagi/tensor-core: tfjs-core gradients are not registered; was register_all_gradients bundled?');
  }
}
