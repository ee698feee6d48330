import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bmm, bmmStrategy, linear, matmul, withBmmStrategy } from './linear.js';
import { Rng } from './rng.js';
import { checkGradients, expectClose, expectNoLeak, testBackends, useBackend } from './testing.js';

function randn(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);
}

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe.each(testBackends())('fast products on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(FLAGS)('matmul(transposeA=%s, transposeB=%s): value and gradient match tfjs and finite differences', (tA, tB) => {
    const rng = new Rng(11);
    const a = randn(rng, tA ? [5, 3] : [3, 5]);
    const b = randn(rng, tB ? [4, 5] : [5, 4]);
    const r = randn(rng, [3, 4]); // a fixed cotangent so the loss is not a plain sum
    expectNoLeak(() => {
      const ours = (x: tf.Tensor, y: tf.Tensor) => tf.mul(matmul(x, y, tA, tB), r);
      const theirs = (x: tf.Tensor, y: tf.Tensor) => tf.mul(tf.matMul(x, y, tA, tB), r);
      tf.tidy(() => expectClose(matmul(a, b, tA, tB), tf.matMul(a, b, tA, tB), { atol: 1e-5 }));
      tf.tidy(() => {
        const g1 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(ours(x, y)))([a, b]);
        const g2 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(theirs(x, y)))([a, b]);
        expectClose(g1[0] as tf.Tensor, g2[0] as tf.Tensor, { atol: 1e-5 });
        expectClose(g1[1] as tf.Tensor, g2[1] as tf.Tensor, { atol: 1e-5 });
      });
      checkGradients(ours, [a, b]);
    });
    tf.dispose([a, b, r]);
  });

  it.each(FLAGS)('bmm(transposeA=%s, transposeB=%s): value and gradient match tfjs and finite differences', (tA, tB) => {
    const rng = new Rng(12);
    const a = randn(rng, tA ? [2, 4, 3] : [2, 3, 4]);
    const b = randn(rng, tB ? [2, 5, 4] : [2, 4, 5]);
    const r = randn(rng, [2, 3, 5]);
    expectNoLeak(() => {
      const ours = (x: tf.Tensor, y: tf.Tensor) => tf.mul(bmm(x, y, tA, tB), r);
      tf.tidy(() => expectClose(bmm(a, b, tA, tB), tf.matMul(a, b, tA, tB), { atol: 1e-5 }));
      tf.tidy(() => {
        const g1 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(ours(x, y)))([a, b]);
        const g2 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), r)))([a, b]);
        expectClose(g1[0] as tf.Tensor, g2[0] as tf.Tensor, { atol: 1e-5 });
        expectClose(g1[1] as tf.Tensor, g2[1] as tf.Tensor, { atol: 1e-5 });
      });
      checkGradients(ours, [a, b]);
    });
    tf.dispose([a, b, r]);
  });

  it('bmm of one row against a transposed operand (a cached decoding step): value and gradients match tfjs and finite differences', () => {
    const rng = new Rng(14);
    const a = randn(rng, [3, 1, 4]); // [batch, 1, k]: one query per (row, head)
    const b = randn(rng, [3, 6, 4]); // [batch, n, k]: the keys, used transposed
    const r = randn(rng, [3, 1, 6]);
    expectNoLeak(() => {
      const ours = (x: tf.Tensor, y: tf.Tensor) => tf.mul(bmm(x, y, false, true), r);
      tf.tidy(() => expectClose(bmm(a, b, false, true), tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), { atol: 1e-5 }));
      tf.tidy(() => {
        const g1 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(ours(x, y)))([a, b]);
        const g2 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, false, true), r)))([a, b]);
        expectClose(g1[0] as tf.Tensor, g2[0] as tf.Tensor, { atol: 1e-5 });
        expectClose(g1[1] as tf.Tensor, g2[1] as tf.Tensor, { atol: 1e-5 });
      });
      checkGradients(ours, [a, b]);
    });
    tf.dispose([a, b, r]);
  });

  it.each([true, false])('linear (bias %s) on [2, 3, in]: value and gradients match tfjs and finite differences', (withBias) => {
    const rng = new Rng(13);
    const x = randn(rng, [2, 3, 6]);
    const w = randn(rng, [4, 6]);
    const bias = randn(rng, [4]);
    const r = randn(rng, [2, 3, 4]);
    expectNoLeak(() => {
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.mul(linear(xx, ww, withBias ? bb : undefined), r);
      const theirs = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
        const y = tf.reshape(tf.matMul(tf.reshape(xx, [6, 6]), ww, false, true), [2, 3, 4]);
        return tf.mul(withBias ? tf.add(y, bb) : y, r);
      };
      tf.tidy(() => expectClose(ours(x, w, bias), theirs(x, w, bias), { atol: 1e-5 }));
      const inputs = withBias ? [x, w, bias] : [x, w];
      tf.tidy(() => {
        const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor, c?: tf.Tensor) => tf.sum(ours(a, b, c ?? bias)))(inputs);
        const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor, c?: tf.Tensor) => tf.sum(theirs(a, b, c ?? bias)))(inputs);
        inputs.forEach((_, i) => expectClose(g1[i] as tf.Tensor, g2[i] as tf.Tensor, { atol: 1e-5, label: `grad ${i}` }));
      });
      checkGradients(withBias ? ours : (a: tf.Tensor, b: tf.Tensor) => ours(a, b, bias), withBias ? [x, w, bias] : [x, w]);
    });
    tf.dispose([x, w, bias, r]);
  });

  it('linear picks each forward and dW arrangement correctly (many or few rows, wide or narrow outputs)', () => {
    const rng = new Rng(14);
    for (const [n, inF, out] of [
      [7, 3, 9],
      [7, 9, 3],
      [2, 16, 40], // few rows: (W·xᵀ)ᵀ on wasm
      [40, 16, 4],
    ] as const) {
      const x = randn(rng, [n, inF]);
      const w = randn(rng, [out, inF]);
      expectNoLeak(() =>
        tf.tidy(() => {
          expectClose(linear(x, w), tf.matMul(x, w, false, true), { atol: 1e-5 });
          const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(linear(xx, ww))))([x, w]);
          const [rx, rw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.matMul(xx, ww, false, true))))([x, w]);
          expectClose(gx as tf.Tensor, rx as tf.Tensor, { atol: 1e-4 });
          expectClose(gw as tf.Tensor, rw as tf.Tensor, { atol: 1e-4 });
        }),
      );
      tf.dispose([x, w]);
    }
  });

  it.each([true, false])('linear (bias %s) computes no dW for a weight that is not differentiated (LoRA: frozen base)', async (withBias) => {
    const rng = new Rng(16);
    const x = tf.variable(randn(rng, [6, 5]));
    const w = tf.variable(randn(rng, [7, 5]));
    const b = tf.variable(randn(rng, [7]));
    // products run by a forward + backward pass differentiating `vars` only
    const products = async (vars: tf.Variable[]) => {
      const p = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(linear(x, w, withBias ? b : undefined))), vars);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return p.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === 'TagiMatMul').length; // TagiMatMul: fastMatMul on tensorflow
    };
    // forward (1) + dx (1) + dW (1); without w among the variables, dW is never computed
    const all = await products(withBias ? [x, w, b] : [x, w]);
    expect(await products([x])).toBe(all - 1);
    // and the gradient of what is differentiated is unchanged
    const g = tf.variableGrads(() => tf.sum(tf.square(linear(x, w, withBias ? b : undefined))), [x]);
    const ref = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(x, w, false, true))), [x]);
    if (!withBias) expectClose(g.grads[x.name] as tf.Tensor, ref.grads[x.name] as tf.Tensor, { atol: 1e-4 });
    tf.dispose([g.value, ref.value, ...Object.values(g.grads), ...Object.values(ref.grads), x, w, b]);
  });

  it.each(FLAGS)('bmm(transposeA=%s, transposeB=%s) on matrices large enough for the per-matrix loop', (tA, tB) => {
    const rng = new Rng(15);
    const [m, k, n] = [128, 128, 128]; // 2^21 multiply-adds per matrix: the loop path on wasm
    const a = randn(rng, tA ? [3, k, m] : [3, m, k]);
    const b = randn(rng, tB ? [3, n, k] : [3, k, n]);
    const r = randn(rng, [3, m, n]);
    expectNoLeak(() =>
      tf.tidy(() => {
        expectClose(bmm(a, b, tA, tB), tf.matMul(a, b, tA, tB), { atol: 1e-3 });
        const g1 = tf.grads((x: tf.Tensor, y: tf.Tensor) => bmm(x, y, tA, tB))([a, b], r);
        const g2 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB))([a, b], r);
        expectClose(g1[0] as tf.Tensor, g2[0] as tf.Tensor, { atol: 1e-3 });
        expectClose(g1[1] as tf.Tensor, g2[1] as tf.Tensor, { atol: 1e-3 });
      }),
    );
    tf.dispose([a, b, r]);
  });

  it('rejects mismatched shapes with the shapes in the message', () => {
    tf.tidy(() => {
      const a = tf.zeros([2, 3]);
      const b = tf.zeros([4, 5]);
      expect(() => matmul(a, b)).toThrow(/inner dimensions differ: a \[2, 3\] · b \[4, 5\]/);
      expect(() => matmul(tf.zeros([1, 2, 3]), b)).toThrow(/must be 2-D/);
      expect(() => linear(a, b)).toThrow(/x must be \[\.\.\., 5\] to match weight \[4, 5\], got \[2, 3\]/);
      expect(() => linear(tf.zeros([2, 5]), b, tf.zeros([5]))).toThrow(/bias must be \[4\]/);
      expect(() => bmm(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 2]))).toThrow(/batch sizes differ/);
    });
  });
});

