import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adafactor, AdamW, GradAccumulator, clipGradNorm } from './optim.js';
import { Rng } from './rng.js';
import { constantSchedule, cosineSchedule, linearSchedule, makeSchedule } from './schedule.js';
import { expectClose, expectNoLeak, testBackends, useBackend } from './testing.js';

// Float64 reference implementations written from the papers / PyTorch and HF docs, element by element.
function adamwRef(p: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < x.length; i++) {
      const gi = g[i] as number;
      x[i] = (x[i] as number) * (1 - lr * wd);
      m[i] = b1 * (m[i] as number) + (1 - b1) * gi;
      v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi;
      const mh = (m[i] as number) / (1 - b1 ** t);
      const vh = (v[i] as number) / (1 - b2 ** t);
      x[i] = (x[i] as number) - (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return x;
}

// HF Adafactor for one [rows, cols] matrix, scale_parameter on, no first moment.
function adafactorRef(p: number[][], grads: number[][][], lr: number | undefined, clip = 1, decay = -0.8): number[][] {
  const rows = p.length;
  const cols = (p[0] as number[]).length;
  const x = p.map((r) => [...r]);
  const R = new Array<number>(rows).fill(0);
  const C = new Array<number>(cols).fill(0);
  const rmsOf = (a: number[][]) => Math.sqrt(a.flat().reduce((s, v) => s + v * v, 0) / (rows * cols));
  grads.forEach((g, s) => {
    const t = s + 1;
    let step = lr ?? Math.min(1e-2, 1 / Math.sqrt(t));
    step *= Math.max(1e-3, rmsOf(x));
    const b2 = 1 - t ** decay;
    const sq = g.map((r) => r.map((v) => v * v + 1e-30));
    for (let i = 0; i < rows; i++) R[i] = b2 * (R[i] as number) + ((1 - b2) * (sq[i] as number[]).reduce((a, b) => a + b, 0)) / cols;
    for (let j = 0; j < cols; j++) C[j] = b2 * (C[j] as number) + ((1 - b2) * sq.reduce((a, r) => a + (r[j] as number), 0)) / rows;
    const rMean = R.reduce((a, b) => a + b, 0) / rows;
    const u = g.map((r, i) => r.map((v, j) => v / Math.sqrt((R[i] as number) / rMean) / Math.sqrt(C[j] as number)));
    const scale = Math.max(1, rmsOf(u) / clip);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) (x[i] as number[])[j] = ((x[i] as number[])[j] as number) - (step * ((u[i] as number[])[j] as number)) / scale;
  });
  return x;
}

