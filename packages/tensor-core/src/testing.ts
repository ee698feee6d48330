// Test helpers (`@tagi/tensor-core/testing`). They throw plain Errors, so they work under any runner.
import * as tf from '@tensorflow/tfjs-core';
import { switchBackendUnchecked } from './backend.js';

type Numeric = tf.Tensor | number | ArrayLike<number> | number[][] | number[][][];

/** An int32 `[rows, cols]` tensor from literal rows (ids, masks, labels with -100): the fixtures of model tests. */
export function int2d(rows: readonly (readonly number[])[]): tf.Tensor2D {
  return tf.tensor2d(rows as number[][], undefined, 'int32');
}

function toFlat(x: Numeric): { values: Float64Array; shape: number[] | undefined } {
  if (x instanceof tf.Tensor) return { values: Float64Array.from(x.dataSync() as ArrayLike<number>), shape: [...x.shape] };
  if (typeof x === 'number') return { values: Float64Array.of(x), shape: undefined };
  const flat: number[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'number') flat.push(v);
    else if (Array.isArray(v) || ArrayBuffer.isView(v)) for (const e of Array.from(v as ArrayLike<unknown>)) walk(e);
    else throw new TypeError(`expectClose: unsupported value ${String(v)}`);
  };
  walk(x);
  return { values: Float64Array.from(flat), shape: undefined };
}

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  /** Prefix for the error message. */
  label?: string;
}

/**
 * Asserts |actual - expected| <= atol + rtol·|expected| element-wise (and equal shapes when both are
 * tensors). NaN matches NaN only at the same position. Returns the largest absolute difference.
 */
