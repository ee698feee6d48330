import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Checkpoint, type CheckpointStore, DivergenceError, type FitOptions, FitStateError, type StepRecord, fit, formatLr } from './fit.js';
import { AdamW, clipGradNorm } from './optim.js';
import { Rng } from './rng.js';
import { constantSchedule } from './schedule.js';
import { expectNoLeak, testBackends, useBackend } from './testing.js';

// A small regression problem: y = x·Wᵀ + b with a fixed target map, batches drawn from (seed, step, micro).
const IN = 3;
const OUT = 2;

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

function makeParams(seed: number): Map<string, tf.Variable> {
  const rng = new Rng(seed);
  const w = Array.from({ length: OUT * IN }, () => rng.normal() * 0.5);
  const b = Array.from({ length: OUT }, () => rng.normal() * 0.1);
  return new Map<string, tf.Variable>([
    ['lin.weight', tf.variable(tf.tensor2d(w, [OUT, IN]))],
    ['lin.bias', tf.variable(tf.tensor1d(b))],
  ]);
}

function rows(step: number, micro: number, n: number): { x: number[][]; y: number[][] } {
  const rng = new Rng(7).fork(`batch-${step}-${micro}`);
  const x = Array.from({ length: n }, () => Array.from({ length: IN }, () => rng.normal()));
  const y = x.map((r) => [2 * (r[0] as number) - (r[1] as number) + 0.5, (r[2] as number) * 3 - 1]);
  return { x, y };
}

function toBatch(r: { x: number[][]; y: number[][] }): Batch {
  return { x: tf.tensor2d(r.x), y: tf.tensor2d(r.y) };
}

function mse(params: ReadonlyMap<string, tf.Variable>, b: Batch): tf.Scalar {
  const w = params.get('lin.weight') as tf.Variable;
  const bias = params.get('lin.bias') as tf.Variable;
  const pred = tf.add(tf.matMul(b.x, w, false, true), bias); // [n, OUT]
  return tf.mean(tf.square(tf.sub(pred, b.y)));
}

function snapshot(params: ReadonlyMap<string, tf.Variable>): Map<string, number[]> {
  return new Map([...params].map(([k, v]) => [k, Array.from(v.dataSync())]));
}

function dispose(params: Map<string, tf.Variable>, opt?: AdamW): void {
  for (const v of params.values()) v.dispose();
  opt?.dispose();
}

/** A CheckpointStore in memory (copies, so the run can dispose its own tensors). */
class MemoryStore implements CheckpointStore {
  saved: { step: number; totalSteps: number; tensors: Map<string, tf.Tensor>; meta: Record<string, unknown> } | undefined;
  saves = 0;
  async save(c: Checkpoint): Promise<void> {
    this.dispose();
    this.saved = {
      step: c.step,
      totalSteps: c.totalSteps,
      tensors: new Map([...c.tensors].map(([k, t]) => [k, tf.clone(t)])),
      meta: JSON.parse(JSON.stringify(c.meta)),
    };
    this.saves++;
  }
  async load(): Promise<Checkpoint | undefined> {
    if (!this.saved) return undefined;
    return { ...this.saved, tensors: new Map([...this.saved.tensors].map(([k, t]) => [k, tf.clone(t)])) };
  }
  async remove(step: number): Promise<void> {
    if (this.saved?.step !== step) return;
    this.dispose();
    this.saved = undefined;
  }
  dispose(): void {
    if (this.saved) tf.dispose([...this.saved.tensors.values()]);
  }
}

function options(params: Map<string, tf.Variable>, opt: AdamW, extra: Partial<FitOptions<Batch>> = {}): FitOptions<Batch> {
  return {
    name: 'regression',
    params,
    optimizer: opt,
    steps: 9,
    batch: ({ step, micro }) => toBatch(rows(step, micro, 4)),
    loss: (b) => ({ loss: mse(params, b) }),
    release: (b) => tf.dispose([b.x, b.y]),
    ...extra,
  };
}

