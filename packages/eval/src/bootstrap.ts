// Task-level bootstrap for SNI-style scores (×100), with paired differences and several seeds.
//
// The resampling unit is the TASK: a resample draws T tasks with replacement and keeps all of a drawn
// task's instances together (instances of one task are not independent: one instruction, one adapter).
// A method's score is SNI's convention, the mean over instances, i.e. per-task means weighted by their
// instance counts (`weights`); pass equal weights for a mean of task means.
//
// Several seeds (S trained models of one method, each evaluated on every task) form a crossed
// seeds × tasks design: a bad seed is bad on every task. The bootstrap therefore resamples tasks and,
// independently, seeds ("pigeonhole" bootstrap, Owen 2007, Ann. Appl. Stat. 1(1)); resampling seeds
// *within* each task instead would treat a seed's effect as independent across tasks and understate
// the seed-to-seed variance by a factor of about T. The statistic is the mean over the drawn seeds of
// each seed's weighted mean over the drawn tasks; with one seed it is the plain task bootstrap.
//
// Intervals: percentile (default) or BCa (Efron & Tibshirani 1993, §14.3, acceleration from the
// leave-one-task-out jackknife, as scipy.stats.bootstrap). Quantiles interpolate linearly between order
// statistics (numpy's default, Hyndman–Fan type 7).

import { EvalInputError } from './errors.js';
import { normalCdf, normalQuantile } from './normal.js';
import { BootstrapRng } from './random.js';

export type IntervalMethod = 'percentile' | 'bca';
/**
 * How paired differences treat two methods that both have several seeds:
 * 'independent' - each method's seeds are resampled on their own (seed k of A has nothing to do with
 *                 seed k of B); conservative, and the only choice when the seed sets differ;
 * 'by-seed'     - methods with the same seed labels draw the same seed indices, for designs where seed
 *                 k of both methods shares what the seed controls (data order, initialisation).
 */
export type SeedPairing = 'independent' | 'by-seed';

export interface BootstrapOptions {
  /** bootstrap resamples; default 10,000 */
  readonly resamples?: number;
  /** RNG seed (a non-negative integer); the same seed gives the same interval; default 0 */
  readonly seed?: number;
  /** coverage of the two-sided interval; default 0.95 */
  readonly level?: number;
  /** default 'percentile' */
  readonly interval?: IntervalMethod;
  /** per-task weights, e.g. instance counts (SNI: mean over instances); default equal */
  readonly weights?: readonly number[];
}

export interface PairedBootstrapOptions extends BootstrapOptions {
  /** default 'independent' */
  readonly seedPairing?: SeedPairing;
}

/** A point estimate with its bootstrap interval. */
export interface Interval {
  /** the statistic on the data as observed */
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  /** standard deviation of the bootstrap distribution */
  readonly standardError: number;
}

export interface ScoreInterval extends Interval {
  readonly tasks: number;
  /** each seed's weighted mean over all tasks, in input order */
  readonly seedMeans: readonly number[];
  /** sample standard deviation of `seedMeans` (null with one seed) */
  readonly seedSd: number | null;
}

export interface DifferenceInterval extends Interval {
  readonly tasks: number;
  /** fraction of resamples with difference ≤ 0: the one-sided bootstrap p-value for "A scores higher than B" */
  readonly pValue: number;
}

/** @internal One method's per-task scores in one setting: `scores[seed][task]`. */
export interface ScoreMatrix {
  readonly scores: readonly (readonly number[])[];
  /** label of the stream its seed indices are drawn from (methods sharing a label share seed draws) */
  readonly seedStream: string;
}

/** @internal resolved options */
export interface ResolvedBootstrap {
  readonly resamples: number;
  readonly seed: number;
  readonly level: number;
  readonly interval: IntervalMethod;
}

/** @internal */
export function resolveBootstrapOptions(fn: string, opts: BootstrapOptions, prefix = 'opts'): ResolvedBootstrap {
  const resamples = opts.resamples ?? 10_000;
  if (!Number.isInteger(resamples) || resamples < 100) {
    throw new EvalInputError(fn, `${prefix}.resamples`, 'an integer >= 100', resamples);
  }
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new EvalInputError(fn, `${prefix}.seed`, 'a non-negative integer', seed);
  const level = opts.level ?? 0.95;
  if (typeof level !== 'number' || !(level > 0 && level < 1)) throw new EvalInputError(fn, `${prefix}.level`, 'a number in (0, 1)', level);
  const interval = opts.interval ?? 'percentile';
  if (interval !== 'percentile' && interval !== 'bca') throw new EvalInputError(fn, `${prefix}.interval`, "'percentile' or 'bca'", interval);
  return { resamples, seed, level, interval };
}

