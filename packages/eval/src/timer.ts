// Wall-clock measurement for the "measured relative cost" column. performance.now() exists in
// Node >= 16 and browsers; a clock can be injected for tests.

import { EvalInputError, expectFiniteNumber } from './errors.js';

export type Clock = () => number;

const defaultClock: Clock = () => performance.now();

export interface TimingStats {
  /** per-repeat durations in milliseconds, in run order */
  readonly samplesMs: number[];
  readonly meanMs: number;
  readonly medianMs: number;
  readonly minMs: number;
}

export interface TimeOptions {
  /** timed runs (default 5) */
  readonly repeats?: number;
  /** untimed runs first, for JIT / caches / backend warm-up (default 1) */
  readonly warmup?: number;
  readonly clock?: Clock;
}

function stats(samplesMs: number[]): TimingStats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    samplesMs,
    meanMs: samplesMs.reduce((s, x) => s + x, 0) / samplesMs.length,
    medianMs,
    minMs: sorted[0] as number,
  };
}

function readOptions(fn: string, opts: TimeOptions): { repeats: number; warmup: number; clock: Clock } {
  const repeats = opts.repeats ?? 5;
  const warmup = opts.warmup ?? 1;
  expectFiniteNumber(fn, 'opts.repeats', repeats, { min: 1, integer: true });
  expectFiniteNumber(fn, 'opts.warmup', warmup, { min: 0, integer: true });
  const clock = opts.clock ?? defaultClock;
  if (typeof clock !== 'function') throw new EvalInputError(fn, 'opts.clock', 'a function returning milliseconds', clock);
  return { repeats, warmup, clock };
}

/** Times `fn` (sync or async) `repeats` times after `warmup` untimed runs. */
export async function timeIt(fn: () => unknown, opts: TimeOptions = {}): Promise<TimingStats> {
  if (typeof fn !== 'function') throw new EvalInputError('timeIt', 'fn', 'a function', fn);
  const { repeats, warmup, clock } = readOptions('timeIt', opts);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = clock();
    await fn();
    samples.push(clock() - t0);
  }
  return stats(samples);
}

export interface RelativeCost {
  readonly baseline: TimingStats;
  readonly candidate: TimingStats;
  /** median(candidate) / median(baseline): the measured counterpart of the FLOPs ratio */
  readonly ratio: number;
}

/**
 * Measured relative cost of `candidate` against `baseline` (e.g. adapter inference vs the
 * instruction-concatenated model on the same instances). Runs alternate so drift in machine load
 * affects both sides alike; the ratio uses medians.
 */
export async function measureRelativeCost(baseline: () => unknown, candidate: () => unknown, opts: TimeOptions = {}): Promise<RelativeCost> {
  if (typeof baseline !== 'function') throw new EvalInputError('measureRelativeCost', 'baseline', 'a function', baseline);
  if (typeof candidate !== 'function') throw new EvalInputError('measureRelativeCost', 'candidate', 'a function', candidate);
  const { repeats, warmup, clock } = readOptions('measureRelativeCost', opts);
  for (let i = 0; i < warmup; i++) {
    await baseline();
    await candidate();
  }
  const b: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t0 = clock();
    await baseline();
    b.push(clock() - t0);
    t0 = clock();
    await candidate();
    c.push(clock() - t0);
  }
  const baselineStats = stats(b);
  const candidateStats = stats(c);
  return { baseline: baselineStats, candidate: candidateStats, ratio: candidateStats.medianMs / baselineStats.medianMs };
}

/** Accumulates wall time per named phase (the trainer's per-stage timing). */
export class Stopwatch {
  private readonly clock: Clock;
  private readonly totals = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  constructor(clock: Clock = defaultClock) {
    this.clock = clock;
  }

  /** Runs `fn`, adding its duration to `label`; returns fn's result. */
  async time<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
    const t0 = this.clock();
    try {
      return await fn();
    } finally {
      this.add(label, this.clock() - t0);
    }
  }

  /** Adds a measured duration (ms) to `label`. */
  add(label: string, ms: number): void {
    expectFiniteNumber('Stopwatch.add', 'ms', ms, { min: 0 });
    this.totals.set(label, (this.totals.get(label) ?? 0) + ms);
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** Total ms and call count per label, in first-seen order. */
  summary(): { label: string; totalMs: number; calls: number; meanMs: number }[] {
    return [...this.totals].map(([label, totalMs]) => {
      const calls = this.counts.get(label) as number;
      return { label, totalMs, calls, meanMs: totalMs / calls };
    });
  }
}
