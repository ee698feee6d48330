import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Embedding, Linear, RMSNorm, dropout } from './layers.js';
import { Rng } from './rng.js';
import { checkGradients, expectClose, expectNoLeak, testBackends, useBackend } from './testing.js';

function randn(rng: Rng, shape: number[], std = 1): tf.Tensor {
  return tf.tensor(
    rng.normalArray(
      shape.reduce((a, b) => a * b, 1),
      0,
      std,
    ),
    shape,
  );
}

// y_i = x_i·(W + s·B_i·A_i)ᵀ + b, computed with merged weights one example at a time: an
// arrangement independent of the low-rank path under test.
function mergedReference(x: tf.Tensor, lin: Linear, A: tf.Tensor, B: tf.Tensor, s: number): tf.Tensor {
  return tf.tidy(() => {
    const perExample = A.rank === 3;
    const rows = tf.unstack(x);
    return tf.stack(
      rows.map((xi, i) => {
        const Ai = perExample ? tf.squeeze(tf.slice(A, [i, 0, 0], [1, -1, -1]), [0]) : A;
        const Bi = perExample ? tf.squeeze(tf.slice(B, [i, 0, 0], [1, -1, -1]), [0]) : B;
        const w = tf.add(lin.weight, tf.mul(tf.matMul(Bi, Ai), s)); // [out, in]
        const y = tf.matMul(tf.reshape(xi, [-1, lin.inFeatures]), w, false, true);
        return tf.reshape(lin.bias === undefined ? y : tf.add(y, lin.bias), [...xi.shape.slice(0, -1), lin.outFeatures]);
      }),
    );
  });
}

