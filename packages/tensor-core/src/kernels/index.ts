// Kernels tfjs-backend-wasm lacks, registered once when the wasm backend is selected.
import * as tf from '@tensorflow/tfjs-core';
import { unsortedSegmentSumWasm } from './unsorted-segment-sum.js';

let registered = false;

/** Registers this package's extra wasm kernels (idempotent). Called by `initBackend` for wasm. */
export function registerWasmKernels(): void {
  if (registered) return;
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSumWasm as tf.KernelFunc });
  }
  registered = true;
}

export { unsortedSegmentSumWasm };
