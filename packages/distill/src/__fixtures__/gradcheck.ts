// Test helpers: tensor-core's backend switch, finite-difference checker and leak check.
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients as coreCheck, expectNoLeak, useBackend } from '@tagi/tensor-core/testing';

export async function useCpuBackend(): Promise<void> {
  await useBackend('cpu');
}

/** Central finite differences against tf.grads on every element (float32: eps 1e-2). */
export function checkGradients(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], opts: { eps?: number; atol?: number; rtol?: number } = {}): void {
  coreCheck(f, inputs, { eps: 1e-2, atol: 2e-3, rtol: 2e-2, ...opts });
}

/** Runs `fn` and asserts it leaves no tensor behind. */
export const expectNoLeakSync = <T>(fn: () => T): T => expectNoLeak(fn);
