// Identity and Cast for tfjs-backend-wasm without copies where none is needed.
//
// tfjs-core saves every tensor a gradient needs by `clone` (the Identity kernel). The stock wasm Identity
// copies the whole buffer, so every activation kept for the backward pass is duplicated: ~1,900 copies
// (0.55 s) per LoRA training step of a t5-small-shaped model at micro-batch 2, and the copies add to the
// peak heap. Tensors are immutable (a Variable's assign swaps in new data), so the clone can share the
// buffer with a reference count, exactly as tfjs-backend-cpu's Identity and wasm's own Reshape do.
// The stock Cast copies even when the dtype does not change (shared here too), and casts to bool by a
// typed-array conversion (x mod 256: 256 becomes false, 2 stays 2); here x ≠ 0 gives 1, as on the cpu
// backend. Other casts go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendInternals {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** `Identity` sharing the input's buffer (reference counted). */
export function makeIdentityWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    if (x === undefined || x.dtype === 'string') return stock(args);
    (args.backend as WasmBackendInternals).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** `Cast`: shares the buffer when the dtype does not change; x ≠ 0 for bool; else the stock kernel. */
export function makeCastWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const dtype = (args.attrs as { dtype?: tf.DataType } | undefined)?.dtype;
    if (x === undefined || x.dtype === 'string' || dtype === undefined) return stock(args);
    const backend = args.backend as WasmBackendInternals;
    if (dtype === x.dtype) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }
    if (dtype !== 'bool' || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock(args);
    const out = backend.makeOutput([...x.shape], 'bool');
    const src = backend.typedArrayFromHeap(x); // after the allocation: a grown heap has a new buffer
    const dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < src.length; i++) dst[i] = (src[i] as number) !== 0 ? 1 : 0; // NaN ≠ 0: true
    return out;
  };
}
