// Matrix products that keep wasm on its fast kernel. tfjs-backend-wasm runs a plain 2-D
// non-transposed matMul at ≈20–28 GFLOP/s here, but transposed or batched products at ≈1–2, and
// tfjs's built-in matMul gradient uses transposed products. So these ops carry custom gradients in
// which every product is a 2-D `matMul(a, b)` after explicit `transpose` calls (memory-bound, cheap).
// On other backends the transposes are passed as flags, which those kernels handle natively.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';
import { fastMatMul } from './native-product.js';

ensureGradients();

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

// Native TensorFlow handles transposed products itself and tfjs's own gradients run at full speed
// there (measured: 43 vs 36 GFLOP/s for the linear benchmark), so the custom gradients are skipped on
// it. They stay on for cpu so that their correctness is tested on the reference backend.
function plainTfjs(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** One input's gradient, computed only when the backward pass asks for it. */
type LazyGrad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor;

// The engine entry point `tf.customGrad` is built on. `customGrad` itself computes the gradient of EVERY
// input eagerly, although the tape asks only for those on a path to a differentiated variable; for a
// frozen weight (LoRA training) that wasted dW = dyᵀ·x is a third of a linear layer's backward. Passing
// one lazy function per input to the same engine call lets the tape skip the ones it prunes, as tfjs's
// registered kernel gradients do.
interface KernelFuncEngine {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor;
}

const kernelFuncEngine: KernelFuncEngine | undefined = (() => {
  const e = tf.engine() as unknown as Partial<KernelFuncEngine>;
  return typeof e.runKernelFunc === 'function' ? (e as KernelFuncEngine) : undefined;
})();

/**
 * `forward(...inputs)` with one gradient function per input, each run only when the tape needs that
 * input's gradient (an input no differentiated variable leads to is skipped). `save` receives the
 * tensors `grads` get back as `saved`. Falls back to `tf.customGrad` (every gradient computed) if the
 * engine lacks the internal entry point.
 */
export function lazyGradOp(inputs: tf.Tensor[], forward: (save: tf.GradSaveFunc) => tf.Tensor, grads: LazyGrad[]): tf.Tensor {
  if (grads.length !== inputs.length) throw new RangeError(`lazyGradOp: ${inputs.length} inputs but ${grads.length} gradient functions`);
  if (kernelFuncEngine === undefined) {
    const f = tf.customGrad(((...args: unknown[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      return {
        value: forward(save),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grads.map((g) => g(dy, saved)),
      };
    }) as unknown as CustomGradientFunc) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
    return f(...inputs);
  }
  const named: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (named[i] = t));
  return kernelFuncEngine.runKernelFunc({
    forwardFunc: (_backend, save) => forward(save),
    backwardsFunc: (dy, saved) => {
      const out: Record<string, () => tf.Tensor> = {};
      grads.forEach((g, i) => (out[i] = () => g(dy, saved)));
      return out;
    },
    inputs: named,
  });
}

/** a' · b' with a' = tA ? aᵀ : a (2-D). On wasm: explicit transposes and a plain product. */
function mm(a: tf.Tensor2D, b: tf.Tensor2D, tA: boolean, tB: boolean): tf.Tensor2D {
  if (!onWasm()) return fastMatMul(a, b, tA, tB) as tf.Tensor2D;
  const a2 = tA ? tf.transpose(a) : a;
  const b2 = tB ? tf.transpose(b) : b;
  const y = tf.matMul(a2, b2) as tf.Tensor2D;
  if (a2 !== a) a2.dispose();
  if (b2 !== b) b2.dispose();
  return y;
}

function shapeStr(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

type Product = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

// One custom-gradient function per transpose combination (flags are not tensors, so they are
// closed over rather than passed through customGrad).
function makeProduct(raw: (a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean) => tf.Tensor, tA: boolean, tB: boolean): Product {
  // y = a'·b'  =>  da' = dy·b'ᵀ, db' = a'ᵀ·dy; the transposes are undone on the way back.
  return (a, b) =>
    lazyGradOp(
      [a, b],
      (save) => {
        save([a, b]);
        return raw(a, b, tA, tB);
      },
      [
        (dy, [, sb]) => (tA ? raw(sb as tf.Tensor, dy, tB, true) : raw(dy, sb as tf.Tensor, false, !tB)),
        (dy, [sa]) => (tB ? raw(dy, sa as tf.Tensor, true, tA) : raw(sa as tf.Tensor, dy, !tA, false)),
      ],
    );
}

function productTable(raw: (a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean) => tf.Tensor): Product[] {
  return [makeProduct(raw, false, false), makeProduct(raw, false, true), makeProduct(raw, true, false), makeProduct(raw, true, true)];
}

const matmulVariants = productTable((a, b, tA, tB) => mm(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB));

/**
 * 2-D matrix product `op(a)·op(b)` (op = transpose when the flag is set) whose forward and backward
 * products all run as plain 2-D products on wasm.
 */
export function matmul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2) {
    throw new RangeError(`matmul: a and b must be 2-D, got a ${shapeStr(a)}, b ${shapeStr(b)} (use bmm for batches)`);
  }
  const k1 = transposeA ? a.shape[0] : a.shape[1];
  const k2 = transposeB ? b.shape[1] : b.shape[0];
  if (k1 !== k2) {
    throw new RangeError(`matmul: inner dimensions differ: a ${shapeStr(a)}${transposeA ? 'ᵀ' : ''} · b ${shapeStr(b)}${transposeB ? 'ᵀ' : ''}`);
  }
  if (plainTfjs()) return fastMatMul(a, b, transposeA, transposeB) as tf.Tensor2D;
  const product = matmulVariants[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)] as Product;
  return product(a, b) as tf.Tensor2D;
}