describe('schedules (HF get_*_schedule_with_warmup)', () => {
  it('warm up linearly from 0, then hold, decay linearly, or follow a half cosine', () => {
    const c = constantSchedule(1e-3, 4);
    expect([0, 1, 2, 4, 100].map(c)).toEqual([0, 2.5e-4, 5e-4, 1e-3, 1e-3]);
    const l = linearSchedule(1, 2, 10);
    expect([0, 1, 2, 6, 10, 12].map(l)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
    const cos = cosineSchedule(2, 0, 10);
    expect(cos(0)).toBe(2);
    expect(cos(5)).toBeCloseTo(1, 12);
    expect(cos(10)).toBeCloseTo(0, 12);
    expect(cosineSchedule(1, 0, 10, 1)(10)).toBeCloseTo(1, 12); // a full cycle comes back up
    expect(() => makeSchedule({ kind: 'linear', lr: 1 })).toThrow(/needs an integer totalSteps/);
    expect(() => makeSchedule({ kind: 'step' as never, lr: 1, totalSteps: 2 })).toThrow(/kind must be/);
    expect(() => c(-1)).toThrow(/non-negative integer/);
  });
});

describe.each(testBackends())('optimisers on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('AdamW matches a float64 reference over several steps, with decoupled weight decay', () => {
    const rng = new Rng(1);
    const p0 = Array.from(rng.normalArray(6));
    const grads = Array.from({ length: 5 }, () => Array.from(rng.normalArray(6)));
    const w = tf.variable(tf.tensor2d(p0, [2, 3]));
    const opt = new AdamW([['w', w]], { lr: 0.01, weightDecay: 0.1 });
    tf.tidy(() => void opt.step(new Map([['w', tf.tensor2d(grads[0] as number[], [2, 3])]]))); // allocates the state
    expectNoLeak(() => {
      for (const g of grads.slice(1)) {
        const gt = tf.tensor2d(g, [2, 3]);
        expect(opt.step(new Map([['w', gt]]))).toBe(0.01);
        gt.dispose();
      }
    });
    expectClose(w, adamwRef(p0, grads, 0.01, 0.9, 0.999, 1e-8, 0.1), { atol: 1e-6 });
    expect(opt.stepCount).toBe(5);
    opt.dispose();
    w.dispose();
  });

  it('AdamW: first step moves each weight by about lr against the gradient sign; noDecay and schedules apply', () => {
    const a = tf.variable(tf.tensor1d([1, 1]));
    const b = tf.variable(tf.tensor1d([1, 1]));
    const opt = new AdamW(
      [
        ['layer.weight', a],
        ['layer.bias', b],
      ],
      { lr: linearSchedule(0.1, 0, 10), weightDecay: 0.5, noDecay: (n) => n.endsWith('.bias') },
    );
    tf.tidy(() => {
      // keyed by tfjs variable name, as tf.variableGrads returns them
      opt.step({ [a.name]: tf.tensor1d([3, -0.001]), [b.name]: tf.tensor1d([3, -0.001]) });
    });
    expectClose(a, [1 * (1 - 0.1 * 0.5) - 0.1, 1 * (1 - 0.1 * 0.5) + 0.1], { atol: 1e-5 });
    expectClose(b, [0.9, 1.1], { atol: 1e-5 });
    tf.tidy(() => {
      expect(opt.step(new Map([['layer.bias', tf.ones([2])]]))).toBeCloseTo(0.09, 12); // schedule at step 1
      expect(() => opt.step(new Map([['other', tf.ones([2])]]))).toThrow(/unknown parameter 'other'/);
      expect(() => opt.step(new Map([['layer.bias', tf.ones([3])]]))).toThrow(/has shape \[3\], parameter is \[2\]/);
    });
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('Adafactor matches HF semantics: factored second moments, RMS clipping, parameter scale, relative step', () => {
    const rng = new Rng(2);
    const p0 = Array.from({ length: 3 }, () => Array.from(rng.normalArray(4)));
    const grads = Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => Array.from(rng.normalArray(4))));
    for (const lr of [0.05, undefined]) {
      const w = tf.variable(tf.tensor2d(p0));
      const opt = new Adafactor([['w', w]], lr === undefined ? {} : { lr });
      tf.tidy(() => void opt.step(new Map([['w', tf.tensor2d(grads[0] as number[][])]]))); // allocates the state
      expectNoLeak(() => {
        for (const g of grads.slice(1)) tf.tidy(() => void opt.step(new Map([['w', tf.tensor2d(g)]])));
      });
      expectClose(w, adafactorRef(p0, grads, lr), { atol: 1e-5, label: `lr ${lr}` });
      // factored: one row vector and one column vector, not a full [3, 4] second moment
      const slots = opt.stateDict().slots;
      expect([...slots.keys()].sort()).toEqual(['w.exp_avg_sq_col', 'w.exp_avg_sq_row']);
      expect(slots.get('w.exp_avg_sq_row')?.shape).toEqual([3]);
      expect(slots.get('w.exp_avg_sq_col')?.shape).toEqual([4]);
      for (const t of slots.values()) t.dispose();
      opt.dispose();
      w.dispose();
    }
    expect(() => new Adafactor([], { lr: 1, relativeStep: true })).toThrow(/cannot be combined/);
    expect(() => new Adafactor([], { relativeStep: false })).toThrow(/lr is required/);
  });

  it('Adafactor on a vector keeps a full second moment; beta1 adds a first moment', () => {
    const v = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const opt = new Adafactor([['v', v]], { lr: 0.1, beta1: 0.9, scaleParameter: false });
    tf.tidy(() => void opt.step(new Map([['v', tf.tensor1d([1, 2, -3])]])));
    // step 1: beta2_1 = 0, so v = g² and the update is sign(g) (RMS 1, no clipping); momentum: 0.1·update
    expectClose(v, [0.5 - 0.1 * 0.1, -1 - 0.1 * 0.1, 2 + 0.1 * 0.1], { atol: 1e-6 });
    const st = opt.stateDict();
    expect([...st.slots.keys()].sort()).toEqual(['v.exp_avg', 'v.exp_avg_sq']);
    for (const t of st.slots.values()) t.dispose();
    opt.dispose();
    v.dispose();
  });

  it.each(['adamw', 'adafactor'] as const)('%s: stateDict/loadStateDict resumes exactly where it left off', (kind) => {
    const rng = new Rng(3);
    const init = Array.from(rng.normalArray(8));
    const grads = Array.from({ length: 6 }, () => Array.from(rng.normalArray(8)));
    const make = (w: tf.Variable) =>
      kind === 'adamw' ? new AdamW([['w', w]], { lr: cosineSchedule(0.05, 1, 6) }) : new Adafactor([['w', w]], { lr: 0.05, beta1: 0.8 });
    const run = (opt: AdamW | Adafactor, gs: number[][]) => {
      for (const g of gs) tf.tidy(() => void opt.step(new Map([['w', tf.tensor2d(g, [2, 4])]])));
    };
    const straight = tf.variable(tf.tensor2d(init, [2, 4]));
    const o1 = make(straight);
    run(o1, grads);
    // interrupted after 3 steps, state saved (through JSON for the scalars), restored into fresh objects
    const resumed = tf.variable(tf.tensor2d(init, [2, 4]));
    const o2 = make(resumed);
    run(o2, grads.slice(0, 3));
    const saved = o2.stateDict();
    const scalars = JSON.parse(JSON.stringify({ kind: saved.kind, step: saved.step, paramSteps: saved.paramSteps })) as typeof saved;
    const weights = tf.clone(resumed);
    o2.dispose();
    resumed.assign(weights);
    const o3 = make(resumed);
    o3.loadStateDict({ ...scalars, slots: saved.slots });
    for (const t of saved.slots.values()) t.dispose();
    run(o3, grads.slice(3));
    expectClose(resumed, straight, { atol: 0, rtol: 0 });
    expect(o3.stepCount).toBe(6);
    expect(() => o3.loadStateDict({ ...scalars, kind: kind === 'adamw' ? 'adafactor' : 'adamw' })).toThrow(/state is for/);
    tf.dispose([straight, resumed, weights]);
    o1.dispose();
    o3.dispose();
  });

  it("learningRate(step) is the rate step() uses at that step: the schedule, or Adafactor's relative step", () => {
    const p = new Map([['w', tf.variable(tf.ones([2]))]]);
    const lr = linearSchedule(0.1, 2, 6);
    const adam = new AdamW(p, { lr });
    const ada = new Adafactor(p);
    const used: [number, number, number, number][] = [];
    for (let k = 0; k < 4; k++) {
      const [a, b] = [adam.learningRate(), ada.learningRate()];
      const g = tf.ones([2]);
      used.push([a, adam.step(new Map([['w', g]])), b, ada.step(new Map([['w', g]]))]);
      g.dispose();
    }
    for (const [k, [a, usedA, b, usedB]] of used.entries()) {
      expect([a, b]).toEqual([usedA, usedB]);
      expect([adam.learningRate(k), ada.learningRate(k)]).toEqual([lr(k), Math.min(1e-2, 1 / Math.sqrt(k + 1))]);
    }
    adam.dispose();
    ada.dispose();
    p.get('w')?.dispose();
  });

  it('clipGradNorm scales to the global norm (PyTorch formula) and leaves small gradients alone', () => {
    expectNoLeak(() => {
      const g = new Map<string, tf.Tensor>([
        ['a', tf.tensor1d([3, 0])],
        ['b', tf.tensor2d([[0, 4]])],
      ]);
      const { grads, norm } = clipGradNorm(g, 1);
      expect(norm).toBeCloseTo(5, 5);
      expectClose(grads.get('a') as tf.Tensor, [3 / (5 + 1e-6), 0], { atol: 1e-6 });
      expectClose(grads.get('b') as tf.Tensor, [[0, 4 / (5 + 1e-6)]], { atol: 1e-6 });
      const big = clipGradNorm(g, 10);
      expectClose(big.grads.get('a') as tf.Tensor, [3, 0], { atol: 0 });
      tf.dispose([...g.values(), ...grads.values(), ...big.grads.values()]);
    });
    expect(() => clipGradNorm(new Map(), 0)).toThrow(/maxNorm must be > 0/);
  });

  it('GradAccumulator sums and averages micro-batch gradients (weighted) without leaking', () => {
    expectNoLeak(() => {
      const acc = new GradAccumulator();
      tf.tidy(() => {
        acc.add(new Map([['w', tf.tensor1d([1, 2])]]));
        acc.add(new Map([['w', tf.tensor1d([3, 6])]]), 3);
      });
      expect(acc.count).toBe(4);
      const mean = acc.mean();
      expectClose(mean.get('w') as tf.Tensor, [(1 + 9) / 4, (2 + 18) / 4]);
      const sum = acc.sum();
      expectClose(sum.get('w') as tf.Tensor, [10, 20]);
      tf.tidy(() => {
        expect(() => acc.add(new Map([['w', tf.ones([3])]]))).toThrow(/has shape \[3\], earlier \[2\]/);
      });
      acc.reset();
      expect(() => acc.mean()).toThrow(/nothing accumulated/);
      tf.dispose([...mean.values(), ...sum.values()]);
      acc.dispose();
    });
  });
});
