// wasm has no UnsortedSegmentSum kernel, and tfjs's gather gradient (every embedding lookup) is built
// on it. This kernel fills the gap in JS over the wasm heap: one pass over the rows of x, adding each
// row into the output row named by its segment id. It is memory-bound, like the native kernels.
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function unsortedSegmentSumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = args.inputs['x'];
  const segmentIds = args.inputs['segmentIds'];
  const numSegments = Number(args.attrs?.['numSegments']);
  if (x === undefined || segmentIds === undefined) throw new Error('UnsortedSegmentSum: inputs x and segmentIds are required');
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (wasm): x must be float32 or int32, got ${x.dtype}`);
  }
  const rows = x.shape[0] ?? 1;
  const idCount = segmentIds.shape.reduce((a, b) => a * b, 1);
  // tfjs also allows multi-dimensional segment ids; gather's gradient only uses 1-D ones.
  if (segmentIds.shape.length !== 1 || idCount !== rows) {
    throw new Error(`UnsortedSegmentSum (wasm): segmentIds must be 1-D with x.shape[0] = ${rows} entries, got shape [${segmentIds.shape.join(',')}]`);
  }
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  // readSync copies out of the heap, so allocating the output below cannot invalidate these views.
  const xs = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array | Float32Array;
  const outShape = [numSegments, ...x.shape.slice(1)];
  const out = backend.makeOutput(outShape, x.dtype);
  const outVals = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  outVals.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i] as number;
    if (s < 0 || s >= numSegments) continue; // out-of-range ids are dropped, as in TensorFlow
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outVals[dst + j] = (outVals[dst + j] as number) + (xs[src + j] as number);
  }
  return out;
}