/** Quantile of sorted values with linear interpolation between order statistics (numpy 'linear'). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new EvalInputError('quantileSorted', 'sorted', 'at least one value', sorted);
  if (!(q >= 0 && q <= 1)) throw new EvalInputError('quantileSorted', 'q', 'a number in [0, 1]', q);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo + 1 >= n) return a;
  const b = sorted[lo + 1] as number;
  // numpy's lerp form (exact at both ends)
  const t = h - lo;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** @internal Checks a per-task score vector or a [seed][task] matrix; returns it as a matrix. */
export function asMatrix(fn: string, argument: string, values: unknown): number[][] {
  if (!Array.isArray(values) || values.length === 0) {
    throw new EvalInputError(fn, argument, 'per-task scores (number[]) or per-seed per-task scores (number[][])', values);
  }
  const rows: unknown[] = Array.isArray(values[0]) ? values : [values];
  const tasks = (rows[0] as unknown[]).length;
  return rows.map((row, s) => {
    if (!Array.isArray(row) || row.length !== tasks) {
      throw new EvalInputError(fn, `${argument}[${s}]`, `one score per task (${tasks} tasks, as seed 0)`, row);
    }
    return row.map((v, t) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new EvalInputError(fn, rows === values ? `${argument}[${s}][${t}]` : `${argument}[${t}]`, 'a finite number', v);
      }
      return v;
    });
  });
}

/** @internal */
export function checkWeights(fn: string, argument: string, weights: unknown, tasks: number): number[] {
  if (weights === undefined) return new Array<number>(tasks).fill(1);
  if (!Array.isArray(weights) || weights.length !== tasks) throw new EvalInputError(fn, argument, `one weight per task (${tasks})`, weights);
  return weights.map((w, t) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) throw new EvalInputError(fn, `${argument}[${t}]`, 'a positive finite number', w);
    return w;
  });
}

/** Weighted mean over tasks of each seed, then the mean over seeds. */
function seedMeansOf(m: readonly (readonly number[])[], weights: readonly number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  return m.map((row) => row.reduce((s, v, t) => s + v * (weights[t] as number), 0) / total);
}

const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return s / xs.length;
};