describe('bmm strategies on wasm (batched kernel, loop of 2-D products) give the same numbers', () => {
  beforeAll(() => useBackend('wasm'));

  it('chooses the loop for attention-sized products and the batched kernel for decoding steps and tiny products', () => {
    expect(bmmStrategy(6, 256, 256, 64)).toBe('loop');
    expect(bmmStrategy(6, 256, 64, 256)).toBe('loop');
    expect(bmmStrategy(48, 64, 64, 64)).toBe('loop');
    expect(bmmStrategy(12, 1, 256, 64)).toBe('batched');
    expect(bmmStrategy(12, 4, 64, 256)).toBe('batched');
    expect(bmmStrategy(12, 16, 16, 16)).toBe('batched');
    expect(withBmmStrategy('loop', () => bmmStrategy(12, 1, 256, 64))).toBe('loop');
  });

  // [batch, m, k, n] of op(a)·op(b): attention, cross-attention, a decoding step, per-example LoRA, odd sizes
  const shapes: [number, number, number, number][] = [
    [3, 64, 16, 64],
    [2, 24, 40, 8],
    [4, 1, 32, 48],
    [2, 40, 8, 24],
    [3, 9, 33, 65],
  ];
  it.each(FLAGS)('values and both gradients agree across strategies and with tfjs (transposeA=%s, transposeB=%s)', (tA, tB) => {
    const rng = new Rng(21);
    for (const [batch, m, k, n] of shapes) {
      const a = randn(rng, tA ? [batch, k, m] : [batch, m, k]);
      const b = randn(rng, tB ? [batch, n, k] : [batch, k, n]);
      const r = randn(rng, [batch, m, n]); // a fixed cotangent
      const run = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): Float64Array[] => {
        const outs = tf.tidy(() => [f(a, b), ...tf.grads((x: tf.Tensor, z: tf.Tensor) => f(x, z))([a, b], r)]);
        const values = outs.map((t) => Float64Array.from(t.dataSync()));
        tf.dispose(outs);
        return values;
      };
      const ours = (x: tf.Tensor, y: tf.Tensor) => bmm(x, y, tA, tB);
      const batched = expectNoLeak(() => withBmmStrategy('batched', () => run(ours)));
      const loop = expectNoLeak(() => withBmmStrategy('loop', () => run(ours)));
      const tfjs = run((x, y) => tf.matMul(x, y, tA, tB));
      const label = `${batch}×[${m},${k}]·[${k},${n}]`;
      batched.forEach((v, i) => {
        expectClose(v, loop[i] as Float64Array, { atol: 1e-4, rtol: 1e-4, label: `${label} batched vs loop, output ${i}` });
        expectClose(v, tfjs[i] as Float64Array, { atol: 1e-4, rtol: 1e-4, label: `${label} batched vs tfjs, output ${i}` });
      });
      tf.dispose([a, b, r]);
    }
  });
});
