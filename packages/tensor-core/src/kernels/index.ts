// Kernels tfjs-backend-wasm lacks, and replacements for stock wasm kernels that waste time, registered
// once when the wasm backend is selected.
import * as tf from '@tensorflow/tfjs-core';
import { makeCastWasm, makeIdentityWasm } from './identity.js';
import { makeSliceWasm, makeSplitVWasm, makeStridedSliceWasm, makeUnpackWasm } from './slice.js';
import { makeTanhWasm } from './tanh.js';
import { unsortedSegmentSumWasm } from './unsorted-segment-sum.js';

/** A stock wasm kernel's function by name (undefined when this tfjs-backend-wasm lacks it). */
type StockLookup = (name: string) => tf.KernelFunc | undefined;

/**
 * Stock wasm kernels this package replaces, by name: each replacement is built from (and falls back
 * to) the stock one; `undefined` when a kernel it needs is missing (the stock one then stays).
 */
const REPLACEMENTS: Record<string, (stock: tf.KernelFunc, lookup: StockLookup) => tf.KernelFunc | undefined> = {
  Slice: makeSliceWasm,
  Unpack: makeUnpackWasm,
  SplitV: makeSplitVWasm,
  StridedSlice: makeStridedSliceWasm,
  Identity: makeIdentityWasm,
  Cast: makeCastWasm,
  Tanh: makeTanhWasm,
};

const stockConfigs = new Map<string, tf.KernelConfig>();
const ourConfigs = new Map<string, tf.KernelConfig>();
let registered = false;

function swapIn(configs: Map<string, tf.KernelConfig>): void {
  for (const [name, config] of configs) {
    if (tf.getKernel(name, 'wasm') === config) continue;
    if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
}

/** Registers this package's extra and replacement wasm kernels (idempotent). Called by `initBackend` for wasm. */
export function registerWasmKernels(): void {
  if (registered) return;
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSumWasm as tf.KernelFunc });
  }
  const lookup: StockLookup = (name) => (stockConfigs.get(name) ?? tf.getKernel(name, 'wasm'))?.kernelFunc;
  for (const [name, make] of Object.entries(REPLACEMENTS)) {
    const stock = tf.getKernel(name, 'wasm');
    if (stock === undefined) continue; // a tfjs-backend-wasm without it: nothing to replace
    // The stock setupFuncs have already run (the backend is initialised); a replacement calls stock
    // kernelFuncs for the work it does not do itself, so it needs no setup of its own.
    const ours = make(stock.kernelFunc, lookup);
    if (ours === undefined) continue;
    stockConfigs.set(name, stock);
    ourConfigs.set(name, { kernelName: name, backendName: 'wasm', kernelFunc: ours });
  }
  swapIn(ourConfigs);
  registered = true;
}

/**
 * Runs `fn` with tfjs-backend-wasm's stock kernels in place of this package's replacements, then
 * restores ours. For tests and A/B benchmarks. @internal
 */
export function withStockWasmKernels<T>(fn: () => T): T {
  swapIn(stockConfigs);
  try {
    return fn();
  } finally {
    swapIn(ourConfigs);
  }
}

/** Names of the stock wasm kernels replaced by this package. @internal */
export function replacedWasmKernels(): string[] {
  return [...ourConfigs.keys()];
}

export { unsortedSegmentSumWasm };
