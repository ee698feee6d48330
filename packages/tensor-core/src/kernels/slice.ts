// Slice, Unpack, SplitV and StridedSlice for tfjs-backend-wasm that read their input in place.
//
// The stock wasm kernels fetch the input with `backend.readSync`, which copies the WHOLE input out of
// the wasm heap into a fresh ArrayBuffer — once per output (Unpack and SplitV call Slice per output),
// so unstacking [6, 256, 64] allocates six 393 KB buffers to produce six 65 KB slices. Besides the
// copies, the short-lived buffers are external memory that pushes V8 into extra garbage collections
// (measured: the same Unpack takes 0.4 ms in a small process and 10+ ms in a large one).
// These kernels allocate every output first (allocation can grow the heap and detach earlier views),
// then copy each output's region heap-to-heap with `copyWithin` (a memmove) on one byte view of the
// heap. Outputs are bit-identical to the stock kernels'; string tensors go to the stock kernels.
import * as tf from '@tensorflow/tfjs-core';

type NumericDtype = 'float32' | 'int32' | 'bool';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
type KernelResult = tf.TensorInfo | tf.TensorInfo[];

const BYTES: Record<NumericDtype, number> = { float32: 4, int32: 4, bool: 1 };

function isNumeric(dtype: tf.DataType): dtype is NumericDtype {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

function offsetOf(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('wasm kernel: input tensor has no data on the wasm backend (disposed?)');
  return data.memoryOffset;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// Runs shorter than this many bytes are copied element by element: a copyWithin call costs more.
const MEMMOVE_MIN_BYTES = 64;

/**
 * Copies the box `begin .. begin+size` of a row-major tensor of `shape` (element size `bpe`, at byte
 * offset `src` of `heap`) to byte offset `dst`, densely. Trailing axes the box covers in full are
 * merged into one contiguous run, so a slice along the first axis is a single memmove.
 */
function copyBox(heap: Uint8Array, src: number, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: number, bpe: number): void {
  const rank = shape.length;
  const total = sizeOf(size);
  if (total === 0) return;
  if (rank === 0) {
    heap.copyWithin(dst, src, src + bpe);
    return;
  }
  // d: the outermost axis of the contiguous run (every axis after it is taken whole).
  let d = rank - 1;
  while (d > 0 && size[d] === shape[d]) d--;
  const strides = new Array<number>(rank); // element strides of the input
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  const run = (size[d] as number) * (strides[d] as number); // elements per contiguous run
  const runBytes = run * bpe;
  let base = 0; // element offset of the box's first element
  for (let i = 0; i <= d; i++) base += (begin[i] as number) * (strides[i] as number);
  const runs = total / run;
  // odometer over the outer axes 0..d-1
  const idx = new Array<number>(d).fill(0);
  let out = dst;
  let small: { src: Uint8Array | Int32Array; step: number } | undefined;
  if (runBytes < MEMMOVE_MIN_BYTES) {
    // element copies through a typed view of the same heap (4-byte elements are 4-byte aligned)
    small = bpe === 4 ? { src: new Int32Array(heap.buffer, heap.byteOffset, heap.byteLength >>> 2), step: 4 } : { src: heap, step: 1 };
  }
  let inElem = base;
  for (let r = 0; r < runs; r++) {
    const from = src + inElem * bpe;
    if (small === undefined) {
      heap.copyWithin(out, from, from + runBytes);
    } else {
      const view = small.src;
      const s = from / small.step;
      const o = out / small.step;
      for (let e = 0; e < run; e++) view[o + e] = view[s + e] as number;
    }
    out += runBytes;
    // advance the odometer: innermost outer axis first
    for (let ax = d - 1; ax >= 0; ax--) {
      const stride = strides[ax] as number;
      if ((idx[ax] as number) + 1 < (size[ax] as number)) {
        idx[ax] = (idx[ax] as number) + 1;
        inElem += stride;
        break;
      }
      inElem -= (idx[ax] as number) * stride;
      idx[ax] = 0;
    }
  }
}

/** Several boxes of one input, each to a fresh output; all outputs are allocated before any copy. */
function sliceMany(backend: WasmBackendInternals, x: tf.TensorInfo, boxes: { begin: number[]; size: number[]; outShape: number[] }[]): tf.TensorInfo[] {
  const dtype = x.dtype as NumericDtype;
  const outs = boxes.map((b) => backend.makeOutput(b.outShape, dtype));
  const heap = backend.wasm.HEAPU8; // after the allocations: a grown heap has a new buffer
  const src = offsetOf(backend, x);
  boxes.forEach((b, i) => copyBox(heap, src, x.shape, b.begin, b.size, offsetOf(backend, outs[i] as tf.TensorInfo), BYTES[dtype]));
  return outs;
}

function stockOr(stock: tf.KernelFunc, args: KernelArgs, x: tf.TensorInfo | undefined): KernelResult | undefined {
  if (x === undefined || !isNumeric(x.dtype)) return stock(args) as KernelResult;
  return undefined;
}

/** `Slice` reading its input in place. */
export function makeSliceWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const viaStock = stockOr(stock, args, x);
    if (viaStock !== undefined || x === undefined) return viaStock as KernelResult;
    const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size) as [number[], number[]];
    tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
    return sliceMany(args.backend as WasmBackendInternals, x, [{ begin, size, outShape: size }])[0] as tf.TensorInfo;
  };
}

