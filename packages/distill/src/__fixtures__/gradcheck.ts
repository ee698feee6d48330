// Test helpers: backend set-up and a central finite-difference gradient check.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expect } from 'vitest';

export async function useCpuBackend(): Promise<void> {
  // tensor-core's backend selection registers the cpu backend (reached through the source alias until
  // tensor-core exports initBackend from its main entry)
  const spec: string = '@tagi/tensor-core/backend';
  const { initBackend } = (await import(/* @vite-ignore */ spec)) as { initBackend(o: { backend: string }): Promise<unknown> };
  await initBackend({ backend: 'cpu' });
}

/**
 * Compares tf.grads of `f` with central differences `(f(x+eps) − f(x−eps)) / 2eps` on every element of
 * every input (inputs must be small). float32 rounding makes eps ≈ 1e-2 the sweet spot.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  { eps = 1e-2, atol = 2e-3, rtol = 2e-2 }: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  const analytic = tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs);
  const an = analytic.map((g) => Array.from(g.dataSync()));
  tf.dispose(analytic);
  inputs.forEach((x, k) => {
    const base = Array.from(x.dataSync());
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number): number => {
        const v = base.slice();
        v[i] = (v[i] as number) + delta;
        return tf.tidy(() => {
          const xs = inputs.map((y, j) => (j === k ? tf.tensor(v, x.shape, x.dtype) : y));
          return f(...xs).dataSync()[0] as number;
        });
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = an[k]?.[i] as number;
      expect(Math.abs(a - numeric), `input ${k} element ${i}: analytic ${a} vs numeric ${numeric}`).toBeLessThanOrEqual(
        atol + rtol * Math.abs(numeric),
      );
    }
  });
}

/** Runs `fn` and asserts it leaves no tensor behind. */
export function expectNoLeakSync<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors, 'tensor count after the call').toBe(before);
  return out;
}