describe.each(testBackends())('fit on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const f of cleanup.splice(0)) f();
  });

  it('takes exactly the steps of the plain loop (variableGrads, clipGradNorm, AdamW)', async () => {
    const lr = constantSchedule(0.05, 2);
    // the plain loop, written out
    const ref = makeParams(1);
    const refOpt = new AdamW(ref, { lr, weightDecay: 0.01 });
    const refLosses: number[] = [];
    const refNorms: number[] = [];
    for (let step = 0; step < 9; step++) {
      const b = toBatch(rows(step, 0, 4));
      const { value, grads } = tf.variableGrads(() => mse(ref, b), [...ref.values()]);
      const named = new Map([...ref].map(([k, v]) => [k, grads[v.name] as tf.Tensor]));
      const c = clipGradNorm(named, 0.5);
      refOpt.step(c.grads);
      refLosses.push(value.dataSync()[0] as number);
      refNorms.push(c.norm);
      tf.dispose([value, b.x, b.y, ...named.values(), ...c.grads.values()]);
    }
    const params = makeParams(1);
    const opt = new AdamW(params, { lr, weightDecay: 0.01 });
    cleanup.push(() => {
      dispose(ref, refOpt);
      dispose(params, opt);
    });
    const records: StepRecord[] = [];
    const r = await fit(options(params, opt, { maxGradNorm: 0.5, onStep: (rec) => void records.push(rec) }));
    expect(r).toMatchObject({ step: 9, resumedFrom: 0, aborted: false });
    expect(records.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const got = snapshot(params);
    for (const [k, v] of snapshot(ref)) {
      const g = got.get(k) as number[];
      v.forEach((x, i) => expect(Math.abs(x - (g[i] as number))).toBeLessThan(1e-6));
    }
    records.forEach((rec, i) => {
      expect(rec.loss).toBeCloseTo(refLosses[i] as number, 5);
      expect(rec.gradNorm).toBeCloseTo(refNorms[i] as number, 4);
      expect(rec.lr).toBe(lr(i));
    });
    // the clipping was active on some steps, so the test exercises it
    expect(refNorms.some((n) => n > 0.5)).toBe(true);
  });

  it('averages k equal micro-batches exactly like one batch of all their rows', async () => {
    const lr = constantSchedule(0.05, 0);
    const whole = makeParams(2);
    const wholeOpt = new AdamW(whole, { lr });
    const micro = makeParams(2);
    const microOpt = new AdamW(micro, { lr });
    cleanup.push(() => {
      dispose(whole, wholeOpt);
      dispose(micro, microOpt);
    });
    const three = (step: number) => [0, 1, 2].map((m) => rows(step, m, 4));
    await fit(
      options(whole, wholeOpt, {
        steps: 5,
        batch: ({ step }) => {
          const parts = three(step);
          return toBatch({ x: parts.flatMap((p) => p.x), y: parts.flatMap((p) => p.y) });
        },
      }),
    );
    await fit(options(micro, microOpt, { steps: 5, gradAccum: 3, batch: ({ step, micro: m }) => toBatch(three(step)[m] as { x: number[][]; y: number[][] }) }));
    const a = snapshot(whole);
    for (const [k, v] of snapshot(micro)) (a.get(k) as number[]).forEach((x, i) => expect(Math.abs(x - (v[i] as number))).toBeLessThan(2e-6));
  });

  describe('microBatchSize', () => {
    // a token-mean loss as a seq2seq CE is: rows carry 0–3 scored "tokens" (some none), the loss is
    // Σ tokens·err / Σ tokens, so a part's share is its tokens over the batch's (not its rows over the batch's)
    interface Masked {
      x: tf.Tensor2D;
      y: tf.Tensor2D;
      tokens: number[];
    }
    const maskedRows = (step: number, micro: number, n: number) => {
      const r = rows(step, micro, n);
      const rng = new Rng(11).fork(`tokens-${step}-${micro}`);
      return { ...r, tokens: r.x.map((_, i) => (i === 0 ? 3 : Math.floor(rng.next() * 4))) };
    };
    const toMasked = (r: { x: number[][]; y: number[][]; tokens: number[] }): Masked => ({ x: tf.tensor2d(r.x), y: tf.tensor2d(r.y), tokens: r.tokens });
    const maskedLoss = (params: ReadonlyMap<string, tf.Variable>, b: Masked): tf.Scalar =>
      tf.tidy(() => {
        const w = params.get('lin.weight') as tf.Variable;
        const bias = params.get('lin.bias') as tf.Variable;
        const err = tf.sum(tf.square(tf.sub(tf.add(tf.matMul(b.x, w, false, true), bias), b.y)), 1); // [n]
        const total = b.tokens.reduce((a, t) => a + t, 0);
        return tf.div(tf.sum(tf.mul(err, tf.tensor1d(b.tokens))), Math.max(total, 1));
      });
    const splitMasked = (b: Masked, size: number) => {
      const total = b.tokens.reduce((a, t) => a + t, 0);
      const parts = [];
      for (let i = 0; i < b.tokens.length; i += size) {
        const n = Math.min(size, b.tokens.length - i);
        const tokens = b.tokens.slice(i, i + n);
        parts.push({
          batch: { x: tf.slice(b.x, [i, 0], [n, -1]), y: tf.slice(b.y, [i, 0], [n, -1]), tokens },
          weight: tokens.reduce((a, t) => a + t, 0) / total,
        });
      }
      return parts;
    };
    const maskedOptions = (params: Map<string, tf.Variable>, opt: AdamW, extra: Partial<FitOptions<Masked>> = {}): FitOptions<Masked> => ({
      name: 'masked',
      params,
      optimizer: opt,
      steps: 4,
      batch: ({ step, micro }) => toMasked(maskedRows(step, micro, 7)),
      loss: (b) => ({ loss: maskedLoss(params, b), terms: { half: tf.mul(maskedLoss(params, b), 0.5) } }),
      release: (b) => tf.dispose([b.x, b.y]),
      split: splitMasked,
      ...extra,
    });

    it.each([
      [1, 1],
      [3, 1],
      [2, 2],
      [7, 1],
      [100, 2],
    ])('parts of %i examples (gradAccum %i) give the whole batch’s updates, losses and terms', async (size, gradAccum) => {
      const lr = constantSchedule(0.05, 1);
      const whole = makeParams(5);
      const wholeOpt = new AdamW(whole, { lr, weightDecay: 0.01 });
      const split = makeParams(5);
      const splitOpt = new AdamW(split, { lr, weightDecay: 0.01 });
      cleanup.push(() => {
        dispose(whole, wholeOpt);
        dispose(split, splitOpt);
      });
      const a: StepRecord[] = [];
      const b: StepRecord[] = [];
      await fit(maskedOptions(whole, wholeOpt, { gradAccum, maxGradNorm: 0.8, onStep: (r) => void a.push(r) }));
      const ctxs: unknown[] = [];
      await fit(
        maskedOptions(split, splitOpt, {
          gradAccum,
          maxGradNorm: 0.8,
          microBatchSize: size,
          loss: (bt, ctx) => (ctxs.push(ctx), { loss: maskedLoss(split, bt), terms: { half: tf.mul(maskedLoss(split, bt), 0.5) } }),
          onStep: (r) => void b.push(r),
        }),
      );
      const got = snapshot(split);
      for (const [k, v] of snapshot(whole)) v.forEach((x, i) => expect(Math.abs(x - ((got.get(k) as number[])[i] as number))).toBeLessThan(1e-5));
      a.forEach((r, i) => {
        expect(Math.abs(r.loss - (b[i] as StepRecord).loss)).toBeLessThan(1e-5);
        expect(Math.abs((r.terms['half'] as number) - ((b[i] as StepRecord).terms['half'] as number))).toBeLessThan(1e-5);
        expect(Math.abs(r.gradNorm - (b[i] as StepRecord).gradNorm)).toBeLessThan(1e-5);
      });
      // the loss saw every part, each with its index
      expect(ctxs.length).toBe(4 * gradAccum * Math.ceil(7 / size));
      expect(ctxs[1]).toEqual(size >= 7 ? { step: gradAccum > 1 ? 0 : 1, micro: gradAccum > 1 ? 1 : 0, part: 0 } : { step: 0, micro: 0, part: 1 });
    });

    it('frees every part and leaks nothing', async () => {
      const params = makeParams(6);
      const opt = new AdamW(params, { lr: 0.01 });
      cleanup.push(() => dispose(params, opt));
      await fit(maskedOptions(params, opt, { steps: 1 })); // optimiser slots exist before the leak check
      await expectNoLeak(() => fit(maskedOptions(params, opt, { microBatchSize: 2, gradAccum: 2, maxGradNorm: 0.1 })));
    });

    it('refuses a size without split, and shares that do not sum to 1', async () => {
      const params = makeParams(6);
      const opt = new AdamW(params, { lr: 0.01 });
      cleanup.push(() => dispose(params, opt));
      const { split: _, ...noSplit } = maskedOptions(params, opt);
      await expect(fit({ ...noSplit, microBatchSize: 2 })).rejects.toThrow('microBatchSize needs split');
      await expect(fit(maskedOptions(params, opt, { microBatchSize: 0 }))).rejects.toThrow('microBatchSize must be an integer >= 1');
      const halves = (b: Masked, size: number) => splitMasked(b, size).map((p) => ({ ...p, weight: 0.5 }));
      const before = tf.memory().numTensors;
      await expect(fit(maskedOptions(params, opt, { microBatchSize: 2, split: halves }))).rejects.toThrow('sum to 1');
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('resumes after a stop to the same weights as an uninterrupted run', async () => {
    const lr = constantSchedule(0.05, 2);
    const straight = makeParams(3);
    const straightOpt = new AdamW(straight, { lr, weightDecay: 0.1 });
    await fit(options(straight, straightOpt, { maxGradNorm: 1 }));
    const store = new MemoryStore();
    const stop = new AbortController();
    const first = makeParams(3);
    const firstOpt = new AdamW(first, { lr, weightDecay: 0.1 });
    const r1 = await fit(
      options(first, firstOpt, {
        maxGradNorm: 1,
        checkpointEvery: 3,
        checkpoints: store,
        signal: stop.signal,
        onStep: (rec) => void (rec.step === 5 && stop.abort()),
      }),
    );
    expect(r1).toMatchObject({ step: 5, aborted: true });
    expect(store.saved?.step).toBe(5); // saved on the stop, after the regular save at 3
    expect(store.saves).toBe(2);
    // a fresh process: new parameters and optimiser, same store
    const second = makeParams(99);
    const secondOpt = new AdamW(second, { lr, weightDecay: 0.1 });
    const events: string[] = [];
    const r2 = await fit(
      options(second, secondOpt, {
        maxGradNorm: 1,
        checkpointEvery: 3,
        checkpoints: store,
        onStart: (s) => void events.push(`start ${s.resumedFrom}/${s.totalSteps}`),
        onStep: (rec) => void events.push(`step ${rec.step}`),
      }),
    );
    expect(events.slice(0, 2)).toEqual(['start 5/9', 'step 6']);
    expect(r2).toMatchObject({ step: 9, resumedFrom: 5, aborted: false });
    // onStart tells where the resumed run starts, before its first update
    cleanup.push(() => {
      dispose(straight, straightOpt);
      dispose(first, firstOpt);
      dispose(second, secondOpt);
      store.dispose();
    });
    expect(snapshot(second)).toEqual(snapshot(straight)); // bit for bit
    expect(secondOpt.stepCount).toBe(9);
  });

  it('restores extra state with the checkpoint, and refuses a checkpoint of another run', async () => {
    const store = new MemoryStore();
    const p = makeParams(4);
    const opt = new AdamW(p, { lr: 0.01 });
    let cursor = 0;
    const extraState = {
      meta: () => ({ cursor }),
      restore: (_t: ReadonlyMap<string, tf.Tensor>, m: Record<string, unknown>) => void (cursor = m['cursor'] as number),
    };
    await fit(options(p, opt, { steps: 4, checkpointEvery: 2, checkpoints: store, extraState, onStep: () => void (cursor += 10) }));
    expect(store.saved?.meta).toMatchObject({ extra: { cursor: 20 } });
    cursor = 0;
    const p2 = makeParams(4);
    const opt2 = new AdamW(p2, { lr: 0.01 });
    await fit(options(p2, opt2, { steps: 4, checkpointEvery: 2, checkpoints: store, extraState }));
    expect(cursor).toBe(20); // restored at step 2 (then no onStep here)
    // a run with other parameters or another length cannot load it
    const other = new Map<string, tf.Variable>([['lin.weight', tf.variable(tf.zeros([OUT, IN + 1]))]]);
    const otherOpt = new AdamW(other, { lr: 0.01 });
    const err = await fit({ ...options(other, otherOpt), steps: 5, checkpoints: store }).catch((e: unknown) => e);
    cleanup.push(() => {
      dispose(p, opt);
      dispose(p2, opt2);
      dispose(other, otherOpt);
      store.dispose();
    });
    expect(err).toBeInstanceOf(FitStateError);
    const msg = (err as Error).message;
    expect(msg).toContain('made for 4 updates, this run has 5');
    expect(msg).toContain('param.lin.weight has shape [2, 3], the run has [2, 4]');
    expect(msg).toContain('unexpected param.lin.bias');
  });

  it('logs the mean of each term over micro-batches and leaves unreached parameters alone', async () => {
    const params = makeParams(5);
    const frozenByLoss = tf.variable(tf.ones([2]));
    const all = new Map<string, tf.Variable>([...params, ['unused', frozenByLoss]]);
    const opt = new AdamW(all, { lr: 0.1, weightDecay: 0.5 });
    cleanup.push(() => dispose(all, opt));
    const records: StepRecord[] = [];
    await fit({
      ...options(all, opt),
      steps: 2,
      gradAccum: 2,
      loss: (b, { micro }) => ({ loss: mse(params, b), terms: { micro: tf.scalar(micro), twice: tf.mul(mse(params, b), 2) } }),
      onStep: (r) => void records.push(r),
    });
    for (const r of records) {
      expect(r.terms['micro']).toBeCloseTo(0.5, 6);
      expect(r.terms['twice']).toBeCloseTo(2 * r.loss, 4);
    }
    expect(Array.from(frozenByLoss.dataSync())).toEqual([1, 1]); // no gradient: no decay either
  });

  it('reads the device once per update and leaks no tensor', async () => {
    const params = makeParams(6);
    const opt = new AdamW(params, { lr: 0.01 });
    cleanup.push(() => dispose(params, opt));
    await fit({ ...options(params, opt), steps: 1 }); // creates the optimiser slots
    const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const names = ['data', 'dataSync', 'array', 'arraySync'];
    const orig = names.map((n) => proto[n]);
    let reads = 0;
    names.forEach((n, i) => {
      proto[n] = function (this: unknown, ...a: unknown[]) {
        reads++;
        return (orig[i] as (...a: unknown[]) => unknown).apply(this, a);
      };
    });
    try {
      await expectNoLeak(() => fit({ ...options(params, opt), steps: 4, maxGradNorm: 0.1, gradAccum: 2 }));
    } finally {
      names.forEach((n, i) => (proto[n] = orig[i] as (...a: unknown[]) => unknown));
    }
    expect(reads).toBe(4 + 1); // and once at the end: the final weights are checked finite before the caller writes them
  });

  it('stops at the first non-finite loss or gradient norm, before the update, and drops the checkpoint that gives it; a lower lr resumes', async () => {
    // AdamW moves every weight by about lr per update: with lr 1e20 the weights after update 1 are ~1e20,
    // whose squared error overflows float32 at update 2
    const store = new MemoryStore();
    const params = makeParams(8);
    const opt = new AdamW(params, { lr: 1e20, weightDecay: 0 });
    let afterFirst: Map<string, number[]> | undefined;
    const records: StepRecord[] = [];
    const before = tf.memory().numTensors;
    const err = await fit(
      options(params, opt, {
        checkpointEvery: 1,
        checkpoints: store,
        onStep: (r) => {
          records.push(r);
          if (r.step === 1) afterFirst = snapshot(params);
        },
      }),
    ).catch((e: unknown) => e);
    expect(tf.memory().numTensors - before).toBe(2 * params.size); // the optimiser's two slots per weight, nothing else
    expect(err).toBeInstanceOf(DivergenceError);
    expect(err).toMatchObject({ run: 'regression', step: 2, totalSteps: 9, terms: ['loss', 'gradNorm'], lr: 1e20, removedCheckpoint: 1 });
    expect((err as Error).message).toBe(
      'regression: training diverged at update 2/9: loss Infinity, gradient norm Infinity (lr 1e+20); the update was not applied and nothing of it saved, ' +
        'and the checkpoint of update 1 (its weights give this) was removed; try a lower learning rate or gradient clipping (maxGradNorm)',
    );
    expect(records.map((r) => r.step)).toEqual([1]); // the refused update is not reported as a step
    expect(snapshot(params)).toEqual(afterFirst); // nor applied
    expect(opt.stepCount).toBe(1);
    expect(store.saved).toBeUndefined(); // resuming from update 1 would give the same Infinity whatever the lr
    expect(store.saves).toBe(1);
    // a fresh process with a sane lr: starts the run again and finishes finite
    const again = makeParams(8);
    const againOpt = new AdamW(again, { lr: 0.05, weightDecay: 0 });
    cleanup.push(() => {
      dispose(params, opt);
      dispose(again, againOpt);
      store.dispose();
    });
    const r = await fit(options(again, againOpt, { checkpointEvery: 1, checkpoints: store }));
    expect(r).toMatchObject({ step: 9, resumedFrom: 0, aborted: false });
    expect(Number.isFinite(r.last?.loss)).toBe(true);
  });

  it('never saves non-finite state, and refuses to hand back non-finite weights after the last update', async () => {
    // tanh saturates: its loss and gradient stay finite while the weights run off to -Infinity (lr 3e38 per update)
    const make = () => new Map<string, tf.Variable>([['x', tf.variable(tf.tensor1d([0.5, -0.5]))]]);
    const tanhLoss = (p: ReadonlyMap<string, tf.Variable>) => ({ loss: tf.mean(tf.tanh(p.get('x') as tf.Variable)) as tf.Scalar });
    const store = new MemoryStore();
    const p1 = make();
    const opt1 = new AdamW(p1, { lr: 3e38, weightDecay: 0 });
    const saving = await fit({ ...options(p1, opt1), params: p1, steps: 4, checkpointEvery: 2, checkpoints: store, loss: () => tanhLoss(p1) }).catch(
      (e: unknown) => e,
    );
    expect(saving).toBeInstanceOf(DivergenceError);
    expect(saving).toMatchObject({ step: 2, terms: ['param.x'], detail: 'param.x holds NaN: 0, ±Inf: 2', removedCheckpoint: undefined, applied: true });
    expect(store.saves).toBe(0);
    const p2 = make();
    const opt2 = new AdamW(p2, { lr: 3e38, weightDecay: 0 });
    const records: StepRecord[] = [];
    const ending = await fit({ ...options(p2, opt2), params: p2, steps: 2, loss: () => tanhLoss(p2), onStep: (r) => void records.push(r) }).catch(
      (e: unknown) => e,
    );
    cleanup.push(() => {
      dispose(p1, opt1);
      dispose(p2, opt2);
      store.dispose();
    });
    expect(records.map((r) => Number.isFinite(r.loss) && Number.isFinite(r.gradNorm))).toEqual([true, true]); // the figures never showed it
    expect(ending).toBeInstanceOf(DivergenceError);
    expect((ending as Error).message).toMatch(
      /^regression: training diverged at update 2\/2: param\.x holds NaN: 0, ±Inf: 2 \(lr 3e\+38\); its result was not saved; try a lower/,
    );
  });

  it('formats learning rates as people write them', () => {
    expect([3e-3, 5e-5, 1e12, 0.1, 1, 0, 2.5e-4, 12345].map(formatLr)).toEqual(['0.003', '5e-5', '1e+12', '0.1', '1', '0', '2.5e-4', '1.23e+4']);
  });

  it('names the run and the argument on bad options', async () => {
    const params = makeParams(7);
    const opt = new AdamW(params, { lr: 0.01 });
    cleanup.push(() => dispose(params, opt));
    await expect(fit({ ...options(params, opt), steps: -1 })).rejects.toThrow('fit(regression): steps must be an integer >= 0, got -1');
    await expect(fit({ ...options(params, opt), gradAccum: 0 })).rejects.toThrow('gradAccum must be an integer >= 1');
    await expect(fit({ ...options(params, opt), params: new Map() })).rejects.toThrow('no trainable parameters');
    const frozen = tf.variable(tf.zeros([2]), false);
    cleanup.push(() => frozen.dispose());
    await expect(fit({ ...options(params, opt), params: new Map([...params, ['frozen.weight', frozen]]) })).rejects.toThrow(
      'fit(regression): parameters marked not trainable cannot be trained: frozen.weight',
    );
  });
});
