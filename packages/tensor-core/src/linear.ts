// Matrix products that keep wasm on its fast kernel. tfjs-backend-wasm runs a plain 2-D
// non-transposed matMul at ≈20–28 GFLOP/s here, but transposed or batched products at ≈1–2, and
// tfjs's built-in matMul gradient uses transposed products. So these ops carry custom gradients in
// which every product is a 2-D `matMul(a, b)` after explicit `transpose` calls (memory-bound, cheap).
// On other backends the transposes are passed as flags, which those kernels handle natively.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';

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

/** a' · b' with a' = tA ? aᵀ : a (2-D). On wasm: explicit transposes and a plain product. */
function mm(a: tf.Tensor2D, b: tf.Tensor2D, tA: boolean, tB: boolean): tf.Tensor2D {
  if (!onWasm()) return tf.matMul(a, b, tA, tB) as tf.Tensor2D;
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
function makeProduct(
  raw: (a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean) => tf.Tensor,
  tA: boolean,
  tB: boolean,
): Product {
  return tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: raw(a, b, tA, tB),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
        // y = a'·b'  =>  da' = dy·b'ᵀ, db' = a'ᵀ·dy; the transposes are undone on the way back.
        const da = tA ? raw(sb, dy, tB, true) : raw(dy, sb, false, !tB);
        const db = tB ? raw(dy, sa, true, tA) : raw(sa, dy, !tA, false);
        return [da, db];
      },
    };
  }) as unknown as CustomGradientFunc) as unknown as Product;
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
    throw new RangeError(
      `matmul: inner dimensions differ: a ${shapeStr(a)}${transposeA ? 'ᵀ' : ''} · b ${shapeStr(b)}${transposeB ? 'ᵀ' : ''}`,
    );
  }
  if (plainTfjs()) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);
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

const linearNoBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: forwardXWt(x, w),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [mm(dy, sw, false, false), dWeight(dy, sx)];
    },
  };
}) as unknown as CustomGradientFunc);

const linearBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.tidy(() => tf.add(forwardXWt(x, w), b)),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [mm(dy, sw, false, false), dWeight(dy, sx), tf.sum(dy, 0)];
    },
  };
}) as unknown as CustomGradientFunc);

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
    const x2 = tf.reshape(x, [-1, inF]) as tf.Tensor2D; // [n, in]
    let y2: tf.Tensor2D; // [n, out]
    if (plainTfjs()) {
      const y = tf.matMul(x2, weight as tf.Tensor2D, false, true) as tf.Tensor2D;
      y2 = bias === undefined ? y : (tf.add(y, bias) as tf.Tensor2D);
    } else {
      y2 = (bias === undefined ? linearNoBias(x2, weight) : linearBias(x2, weight, bias)) as tf.Tensor2D;
    }
    return tf.reshape(y2, [...lead, out]); // [..., out]
  });
}

// When a loop of 2-D products beats wasm's batched kernel. Each 2-D product has a fixed cost
// (operator setup, packing of the right operand), so small matrices stay on the batched kernel, and
// the 2-D kernel is weak for a narrow right operand (n = 64) unless the inner dimension is long.
// Measured here (GFLOP/s, loop vs batched): 8×[512,64]·[64,512] 13 vs 1.1; 16×[128,512]·[512,64]
// 5.5 vs 2.0; 64×[256,64]·[64,256] 0.66 vs 0.32 (loaded machine); 64×[256,256]·[256,64] 0.28 vs 0.58
// (loaded); 64×[128,64]·[64,128] 0.8 vs 1.8.
const LOOP_MIN_MACS = 2 ** 21;
function loopBeatsBatched(batch: number, m: number, k: number, n: number): boolean {
  return batch > 1 && m * k * n >= LOOP_MIN_MACS && (n >= 128 || k >= 512);
}

/** Batched product with the transposes materialised, so the kernels see non-transposed operands. */
function bmmRaw(a: tf.Tensor3D, b: tf.Tensor3D, tA: boolean, tB: boolean): tf.Tensor3D {
  if (!onWasm()) return tf.matMul(a, b, tA, tB);
  return tf.tidy(() => {
    const a2 = tA ? tf.transpose(a, [0, 2, 1]) : a; // [batch, m, k]
    const b2 = tB ? tf.transpose(b, [0, 2, 1]) : b; // [batch, k, n]
    const [batch, m, k] = a2.shape;
    const n = b2.shape[2];
    if (!loopBeatsBatched(batch, m, k, n)) return tf.matMul(a2, b2);
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
    throw new RangeError(
      `bmm: inner dimensions differ: a ${shapeStr(a)}${transposeA ? 'ᵀ' : ''} · b ${shapeStr(b)}${transposeB ? 'ᵀ' : ''}`,
    );
  }
  if (plainTfjs()) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB);
  const product = bmmVariants[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)] as Product;
  return product(a, b) as tf.Tensor3D;
}