// y = x·Wᵀ (+ b). Backward: dx = dy·W (already non-transposed), dW = dyᵀ·x, db = Σ dy.
// On wasm the right operand of a product is repacked by XNNPACK on every call, which costs more than a
// transpose of the same size (measured: [512,4096]·[4096,2048] 1.9× slower than [2048,4096]·[4096,512]).
// So dW is computed as dyᵀ·x when x is the smaller operand (in <= out), else as (xᵀ·dy)ᵀ.
function dWeight(dy: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
  const out = dy.shape[1];
  const inF = x.shape[1];
  if (!onWasm() || inF <= out) return mm(dy, x, true, false);
  return tf.tidy(() => tf.transpose(mm(x, dy, true, false)));
}

// Forward x·Wᵀ on wasm. Transposing and packing W costs ~2·out·in element moves per call; for few
// rows (decoding, n = batch) computing (W·xᵀ)ᵀ moves only ~n·(2·in + out). Measured for
// x[8,512]·W[32128,512]ᵀ: 17 ms instead of 207 ms.
function forwardXWt(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  const [out, inF] = w.shape;
  if (!onWasm() || n * (2 * inF + out) >= 2 * out * inF) return mm(x, w, false, true);
  return tf.tidy(() => tf.transpose(mm(w, x, false, true))); // [n, out]
}

// Each gradient is computed only when the tape asks for it: a frozen weight (LoRA training, the frozen
// base under a hypernetwork) gets no dW = dyᵀ·x, the first layer's input no dx.
const dInput: LazyGrad = (dy, [, sw]) => mm(dy as tf.Tensor2D, sw as tf.Tensor2D, false, false); // [n, in]
const dWeightOf: LazyGrad = (dy, [sx]) => dWeight(dy as tf.Tensor2D, sx as tf.Tensor2D); // [out, in]

function linearNoBias(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const forward = (save: tf.GradSaveFunc) => {
    save([x, w]);
    return forwardXWt(x, w);
  };
  return lazyGradOp([x, w], forward, [dInput, dWeightOf]) as tf.Tensor2D;
}

function linearBias(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const forward = (save: tf.GradSaveFunc) => {
    save([x, w]);
    return tf.tidy(() => tf.add(forwardXWt(x, w), b));
  };
  return lazyGradOp([x, w, b], forward, [dInput, dWeightOf, (dy) => tf.sum(dy, 0)]) as tf.Tensor2D;
}

/**
 * `y = x·weightᵀ + bias` for x `[..., in]`, weight `[out, in]` (PyTorch layout), bias `[out]`;
 * returns `[..., out]`. Fast on wasm in forward and backward.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  if (weight.rank !== 2) throw new RangeError(`linear: weight must be [out, in], got ${shapeStr(weight)}`);
  const [out, inF] = weight.shape as [number, number];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new RangeError(`linear: x must be [..., ${inF}] to match weight ${shapeStr(weight)}, got ${shapeStr(x)}`);
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== out)) {
    throw new RangeError(`linear: bias must be [${out}], got ${shapeStr(bias)}`);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    // a reshape is a kernel of its own on tfjs-node (with a shape tensor uploaded): none for a 2-D x
    const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, inF])) as tf.Tensor2D; // [n, in]
    let y2: tf.Tensor2D; // [n, out]
    if (plainTfjs()) {
      const y = fastMatMul(x2, weight, false, true) as tf.Tensor2D;
      y2 = bias === undefined ? y : (tf.add(y, bias) as tf.Tensor2D);
    } else {
      y2 = bias === undefined ? linearNoBias(x2, weight as tf.Tensor2D) : linearBias(x2, weight as tf.Tensor2D, bias as tf.Tensor1D);
    }
    return x.rank === 2 ? y2 : tf.reshape(y2, [...lead, out]); // [..., out]
  });
}

/** How `bmm` runs a batched product on wasm: tfjs's batched kernel, or a loop of plain 2-D products. */
export type BmmStrategy = 'batched' | 'loop';