function sampleSd(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += ((xs[i] as number) - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** @internal Where resample indices come from: drawn from seeded streams, or given (golden tests). */
export interface IndexSource {
  /** task indices of resample r (length T) */
  tasks(r: number, out: Int32Array): void;
  /** seed indices of resample r for a stream (length S) */
  seeds(stream: string, r: number, out: Int32Array): void;
}

/** @internal Seeded streams: one for the tasks, one per seed-stream label. */
export function seededIndexSource(seed: number, label: string, tasks: number): IndexSource {
  const taskRng = new BootstrapRng(seed, `tasks:${label}`);
  const seedRngs = new Map<string, BootstrapRng>();
  // draws are consumed strictly in resample order, so each stream is a plain sequence
  return {
    tasks(_r, out) {
      for (let i = 0; i < tasks; i++) out[i] = taskRng.index(tasks);
    },
    seeds(stream, _r, out) {
      let rng = seedRngs.get(stream);
      if (!rng) {
        rng = new BootstrapRng(seed, `seeds:${label}:${stream}`);
        seedRngs.set(stream, rng);
      }
      for (let i = 0; i < out.length; i++) out[i] = rng.index(out.length);
    },
  };
}

/**
 * @internal The bootstrap distribution of every matrix's statistic under the SAME task resamples
 * (so differences of two distributions are paired by task). Matrices with one seed draw no seed indices.
 */
export function bootstrapDistributions(matrices: readonly ScoreMatrix[], weights: readonly number[], resamples: number, source: IndexSource): Float64Array[] {
  const T = weights.length;
  const taskIdx = new Int32Array(T);
  const out = matrices.map(() => new Float64Array(resamples));
  // per-seed weighted scores, flattened: x[s*T + t] = w_t · score[s][t]
  const weighted = matrices.map((m) => {
    const S = m.scores.length;
    const x = new Float64Array(S * T);
    m.scores.forEach((row, s) => row.forEach((v, t) => (x[s * T + t] = v * (weights[t] as number))));
    return { S, x, seedIdx: new Int32Array(S), dots: new Float64Array(S) };
  });
  // draw each distinct seed stream once per resample, so methods sharing a stream share the draw
  const streams = new Map<string, Int32Array>();
  matrices.forEach((m) => {
    if (m.scores.length < 2) return;
    const idx = streams.get(m.seedStream);
    if (!idx) streams.set(m.seedStream, new Int32Array(m.scores.length));
    else if (idx.length !== m.scores.length) throw new Error(`bootstrapDistributions: seed stream ${m.seedStream} shared by different seed counts`);
  });
  for (let r = 0; r < resamples; r++) {
    source.tasks(r, taskIdx);
    let denominator = 0;
    for (let i = 0; i < T; i++) denominator += weights[taskIdx[i] as number] as number;
    for (const [stream, idx] of streams) source.seeds(stream, r, idx);
    weighted.forEach((w, k) => {
      // sum over drawn tasks per seed, then average over drawn seeds
      for (let s = 0; s < w.S; s++) {
        let dot = 0;
        const base = s * T;
        for (let i = 0; i < T; i++) dot += w.x[base + (taskIdx[i] as number)] as number;
        w.dots[s] = dot;
      }
      let total = 0;
      if (w.S === 1) total = w.dots[0] as number;
      else {
        const idx = streams.get((matrices[k] as ScoreMatrix).seedStream) as Int32Array;
        for (let j = 0; j < w.S; j++) total += w.dots[idx[j] as number] as number;
        total /= w.S;
      }
      (out[k] as Float64Array)[r] = total / denominator;
    });
  }
  return out;
}

/** @internal Leave-one-task-out values of a matrix's statistic (all seeds kept). */
export function jackknife(m: readonly (readonly number[])[], weights: readonly number[]): Float64Array {
  const T = weights.length;
  const W = weights.reduce((s, w) => s + w, 0);
  const totals = m.map((row) => row.reduce((s, v, t) => s + v * (weights[t] as number), 0));
  const out = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const wi = weights[i] as number;
    let acc = 0;
    m.forEach((row, s) => (acc += ((totals[s] as number) - (row[i] as number) * wi) / (W - wi)));
    out[i] = acc / m.length;
  }
  return out;
}

/**
 * @internal Interval from a bootstrap distribution (left unchanged). `jack` (leave-one-task-out values)
 * is needed for BCa. A degenerate distribution (all values equal) gives [v, v].
 */
export function intervalFrom(
  dist: Float64Array,
  estimate: number,
  level: number,
  method: IntervalMethod,
  jack?: Float64Array,
): { lo: number; hi: number; standardError: number; z0?: number; acceleration?: number } {
  const standardError = sampleSd(dist);
  // sort a copy: callers keep the resample order to pair distributions
  const sorted = Float64Array.from(dist).sort();
  const B = sorted.length;
  const first = sorted[0] as number;
  const last = sorted[B - 1] as number;
  if (first === last) return { lo: first, hi: last, standardError };
  const alpha = (1 - level) / 2;
  if (method === 'percentile') {
    return { lo: quantileSorted(sorted, alpha), hi: quantileSorted(sorted, 1 - alpha), standardError };
  }
  if (!jack) throw new Error('intervalFrom: BCa needs jackknife values');
  // bias correction: scipy's percentile-of-score with ties counted half ('mean' kind)
  let below = 0;
  let atOrBelow = 0;
  for (let i = 0; i < B; i++) {
    const v = sorted[i] as number;
    if (v < estimate) below++;
    if (v <= estimate) atOrBelow++;
  }
  // an estimate outside the whole distribution would give z0 = ±∞; clamp to the last half-step
  const fraction = Math.min(Math.max((below + atOrBelow) / (2 * B), 0.5 / B), 1 - 0.5 / B);
  const z0 = normalQuantile(fraction);
  const jm = mean(jack);
  let num = 0;
  let den = 0;
  for (let i = 0; i < jack.length; i++) {
    const u = jm - (jack[i] as number);
    num += u * u * u;
    den += u * u;
  }
  // all leave-one-out values equal: no skewness information, acceleration 0
  const acceleration = den === 0 ? 0 : num / (6 * den ** 1.5);
  const adjust = (z: number): number => normalCdf(z0 + (z0 + z) / (1 - acceleration * (z0 + z)));
  const zLo = normalQuantile(alpha);
  const aLo = adjust(zLo);
  const aHi = adjust(-zLo);
  return {
    lo: quantileSorted(sorted, Math.min(Math.max(aLo, 0), 1)),
    hi: quantileSorted(sorted, Math.min(Math.max(aHi, 0), 1)),
    standardError,
    z0,
    acceleration,
  };
}

/** @internal Summary of one matrix's bootstrap distribution. */
export function scoreInterval(m: readonly (readonly number[])[], weights: readonly number[], dist: Float64Array, opts: ResolvedBootstrap): ScoreInterval {
  const seedMeans = seedMeansOf(m, weights);
  const estimate = mean(seedMeans);
  const jack = opts.interval === 'bca' ? jackknife(m, weights) : undefined;
  const { lo, hi, standardError } = intervalFrom(dist, estimate, opts.level, opts.interval, jack);
  return { estimate, lo, hi, level: opts.level, standardError, tasks: weights.length, seedMeans, seedSd: m.length > 1 ? sampleSd(seedMeans) : null };
}

/** @internal Summary of the paired difference a − b (distributions from the same task resamples). */
export function differenceInterval(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  weights: readonly number[],
  distA: Float64Array,
  distB: Float64Array,
  opts: ResolvedBootstrap,
): DifferenceInterval {
  const diff = new Float64Array(distA.length);
  let notAbove = 0;
  for (let r = 0; r < diff.length; r++) {
    const d = (distA[r] as number) - (distB[r] as number);
    diff[r] = d;
    if (d <= 0) notAbove++;
  }
  const estimate = mean(seedMeansOf(a, weights)) - mean(seedMeansOf(b, weights));
  let jack: Float64Array | undefined;
  if (opts.interval === 'bca') {
    const ja = jackknife(a, weights);
    const jb = jackknife(b, weights);
    jack = ja.map((v, i) => v - (jb[i] as number));
  }
  const { lo, hi, standardError } = intervalFrom(diff, estimate, opts.level, opts.interval, jack);
  return { estimate, lo, hi, level: opts.level, standardError, tasks: weights.length, pValue: notAbove / diff.length };
}

/**
 * Task-level bootstrap interval of a method's score.
 *
 * `scores`: per-task mean scores (`number[]`, one seed) or `scores[seed][task]` (several seeds, every
 * seed on every task; tasks and seeds are resampled, see the module comment). `opts.weights` are the
 * per-task instance counts for SNI's instance-weighted mean. Deterministic for a given `opts.seed`.
 */
export function bootstrapCI(scores: readonly number[] | readonly (readonly number[])[], opts: BootstrapOptions = {}): ScoreInterval {
  const fn = 'bootstrapCI';
  const o = resolveBootstrapOptions(fn, opts);
  const m = asMatrix(fn, 'scores', scores);
  const T = (m[0] as number[]).length;
  if (T < 2) throw new EvalInputError(fn, 'scores', 'at least 2 tasks (one task has no task-to-task variation to resample)', T);
  const weights = checkWeights(fn, 'opts.weights', opts.weights, T);
  const [dist] = bootstrapDistributions([{ scores: m, seedStream: 'a' }], weights, o.resamples, seededIndexSource(o.seed, '', T));
  return scoreInterval(m, weights, dist as Float64Array, o);
}

/**
 * Paired task-level bootstrap of A − B on the same tasks (both resampled with the same task indices),
 * with the fraction of resamples where A − B ≤ 0. `a` and `b` take the shapes of `bootstrapCI`'s
 * `scores`, with tasks in the same order; their seed counts may differ. For the same `opts.seed`,
 * A's and B's resamples are those of `bootstrapCI(a)` and `bootstrapCI(b)`.
 */
export function pairedBootstrap(
  a: readonly number[] | readonly (readonly number[])[],
  b: readonly number[] | readonly (readonly number[])[],
  opts: PairedBootstrapOptions = {},
): DifferenceInterval {
  const fn = 'pairedBootstrap';
  const o = resolveBootstrapOptions(fn, opts);
  const ma = asMatrix(fn, 'a', a);
  const mb = asMatrix(fn, 'b', b);
  const T = (ma[0] as number[]).length;
  if ((mb[0] as number[]).length !== T) throw new EvalInputError(fn, 'b', `scores for the same ${T} tasks as a`, (mb[0] as number[]).length);
  if (T < 2) throw new EvalInputError(fn, 'a', 'at least 2 tasks', T);
  const pairing = opts.seedPairing ?? 'independent';
  if (pairing !== 'independent' && pairing !== 'by-seed') throw new EvalInputError(fn, 'opts.seedPairing', "'independent' or 'by-seed'", pairing);
  if (pairing === 'by-seed' && ma.length !== mb.length) {
    throw new EvalInputError(fn, 'opts.seedPairing', `'independent' when a and b have different seed counts (${ma.length} vs ${mb.length})`, pairing);
  }
  const weights = checkWeights(fn, 'opts.weights', opts.weights, T);
  const [distA, distB] = bootstrapDistributions(
    [
      { scores: ma, seedStream: 'a' },
      { scores: mb, seedStream: pairing === 'by-seed' ? 'a' : 'b' },
    ],
    weights,
    o.resamples,
    seededIndexSource(o.seed, '', T),
  );
  return differenceInterval(ma, mb, weights, distA as Float64Array, distB as Float64Array, o);
}