describe.each(testBackends())('layers on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('Linear: PyTorch layout, default init bounds, forward = x·Wᵀ + b', () => {
    expectNoLeak(() => {
      const lin = new Linear(8, 3, { rng: new Rng(1) });
      expect(lin.weight.shape).toEqual([3, 8]);
      expect(lin.bias?.shape).toEqual([3]);
      expect(lin.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
      const bound = 1 / Math.sqrt(8);
      for (const v of [...lin.weight.dataSync(), ...(lin.bias?.dataSync() ?? [])]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      const x = randn(new Rng(2), [2, 5, 8]);
      tf.tidy(() => {
        const y = lin.forward(x);
        expect(y.shape).toEqual([2, 5, 3]);
        const ref = tf.add(tf.reshape(tf.matMul(tf.reshape(x, [10, 8]), lin.weight, false, true), [2, 5, 3]), lin.bias as tf.Tensor);
        expectClose(y, ref, { atol: 1e-5 });
      });
      const noBias = new Linear(4, 2, { bias: false });
      expect(noBias.bias).toBeUndefined();
      expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
      noBias.dispose();
      x.dispose();
      lin.dispose();
    });
  });

  it('Linear with a shared low-rank delta equals the merged weight W + s·B·A', () => {
    const rng = new Rng(3);
    const lin = new Linear(6, 5, { rng });
    const x = randn(rng, [3, 4, 6]);
    const A = randn(rng, [2, 6]);
    const B = randn(rng, [5, 2]);
    expectNoLeak(() =>
      tf.tidy(() => {
        const y = lin.forward(x, { A, B, scaling: 1.5 });
        expectClose(y, mergedReference(x, lin, A, B, 1.5), { atol: 1e-4 });
        // the delta moves the output (guards against a silently ignored delta)
        expect(tf.max(tf.abs(tf.sub(y, lin.forward(x)))).dataSync()[0]).toBeGreaterThan(0.1);
      }),
    );
    tf.dispose([x, A, B]);
    lin.dispose();
  });

  it('Linear with a per-example delta applies each example its own A[i], B[i]', () => {
    const rng = new Rng(4);
    const lin = new Linear(6, 5, { rng, bias: false });
    const x = randn(rng, [3, 4, 6]);
    const A = randn(rng, [3, 2, 6]);
    const B = randn(rng, [3, 5, 2]);
    expectNoLeak(() =>
      tf.tidy(() => {
        expectClose(lin.forward(x, { A, B, scaling: 0.5 }), mergedReference(x, lin, A, B, 0.5), { atol: 1e-4 });
      }),
    );
    // gradients reach A and B (LoRA training) and agree with finite differences
    const x2 = tf.slice(x, [0, 0, 0], [3, 2, 6]);
    expectNoLeak(() => checkGradients((a, b) => lin.forward(x2, { A: a as tf.Tensor, B: b as tf.Tensor, scaling: 0.5 }), [A, B]));
    tf.dispose([x, x2, A, B]);
    lin.dispose();
  });

  it('Linear with per-group deltas: consecutive groups of examples share A[g], B[g] (as the expanded per-example delta)', () => {
    const rng = new Rng(18);
    const lin = new Linear(6, 5, { rng, bias: false });
    const x = randn(rng, [4, 3, 6]);
    const A = randn(rng, [2, 2, 6]);
    const B = randn(rng, [2, 5, 2]);
    const expand = (t: tf.Tensor) => tf.gather(t, tf.tensor1d([0, 0, 1, 1], 'int32')); // examples 0, 1 → group 0; 2, 3 → group 1
    expectNoLeak(() =>
      tf.tidy(() => {
        const want = lin.forward(x, { A: expand(A), B: expand(B), scaling: 0.5 });
        expectClose(lin.forward(x, { A, B, scaling: 0.5 }), want, { atol: 1e-5 });
        // any x [batch, ..., in] gives the same
        expectClose(lin.forward(tf.reshape(x, [4, 3, 1, 6]), { A, B, scaling: 0.5 }), tf.reshape(want, [4, 3, 1, 5]), { atol: 1e-5 });
      }),
    );
    expectNoLeak(() => checkGradients((a, b) => lin.forward(x, { A: a as tf.Tensor, B: b as tf.Tensor, scaling: 0.5 }), [A, B]));
    tf.dispose([x, A, B]);
    lin.dispose();
  });

  it('Linear rejects deltas of the wrong shape, naming the module path and shapes', () => {
    const lin = new Linear(6, 5);
    const x = tf.zeros([2, 6]);
    tf.tidy(() => {
      expect(() => lin.forward(x, { A: tf.zeros([2, 5]), B: tf.zeros([5, 2]), scaling: 1 })).toThrow(
        /expected A \[r, 6\] and B \[5, r\], got A \[2, 5\], B \[5, 2\]/,
      );
      expect(() => lin.forward(x, { A: tf.zeros([3, 2, 6]), B: tf.zeros([3, 5, 2]), scaling: 1 })).toThrow(
        /per-example delta for batch 3 needs x \[3, \.\.\., 6\], got \[2, 6\]/,
      );
      expect(() => lin.forward(x, { A: tf.zeros([2, 6]), B: tf.zeros([2, 5, 2]), scaling: 1 })).toThrow(/both be 2-D .* or both 3-D/);
    });
    x.dispose();
    lin.dispose();
  });

  it('Embedding looks rows up and its gradient scatter-adds into repeated ids', () => {
    const rng = new Rng(5);
    const emb = new Embedding(7, 3, { rng });
    const ids = tf.tensor2d(
      [
        [1, 4, 1],
        [6, 0, 1],
      ],
      undefined,
      'int32',
    );
    const r = randn(rng, [2, 3, 3]);
    expectNoLeak(() =>
      tf.tidy(() => {
        const out = emb.forward(ids);
        expect(out.shape).toEqual([2, 3, 3]);
        const w = emb.weight.arraySync() as number[][];
        expectClose(out, [w[1], w[4], w[1], w[6], w[0], w[1]] as number[][]);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(emb.forward(ids), r)) as tf.Scalar, [emb.weight]);
        const rv = r.arraySync() as number[][][];
        const expected = Array.from({ length: 7 }, () => [0, 0, 0]);
        (ids.arraySync() as number[][]).forEach((row, i) =>
          row.forEach((id, j) => {
            const target = expected[id] as number[];
            for (let k = 0; k < 3; k++) target[k] = (target[k] as number) + ((rv[i] as number[][])[j]?.[k] as number);
          }),
        );
        expectClose(grads[emb.weight.name] as tf.Tensor, expected, { atol: 1e-6 });
      }),
    );
    tf.tidy(() => {
      expect(() => emb.forward(tf.zeros([2]))).toThrow(/ids must be int32, got float32/);
    });
    tf.dispose([ids, r]);
    emb.dispose();
  });

  it('RMSNorm matches the T5 formula computed in float64, and its gradient', () => {
    const rng = new Rng(6);
    const norm = new RMSNorm(4, 1e-6);
    tf.tidy(() => norm.weight.assign(tf.tensor1d([0.5, 1, 1.5, -2])));
    const xv = rng.normalArray(12, 0.7, 2); // a non-zero mean: mean subtraction would show
    const x = tf.tensor(xv, [3, 4]);
    const w = [0.5, 1, 1.5, -2];
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) {
      const row = Array.from(xv.slice(4 * i, 4 * i + 4));
      const ms = row.reduce((s, v) => s + v * v, 0) / 4;
      row.forEach((v, j) => expected.push(((w[j] as number) * v) / Math.sqrt(ms + 1e-6)));
    }
    expectNoLeak(() => tf.tidy(() => expectClose(norm.forward(x), expected, { atol: 1e-5 })));
    // d/dx through the normalisation, and d/dweight via a norm whose weight is the checked input
    const r = tf.tensor(rng.normalArray(12), [3, 4]);
    expectNoLeak(() => checkGradients((xx) => tf.mul(norm.forward(xx as tf.Tensor), r), [x]));
    const weightAsInput = (xx: tf.Tensor, ww: tf.Tensor) => tf.mul(tf.mul(ww, tf.mul(xx, tf.rsqrt(tf.add(tf.mean(tf.square(xx), -1, true), 1e-6)))), r);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(norm.forward(x), r)) as tf.Scalar, [norm.weight]);
      const [ref] = tf.grads((ww: tf.Tensor) => tf.sum(weightAsInput(x, ww)))([norm.weight]);
      expectClose(grads[norm.weight.name] as tf.Tensor, ref as tf.Tensor, { atol: 1e-5 });
    });
    tf.tidy(() => {
      expect(() => norm.forward(tf.zeros([2, 5]))).toThrow(/x must be \[\.\.\., 4\], got \[2, 5\]/);
    });
    tf.dispose([x, r]);
    norm.dispose();
  });

  it("RMSNorm on [batch, len, dim]: its own gradient equals the formula's chain and finite differences; leak-free", () => {
    const rng = new Rng(16);
    const norm = new RMSNorm(5, 1e-6);
    tf.tidy(() => norm.weight.assign(tf.tensor1d([0.5, 1, 1.5, -2, 0.25])));
    const x = randn(rng, [2, 3, 5], 1.5);
    const r = randn(rng, [2, 3, 5]);
    const formula = (xx: tf.Tensor, ww: tf.Tensor) => tf.mul(ww, tf.mul(xx, tf.rsqrt(tf.add(tf.mean(tf.square(xx), -1, true), 1e-6))));
    expectNoLeak(() =>
      tf.tidy(() => {
        // the forward is the formula's ops in the formula's order: bit-identical (on tfjs-node the mean is a
        // product with a ones column, summing in another order)
        if (backend === 'tensorflow') expectClose(norm.forward(x), formula(x, norm.weight), { atol: 1e-6, rtol: 1e-6 });
        else expect(Array.from(norm.forward(x).dataSync())).toEqual(Array.from(formula(x, norm.weight).dataSync()));
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(norm.forward(x), r)) as tf.Scalar, [norm.weight]);
        const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(formula(xx, ww), r)))([x, norm.weight]);
        expectClose(grads[norm.weight.name] as tf.Tensor, gw as tf.Tensor, { atol: 1e-5, rtol: 1e-5 });
        const [ours] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(norm.forward(xx), r)))([x]);
        expectClose(ours as tf.Tensor, gx as tf.Tensor, { atol: 1e-5, rtol: 1e-5 });
      }),
    );
    expectNoLeak(() => checkGradients((xx) => tf.mul(norm.forward(xx as tf.Tensor), r), [x]));
    // a frozen weight: the input still gets its gradient, the weight none (and nothing leaks)
    norm.setTrainable(false);
    expectNoLeak(() =>
      tf.tidy(() => {
        const [g] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(norm.forward(xx), r)))([x]);
        expect(g?.shape).toEqual([2, 3, 5]);
      }),
    );
    tf.dispose([x, r]);
    norm.dispose();
  });

  it('low-rank deltas: the scaling may multiply B or the product, the result is the same', () => {
    const rng = new Rng(17);
    const lin = new Linear(6, 5, { rng, bias: false });
    // one position per example: the product [3, 1, 5] is smaller than B [3, 5, 4]; eight: larger
    for (const len of [1, 8]) {
      const x = randn(rng, [3, len, 6]);
      const A = randn(rng, [3, 4, 6]);
      const B = randn(rng, [3, 5, 4]);
      expectNoLeak(() => tf.tidy(() => expectClose(lin.forward(x, { A, B, scaling: 0.3 }), mergedReference(x, lin, A, B, 0.3), { atol: 1e-4 })));
      tf.dispose([x, A, B]);
    }
    lin.dispose();
  });

  it('dropout: identity in eval, inverted scaling and the right drop rate in training, reproducible with an rng', () => {
    const x = tf.ones([100, 100]);
    expectNoLeak(() =>
      tf.tidy(() => {
        expectClose(dropout(x, 0.3, false), x);
        const y = dropout(x, 0.3, true, new Rng(7));
        const vals = y.dataSync();
        const zeros = vals.filter((v) => v === 0).length / vals.length;
        expect(Math.abs(zeros - 0.3)).toBeLessThan(0.02); // 10,000 draws: sd ≈ 0.0046
        for (const v of vals) expect(v === 0 || Math.abs(v - 1 / 0.7) < 1e-6).toBe(true);
        expectClose(dropout(x, 0.3, true, new Rng(7)), y, { atol: 0 });
        const free = dropout(x, 0.5, true).dataSync();
        expect(Math.abs(free.filter((v) => v === 0).length / free.length - 0.5)).toBeLessThan(0.02);
        // gradient is the mask
        const g = tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.3, true, new Rng(7))))(x);
        expectClose(g, y, { atol: 1e-6 });
      }),
    );
    expect(() => dropout(x, 1, true)).toThrow(/rate must be in \[0, 1\)/);
    x.dispose();
  });
});