/** `Unpack` (tf.unstack): every output in one pass over freshly allocated outputs. */
export function makeUnpackWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['value'];
    const viaStock = stockOr(stock, args, x);
    if (viaStock !== undefined || x === undefined) return viaStock as KernelResult;
    const rank = x.shape.length;
    let axis = Number((args.attrs as unknown as { axis: number }).axis);
    if (axis < 0) axis += rank;
    if (!(axis >= 0 && axis < rank)) throw new Error(`Unpack: axis ${String((args.attrs as { axis?: unknown }).axis)} out of range for rank ${rank}`);
    const count = x.shape[axis] as number;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const size = [...x.shape];
    size[axis] = 1;
    const boxes = Array.from({ length: count }, (_, i) => {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = i;
      return { begin, size, outShape };
    });
    return sliceMany(args.backend as WasmBackendInternals, x, boxes);
  };
}

/** `SplitV` (tf.split): every piece in one pass over freshly allocated outputs. */
export function makeSplitVWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const viaStock = stockOr(stock, args, x);
    if (viaStock !== undefined || x === undefined) return viaStock as KernelResult;
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    let at = 0;
    const boxes = sizes.map((s) => {
      const begin = new Array<number>(x.shape.length).fill(0);
      begin[ax] = at;
      at += s;
      const size = [...x.shape];
      size[ax] = s;
      return { begin, size, outShape: size };
    });
    return sliceMany(args.backend as WasmBackendInternals, x, boxes);
  };
}

/**
 * `StridedSlice`: the stock kernel's own fast case (unit strides: a box of the input, reshaped for shrunk
 * or new axes) reads in place; every other case (identity, real strides, empty or invalid boxes) goes to
 * the stock kernel unchanged.
 */
export function makeStridedSliceWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const viaStock = stockOr(stock, args, x);
    if (viaStock !== undefined || x === undefined) return viaStock as KernelResult;
    const a = args.attrs as unknown as {
      begin: number[];
      end: number[];
      strides: number[];
      beginMask: number;
      endMask: number;
      ellipsisMask: number;
      newAxisMask: number;
      shrinkAxisMask: number;
    };
    const info = tf.slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
    const { begin, end, strides } = info;
    const unitBox = !info.isIdentity && (info.sliceDim0 || info.isSimpleSlice) && begin !== undefined && end !== undefined && strides !== undefined;
    const size = unitBox ? tf.slice_util.computeOutShape(begin, end, strides) : [];
    if (!unitBox || size.some((s) => s <= 0)) return stock(args) as KernelResult;
    const out = sliceMany(args.backend as WasmBackendInternals, x, [{ begin, size, outShape: size }])[0] as tf.TensorInfo;
    // the stock kernel reshapes its result to the final shape (shrunk / new axes); same element count
    return { dataId: out.dataId, shape: info.finalShape, dtype: out.dtype };
  };
}
