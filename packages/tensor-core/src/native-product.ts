// Matrix products on tfjs-node with the TensorFlow op that is fastest for their size.
//
// tfjs-node runs every tfjs matMul as TensorFlow's BatchMatMulV2, which oneDNN takes over with a fixed cost
// of roughly 80–150 µs per call here (2 cores), even for a [128, 64]·[64, 64] product. A small model's step
// is full of such products (a decoder over 2 target positions, a decoding step, LoRA factors). TensorFlow's
// plain MatMul runs the same 2-D product in ≈20 µs and is as fast as BatchMatMulV2 on large ones; for batched
// products BatchMatMulV3 (not taken over by oneDNN) is up to 7× faster below ~10⁶ multiply-adds and up to 3×
// slower above. Measured interleaved (bench/native-products.ts), 25th percentile of repetitions (µs;
// multiply-adds in brackets):
//   [128,64]·[64,64]ᵀ                     MatMul 19   BatchMatMulV2 95
//   [2496,64]·[64,64]ᵀ                    MatMul 262  BatchMatMulV2 260
//   [2496,64]ᵀ·[2496,64]                  MatMul 213  BatchMatMulV2 236
//   [64,4,2,2]·[64,4,2,16]       (16 k)   V3 30       V2 204
//   [8,24,64]·[8,64,16]          (196 k)  V3 25       V2 89
//   [128,4,1,16]·[128,4,39,16]ᵀ  (320 k)  V3 130      V2 166
//   [256,4,2,16]·[256,4,39,16]ᵀ  (1.3 M)  V3 357      V2 306
//   [64,39,64]·[64,64,16]ᵀ       (2.6 M)  V3 343      V2 196
//   [64,4,39,16]·[64,4,39,16]ᵀ   (6.2 M)  V3 885      V2 326
// So: a registered kernel `TagiMatMul` (backend `tensorflow` only) picks MatMul for 2-D operands and V3 or V2
// for batched ones by size; its gradient is the usual pair of products, through the same kernel. Other
// backends never see it (`fastMatMul` calls tf.matMul there).
import * as tf from '@tensorflow/tfjs-core';

const KERNEL = 'TagiMatMul';

/** Batched products with fewer multiply-adds than this run as BatchMatMulV3 (see the table above). */
const SMALL_BATCHED_MACS = 1 << 20;

/** The parts of tfjs-node's NodeJSKernelBackend this kernel uses. */
interface NodeBackend {
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.TensorInfo;
  binding: { TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_FLOAT: number };
}

function isNodeBackend(b: unknown): b is NodeBackend {
  const n = b as Partial<NodeBackend> | undefined;
  return typeof n?.executeSingleOutput === 'function' && typeof n.binding?.TF_ATTR_BOOL === 'number' && typeof n.binding.TF_FLOAT === 'number';
}

// whether this libtensorflow has BatchMatMulV3 (TensorFlow ≥ 2.6); found out on first use
let v3: boolean | undefined;

function product(backend: NodeBackend, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const { TF_ATTR_BOOL: bool, TF_ATTR_TYPE: type, TF_FLOAT: float } = backend.binding;
  if (a.shape.length === 2) {
    return backend.executeSingleOutput(
      'MatMul',
      [
        { name: 'T', type, value: float },
        { name: 'transpose_a', type: bool, value: transposeA },
        { name: 'transpose_b', type: bool, value: transposeB },
      ],
      [a, b],
    );
  }
  const flags = [
    { name: 'adj_x', type: bool, value: transposeA },
    { name: 'adj_y', type: bool, value: transposeB },
  ];
  const r = a.shape.length;
  const m = a.shape[transposeA ? r - 1 : r - 2] as number;
  const k = a.shape[transposeA ? r - 2 : r - 1] as number;
  const n = b.shape[transposeB ? r - 2 : r - 1] as number;
  const macs = a.shape.slice(0, -2).reduce((p, q) => p * q, 1) * m * k * n;
  if (macs < SMALL_BATCHED_MACS && v3 !== false) {
    try {
      const y = backend.executeSingleOutput(
        'BatchMatMulV3',
        [{ name: 'Ta', type, value: float }, { name: 'Tb', type, value: float }, { name: 'Tout', type, value: float }, ...flags],
        [a, b],
      );
      v3 = true;
      return y;
    } catch (e) {
      if (v3 === true) throw e;
      v3 = false; // an older libtensorflow: BatchMatMulV2 for every batched product
    }
  }
  return backend.executeSingleOutput('BatchMatMulV2', [{ name: 'T', type, value: float }, ...flags], [a, b]);
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      return product(backend as unknown as NodeBackend, inputs['a'] as tf.TensorInfo, inputs['b'] as tf.TensorInfo, transposeA, transposeB);
    },
  });
  // y = a'·b' ⇒ da' = dy·b'ᵀ, db' = a'ᵀ·dy, the transposes undone on the way back (tfjs's BatchMatMul gradient)
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const { transposeA: tA, transposeB: tB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      return {
        a: () => (tA ? run(b, g, tB, true) : run(g, b, false, !tB)),
        b: () => (tB ? run(g, a, true, tA) : run(a, g, !tA, false)),
      };
    },
  });
}

function run(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return tf.engine().runKernel(KERNEL, { a, b }, { transposeA, transposeB } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `op(a)·op(b)` for float32 operands of equal rank ≥ 2 with equal batch axes (no broadcasting): on tfjs-node
 * through the `TagiMatMul` kernel above, elsewhere (or for other dtypes or broadcast batch axes) tf.matMul.
 */
export function fastMatMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  const native =
    tf.getBackend() === 'tensorflow' &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    a.rank === b.rank &&
    a.rank >= 2 &&
    a.shape.slice(0, -2).every((d, i) => d === b.shape[i]) &&
    isNodeBackend(tf.backend());
  if (!native) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB);
  register();
  return run(a, b, transposeA, transposeB);
}