// When a loop of 2-D products beats wasm's batched kernel. The batched kernel (tfjs-backend-wasm's own
// blocked loop, ≈1 GFLOP/s) is used only for a batch of 1 by XNNPACK; a loop runs each product on
// XNNPACK's 2-D kernel at a fixed cost per product (slicing the operands, packing the right one,
// concatenating the results). Measured with bench/bmm.ts once Slice/Unpack read in place (CPU ms,
// batched vs loop, load 6–7): 6×[256,256]·[256,64] 21.2 vs 7.1; 6×[256,64]·[64,256] 28.8 vs 12.7;
// 48×[64,64]·[64,64] 11.4 vs 2.6; 12×[16,64]·[64,64] 0.63 vs 0.30; 12×[8,64]·[64,64] 0.53 vs 0.49;
// 12×[4,64]·[64,256] 1.16 vs 1.27; 12×[1,256]·[256,64] (a decoding step) 0.19 vs 0.83;
// 12×[16,16]·[16,16] 0.05 vs 0.09. So: at least 8 rows and 2^14 multiply-adds per product.
const LOOP_MIN_ROWS = 8;
const LOOP_MIN_MACS = 2 ** 14;
function loopBeatsBatched(batch: number, m: number, k: number, n: number): boolean {
  return batch > 1 && m >= LOOP_MIN_ROWS && m * k * n >= LOOP_MIN_MACS;
}

let forcedStrategy: BmmStrategy | undefined;

/**
 * The strategy `bmm` uses on wasm for `batch` products [m, k]·[k, n] (operands already non-transposed).
 * @internal
 */
export function bmmStrategy(batch: number, m: number, k: number, n: number): BmmStrategy {
  if (forcedStrategy !== undefined) return forcedStrategy;
  return loopBeatsBatched(batch, m, k, n) ? 'loop' : 'batched';
}

/**
 * Runs `fn` with every wasm `bmm` product (forward and backward) on one strategy. For tests and benchmarks
 * that compare strategies. @internal
 */
export function withBmmStrategy<T>(strategy: BmmStrategy, fn: () => T): T {
  const before = forcedStrategy;
  forcedStrategy = strategy;
  try {
    return fn();
  } finally {
    forcedStrategy = before;
  }
}

/** Batched product with the transposes materialised, so the kernels see non-transposed operands. */
function bmmRaw(a: tf.Tensor3D, b: tf.Tensor3D, tA: boolean, tB: boolean): tf.Tensor3D {
  if (!onWasm()) return fastMatMul(a, b, tA, tB) as tf.Tensor3D;
  return tf.tidy(() => {
    if (!tA && tB && a.shape[1] === 1) {
      // One row against a transposed operand (a cached decoding step's scores against every key): a
      // broadcast multiply and a sum over k read b once, where transposing b first copies it. Measured
      // (bench/bmm.ts shapes, 48 products): [1, 64]·[256, 64]ᵀ 0.56 vs 4.1 ms; [1, 64]·[64, 64]ᵀ 0.24 vs 0.55 ms.
      const [batch, n] = b.shape;
      return tf.reshape(tf.sum(tf.mul(a, b), 2), [batch, 1, n]) as tf.Tensor3D; // [batch, 1, n]
    }
    const a2 = tA ? tf.transpose(a, [0, 2, 1]) : a; // [batch, m, k]
    const b2 = tB ? tf.transpose(b, [0, 2, 1]) : b; // [batch, k, n]
    const [batch, m, k] = a2.shape;
    const n = b2.shape[2];
    if (batch === 1 || bmmStrategy(batch, m, k, n) === 'batched') return tf.matMul(a2, b2);
    const as = tf.unstack(a2); // batch × [m, k]
    const bs = tf.unstack(b2); // batch × [k, n]
    const ys = as.map((ai, i) => tf.matMul(ai as tf.Tensor2D, bs[i] as tf.Tensor2D));
    return tf.reshape(tf.concat(ys, 0), [batch, m, n]); // [batch, m, n]
  });
}

const bmmVariants = productTable((a, b, tA, tB) => bmmRaw(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB));

/**
 * Batched matrix product of 3-D tensors `op(a)[i]·op(b)[i]` (a `[batch, m, k]`, b `[batch, k, n]`
 * before the optional transposes), with a custom gradient that avoids transposed kernels on wasm.
 */
export function bmm(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3) {
    throw new RangeError(`bmm: a and b must be 3-D [batch, m, k], got a ${shapeStr(a)}, b ${shapeStr(b)}`);
  }
  if (a.shape[0] !== b.shape[0]) {
    throw new RangeError(`bmm: batch sizes differ: a ${shapeStr(a)}, b ${shapeStr(b)}`);
  }
  const k1 = transposeA ? a.shape[1] : a.shape[2];
  const k2 = transposeB ? b.shape[2] : b.shape[1];
  if (k1 !== k2) {
    throw new RangeError(`bmm: inner dimensions differ: a ${shapeStr(a)}${transposeA ? 'ᵀ' : ''} · b ${shapeStr(b)}${transposeB ? 'ᵀ' : ''}`);
  }
  if (plainTfjs()) return fastMatMul(a, b, transposeA, transposeB) as tf.Tensor3D;
  const product = bmmVariants[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)] as Product;
  return product(a, b) as tf.Tensor3D;
}