export function expectClose(actual: Numeric, expected: Numeric, opts: CloseOptions = {}): number {
  const { atol = 1e-5, rtol = 1e-5, label = 'expectClose' } = opts;
  const a = toFlat(actual);
  const e = toFlat(expected);
  if (a.shape !== undefined && e.shape !== undefined && !tf.util.arraysEqual(a.shape, e.shape)) {
    throw new Error(`${label}: shape [${a.shape.join(', ')}] differs from expected [${e.shape.join(', ')}]`);
  }
  if (a.values.length !== e.values.length) {
    throw new Error(`${label}: ${a.values.length} values, expected ${e.values.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.values.length; i++) {
    const av = a.values[i] as number;
    const ev = e.values[i] as number;
    if (Number.isNaN(av) || Number.isNaN(ev)) {
      if (Number.isNaN(av) !== Number.isNaN(ev)) {
        throw new Error(`${label}: index ${i}: got ${av}, expected ${ev}`);
      }
      continue;
    }
    if (av === ev) continue; // also covers matching infinities
    const diff = Math.abs(av - ev);
    maxDiff = Math.max(maxDiff, diff);
    const excess = diff - (atol + rtol * Math.abs(ev));
    if (excess > worstExcess || (excess > 0 && worst < 0) || !Number.isFinite(diff)) {
      worst = i;
      worstExcess = Number.isFinite(excess) ? excess : Infinity;
    }
  }
  if (worst >= 0) {
    const av = a.values[worst] as number;
    const ev = e.values[worst] as number;
    throw new Error(
      `${label}: index ${worst}: got ${av}, expected ${ev} (|diff| ${Math.abs(av - ev)} > atol ${atol} + rtol ${rtol}·|expected|); max |diff| ${maxDiff}`,
    );
  }
  return maxDiff;
}

export interface GradCheckOptions {
  /** Central-difference step (default 1e-2: float32 arithmetic limits how small it can usefully be). */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Check at most this many elements per input, chosen evenly (default: all). */
  maxElementsPerInput?: number;
}

export interface GradCheckResult {
  maxAbsError: number;
  checked: number;
}

/**
 * Compares tf.grads of `f` (reduced to a scalar by summation) against central finite differences
 * `(f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps)` for every (or a spread of) input elements.
 * Throws with the worst element when they disagree beyond atol + rtol·|numeric|.
 */
export function checkGradients(f: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], opts: GradCheckOptions = {}): GradCheckResult {
  const { eps = 1e-2, atol = 1e-3, rtol = 1e-2, maxElementsPerInput = Infinity } = opts;
  const scalarF = (...xs: tf.Tensor[]) => tf.sum(f(...xs)) as tf.Scalar;
  const analytic = tf
    .tidy(() => tf.grads(scalarF)(inputs))
    .map((g) => {
      const v = Float64Array.from(g.dataSync() as ArrayLike<number>);
      g.dispose();
      return v;
    });
  const base = inputs.map((x) => Float64Array.from(x.dataSync() as ArrayLike<number>));
  const evalAt = (which: number, idx: number, delta: number): number =>
    tf.tidy(() => {
      const vals = Float32Array.from(base[which] as Float64Array);
      vals[idx] = (vals[idx] as number) + delta;
      const xs = inputs.map((x, j) => (j === which ? tf.tensor(vals, x.shape, 'float32') : x));
      return scalarF(...xs).dataSync()[0] as number;
    });
  let maxAbsError = 0;
  let checked = 0;
  inputs.forEach((x, which) => {
    const n = x.size;
    const count = Math.min(n, maxElementsPerInput);
    const grad = analytic[which] as Float64Array;
    for (let c = 0; c < count; c++) {
      const idx = count === n ? c : Math.floor((c * n) / count);
      // Step on the actual float32 grid so the difference quotient uses the true perturbation.
      const x0 = (base[which] as Float64Array)[idx] as number;
      const up = Math.fround(x0 + eps) - Math.fround(x0);
      const down = Math.fround(x0) - Math.fround(x0 - eps);
      const numeric = (evalAt(which, idx, up) - evalAt(which, idx, -down)) / (up + down);
      const a = grad[idx] as number;
      const err = Math.abs(a - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      checked++;
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        throw new Error(`checkGradients: input ${which} [${x.shape.join(', ')}] element ${idx}: analytic ${a}, finite difference ${numeric} (|diff| ${err})`);
      }
    }
  });
  return { maxAbsError, checked };
}

/**
 * Runs `fn` and asserts that the number of live tensors is unchanged afterwards. Whatever `fn`
 * returns is passed through, so it must not be (or hold) a tensor.
 */
export function expectNoLeak<T>(fn: () => T): T;
export function expectNoLeak<T>(fn: () => Promise<T>): Promise<T>;
export function expectNoLeak<T>(fn: () => T | Promise<T>): T | Promise<T> {
  const before = tf.memory().numTensors;
  const check = (result: T): T => {
    const after = tf.memory().numTensors;
    if (after !== before) throw new Error(`expectNoLeak: ${after - before} tensor(s) leaked (${before} before, ${after} after)`);
    return result;
  };
  const out = fn();
  if (out instanceof Promise) return out.then(check);
  return check(out);
}

export type TestBackend = 'cpu' | 'wasm' | 'tensorflow';

/**
 * Backends the backend-parametrised suites run on: `TAGI_TEST_BACKENDS` (comma list), default
 * 'cpu,wasm'. Use with `describe.each(testBackends())` and `beforeAll(() => useBackend(name))`.
 */
export function testBackends(): TestBackend[] {
  const raw = (typeof process !== 'undefined' ? process.env['TAGI_TEST_BACKENDS'] : undefined) ?? 'cpu,wasm';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (n !== 'cpu' && n !== 'wasm' && n !== 'tensorflow') {
      throw new Error(`TAGI_TEST_BACKENDS: unknown backend '${n}'; expected a comma list of cpu, wasm, tensorflow`);
    }
  }
  return names as TestBackend[];
}

/** Activates a backend for the following tests (bypasses initBackend's once-per-process rule). */
export async function useBackend(name: TestBackend): Promise<void> {
  await switchBackendUnchecked(name);
}
