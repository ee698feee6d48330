import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../gradients.js';
import { Rng } from '../rng.js';
import { checkGradients, expectNoLeak, useBackend } from '../testing.js';
import { replacedWasmKernels, withStockWasmKernels } from './index.js';

// Every case runs twice on wasm, with tfjs-backend-wasm's stock kernels and with ours, and the outputs
// must be bit-identical (same dtype, shape and values; the kernels only move bytes).

type Op = () => tf.Tensor | tf.Tensor[];

function snapshot(op: Op): { shape: number[]; dtype: string; values: number[] }[] {
  return tf.tidy(() => {
    const out = op();
    return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: [...t.shape], dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  });
}

type Snapshot = ReturnType<typeof snapshot> | { error: string };

function attempt(op: Op): Snapshot {
  try {
    return snapshot(op);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function expectSameAsStock(op: Op): void {
  const stock = withStockWasmKernels(() => attempt(op));
  const ours = expectNoLeak(() => attempt(op));
  if ('error' in stock || 'error' in ours) {
    expect(ours).toEqual(stock); // an invalid slice fails with the same message
    return;
  }
  expect(ours.length).toBe(stock.length);
  ours.forEach((o, i) => {
    const s = stock[i] as (typeof stock)[number];
    expect(o.shape).toEqual(s.shape);
    expect(o.dtype).toBe(s.dtype);
    // Object.is also tells -0 from 0 and matches NaN with NaN
    const firstDiff = o.values.findIndex((v, j) => !Object.is(v, s.values[j]));
    expect(firstDiff, `output ${i} differs at element ${firstDiff}`).toBe(-1);
  });
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Distinct values (index + fraction) so a misplaced element cannot go unnoticed. */
function pattern(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): tf.Tensor {
  const n = sizeOf(shape);
  if (dtype === 'bool')
    return tf.tensor(
      Array.from({ length: n }, (_, i) => (i * 7) % 3 === 0),
      shape,
      'bool',
    );
  if (dtype === 'int32')
    return tf.tensor(
      Int32Array.from({ length: n }, (_, i) => i * 3 - 7),
      shape,
      'int32',
    );
  return tf.tensor(
    Float32Array.from({ length: n }, (_, i) => i + 0.25 - (i % 5) * 1e-3),
    shape,
    'float32',
  );
}

const DTYPES = ['float32', 'int32', 'bool'] as const;

describe('wasm Slice / Unpack / SplitV / StridedSlice read in place, bit-identical to the stock kernels', () => {
  beforeAll(() => useBackend('wasm'));

  it('replaces the four stock kernels', () => {
    expect(replacedWasmKernels()).toEqual(expect.arrayContaining(['Slice', 'SplitV', 'StridedSlice', 'Unpack']));
  });

  // [shape, begin, size]: contiguous and strided boxes, size -1, begin offsets, empty and full slices
  const sliceCases: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [[10], [0], [-1]],
    [[10], [10], [0]],
    [
      [7, 9],
      [2, 0],
      [3, -1],
    ], // whole rows: one contiguous run
    [
      [7, 9],
      [1, 3],
      [4, 5],
    ], // strided
    [
      [7, 9],
      [0, 8],
      [-1, 1],
    ], // one column: single-element runs
    [
      [7, 9],
      [6, 0],
      [1, 9],
    ],
    [
      [4, 5, 6],
      [1, 2, 3],
      [2, 2, 2],
    ],
    [
      [4, 5, 6],
      [0, 0, 0],
      [-1, -1, -1],
    ],
    [
      [4, 5, 6],
      [1, 0, 0],
      [2, 5, 6],
    ],
    [
      [4, 5, 6],
      [0, 1, 0],
      [4, 3, 6],
    ],
    [
      [4, 5, 6],
      [3, 4, 5],
      [1, 1, 1],
    ],
    [
      [4, 5, 6],
      [0, 2, 0],
      [4, 0, 6],
    ], // empty
    [
      [2, 3, 4, 5],
      [1, 1, 1, 1],
      [1, -1, 2, 3],
    ],
    [
      [2, 3, 4, 5],
      [0, 0, 2, 0],
      [2, 3, 2, 5],
    ],
    [
      [2, 3, 4, 5, 3],
      [1, 0, 1, 2, 0],
      [1, 3, 2, 2, 2],
    ], // rank 5
    [
      [2, 2, 3, 2, 3, 4],
      [0, 1, 1, 0, 1, 1],
      [2, 1, 2, 2, 2, 3],
    ], // rank 6
    [
      [3, 200],
      [1, 8],
      [2, 150],
    ], // runs long enough for memmove, at an offset
    [
      [6, 256, 64],
      [2, 0, 0],
      [1, 256, 64],
    ], // a head of attention
  ];
  it.each(sliceCases)('tf.slice of %j at %j size %j (float32, int32, bool)', (shape, begin, size) => {
    for (const dtype of DTYPES) {
      const x = pattern(shape, dtype);
      expectSameAsStock(() => tf.slice(x, begin, size));
      x.dispose();
    }
  });

  it('tf.slice with a number begin/size on a 1-D tensor, and of a scalar-sized box', () => {
    const x = pattern([12]);
    expectSameAsStock(() => tf.slice(x, 5));
    expectSameAsStock(() => tf.slice(x, 2, 7));
    x.dispose();
    const y = pattern([1, 1, 1]);
    expectSameAsStock(() => tf.slice(y, [0, 0, 0], [1, 1, 1]));
    y.dispose();
  });

  it('string tensors go to the stock kernel', () => {
    const s = tf.tensor([
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
    ]);
    expect(tf.slice(s, [0, 1], [2, 2]).arraySync()).toEqual([
      ['b', 'c'],
      ['e', 'f'],
    ]);
    expect(tf.unstack(s, 1).map((t) => t.arraySync())).toEqual([
      ['a', 'd'],
      ['b', 'e'],
      ['c', 'f'],
    ]);
    tf.dispose(s);
  });

  const unstackCases: [number[], number][] = [
    [[5], 0],
    [[4, 3], 0],
    [[4, 3], 1],
    [[4, 3], -1],
    [[6, 7, 5], 0],
    [[6, 7, 5], 1],
    [[6, 7, 5], 2],
    [[6, 7, 5], -2],
    [[2, 3, 4, 5], 3],
    [[2, 3, 4, 5], -4],
    [[6, 256, 64], 0],
    [[6, 64, 256], 0],
    [[3, 0, 2], 0], // empty outputs
  ];
  it.each(unstackCases)('tf.unstack of %j along axis %i (float32, int32, bool)', (shape, axis) => {
    for (const dtype of DTYPES) {
      const x = pattern(shape, dtype);
      expectSameAsStock(() => tf.unstack(x, axis));
      x.dispose();
    }
  });

  const splitCases: [number[], number | number[], number][] = [
    [[12], 3, 0],
    [[12], [2, -1, 5], 0],
    [[6, 8], 2, 0],
    [[6, 8], 4, 1],
    [[6, 8], [3, 5], -1],
    [[6, 8], [1, 0, 7], 1], // an empty piece
    [[4, 6, 10], 2, 2],
    [[4, 6, 10], [1, 2, 3, 4], -1],
    [[4, 6, 10], [2, -1], 1],
    [[4, 6, 10], 4, -3],
    [[2, 3, 4, 6], [5, 1], 3],
    [[8, 256, 1024], 2, -1], // gated-gelu's two halves
  ];
  it.each(splitCases)('tf.split of %j into %j along axis %i (float32, int32, bool)', (shape, splits, axis) => {
    for (const dtype of DTYPES) {
      const x = pattern(shape, dtype);
      expectSameAsStock(() => tf.split(x, splits, axis));
      x.dispose();
    }
  });

  // [shape, begin, end, strides?, masks?]: the in-place case (unit strides) and delegated ones
  const stridedCases: [number[], number[], number[], number[] | undefined, Partial<Record<'b' | 'e' | 'el' | 'na' | 'sh', number>>][] = [
    [[5, 6], [1, 0], [3, 6], undefined, {}], // rows: contiguous
    [[5, 6], [1, 2], [4, 5], undefined, {}], // simple box
    [[5, 6], [-3, -4], [-1, -1], undefined, {}], // negative begin / end
    [[5, 6], [0, 1], [0, 4], undefined, { b: 1, e: 1 }], // masks
    [[5, 6], [2, 0], [3, 6], undefined, { sh: 1 }], // shrink axis 0
    [[5, 6], [0, 3], [5, 4], undefined, { sh: 2 }], // shrink axis 1
    [[5, 6], [0, 0], [5, 6], undefined, { na: 1 }], // new axis
    [[5, 6], [0, 0], [5, 6], undefined, {}], // identity
    [[5, 6], [3, 0], [1, 6], undefined, {}], // begin > end: both throw
    [[5, 6], [0, 1], [5, 6], [2, 2], {}], // real strides: stock
    [[5, 6], [4, 5], [0, 0], [-1, -2], {}], // reversed: stock
    [[3, 4, 5], [1, 0], [2, 2], undefined, { el: 0 }],
    [[3, 4, 5], [0, 1, 1], [3, 3, 4], undefined, {}],
    [[2, 3, 4, 5], [0, 1], [1, 3], undefined, { el: 4 }], // ellipsis
  ];
  it.each(stridedCases)('tf.stridedSlice of %j begin %j end %j strides %j masks %j', (shape, begin, end, strides, m) => {
    // Real strides stay on the stock native kernel, which is right for float32 only (on int32/bool it
    // returns a float32 tensor of reinterpreted bytes, read past the input for bool): float32 there.
    const dtypes = strides === undefined ? DTYPES : (['float32'] as const);
    for (const dtype of dtypes) {
      const x = pattern(shape, dtype);
      expectSameAsStock(() => tf.stridedSlice(x, begin, end, strides, m.b ?? 0, m.e ?? 0, m.el ?? 0, m.na ?? 0, m.sh ?? 0));
      x.dispose();
    }
  });

  it('is correct when allocating the outputs grows the wasm heap (earlier views are detached)', () => {
    const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    // An input as large as the current heap: its two halves need as much again, more than is free.
    const n = Math.ceil(heapBytes() / 4 / 2) * 2;
    const x = tf.tensor(
      Float32Array.from({ length: n }, (_, i) => i),
      [2, n / 2],
    );
    const before = heapBytes();
    const halves = tf.unstack(x);
    const grew = heapBytes() > before;
    const ok = halves.every((h, k) => {
      const v = h.dataSync();
      return v[0] === k * (n / 2) && v[v.length - 1] === (k + 1) * (n / 2) - 1 && v[(n / 4) | 0] === k * (n / 2) + ((n / 4) | 0);
    });
    tf.dispose([x, ...halves]);
    expect(grew, 'the test did not make the heap grow; enlarge the input').toBe(true);
    expect(ok).toBe(true);
  });

  it('leaves gradients as they were: slice, unstack and split under tf.grads (same as stock, finite differences)', () => {
    const rng = new Rng(5);
    const x = tf.tensor(rng.normalArray(4 * 6 * 5), [4, 6, 5]);
    const w = tf.tensor(rng.normalArray(4 * 6 * 5), [4, 6, 5]); // weights so each element's gradient differs
    const fs: ((t: tf.Tensor) => tf.Tensor)[] = [
      (t) => tf.mul(tf.slice(t, [1, 2, 0], [2, -1, 3]), tf.slice(w, [0, 0, 1], [2, 4, 3])),
      (t) => tf.addN(tf.unstack(t, 1).map((p, i) => tf.mul(tf.square(p), i + 1))),
      (t) => tf.addN(tf.unstack(t, -1).map((p, i) => tf.mul(p, tf.reshape(tf.slice(w, [0, 0, i], [4, 6, 1]), [4, 6])))),
      (t) => {
        const [h0, h1] = tf.split(t, [2, 3], -1) as [tf.Tensor, tf.Tensor];
        return tf.concat([tf.mul(tf.sin(h0), tf.slice(w, [0, 0, 0], [4, 6, 2])), tf.mul(h1, tf.slice(w, [0, 0, 2], [4, 6, 3]))], 2);
      },
    ];
    for (const f of fs) {
      const grad = () => snapshot(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), tf.scalar(0.5))))(x));
      const stock = withStockWasmKernels(grad);
      const ours = expectNoLeak(grad);
      expect(ours).toEqual(stock);
      expectNoLeak(() => checkGradients(f, [x], { maxElementsPerInput: 30 }));
    }
    tf.dispose([x, w]);
  });
});
