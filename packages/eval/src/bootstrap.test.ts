import { describe, expect, it } from 'vitest';
import { bootstrapCI, pairedBootstrap, quantileSorted } from './bootstrap.js';
import { EvalInputError } from './errors.js';
import { normalCdf, normalQuantile } from './normal.js';
import { BootstrapRng } from './random.js';

/** Synthetic populations for the properties below (seeded, so every run sees the same data). */
function sampler(seed: number) {
  const rng = new BootstrapRng(seed, 'test-population');
  const uniform = () => (rng.nextUint32() + 0.5) / 4294967296;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

describe('bootstrapCI', () => {
  it('constant task scores give a zero-width interval at the constant', () => {
    const ci = bootstrapCI(new Array(20).fill(42.5), { resamples: 500 });
    expect([ci.estimate, ci.lo, ci.hi, ci.standardError]).toEqual([42.5, 42.5, 42.5, 0]);
    // also with several seeds that agree and with BCa
    const seeds = bootstrapCI([new Array(9).fill(7), new Array(9).fill(7)], { resamples: 500, interval: 'bca' });
    expect([seeds.lo, seeds.hi, seeds.seedSd]).toEqual([7, 7, 0]);
  });

  it('is deterministic per seed and changes with the seed', () => {
    const { normal } = sampler(1);
    const xs = Array.from({ length: 30 }, () => 40 + 10 * normal());
    expect(bootstrapCI(xs, { seed: 3 })).toEqual(bootstrapCI(xs, { seed: 3 }));
    expect(bootstrapCI(xs, { seed: 3 }).lo).not.toBe(bootstrapCI(xs, { seed: 4 }).lo);
  });

  it('contains the point estimate (percentile and BCa) on skewed data', () => {
    const { uniform } = sampler(2);
    for (let trial = 0; trial < 20; trial++) {
      const xs = Array.from({ length: 12 + trial }, () => -15 * Math.log(uniform()));
      for (const interval of ['percentile', 'bca'] as const) {
        const ci = bootstrapCI(xs, { seed: trial, resamples: 1000, interval });
        expect(ci.lo).toBeLessThanOrEqual(ci.estimate);
        expect(ci.hi).toBeGreaterThanOrEqual(ci.estimate);
      }
    }
  });

  it('the estimate is the mean over instances when weights are instance counts (SNI convention)', () => {
    const { normal, uniform } = sampler(3);
    // larger tasks score higher, so the instance-weighted and task-weighted means differ
    const instances: number[][] = Array.from({ length: 15 }, () => {
      const n = 1 + Math.floor(uniform() * 30);
      return Array.from({ length: n }, () => 30 + n + 10 * normal());
    });
    const pooled = instances.flat().reduce((s, v) => s + v, 0) / instances.flat().length;
    const taskMeans = instances.map((xs) => xs.reduce((s, v) => s + v, 0) / xs.length);
    const ci = bootstrapCI(taskMeans, { weights: instances.map((xs) => xs.length), resamples: 200 });
    expect(ci.estimate).toBeCloseTo(pooled, 10);
    // unweighted: the mean of task means, which differs here
    expect(bootstrapCI(taskMeans, { resamples: 200 }).estimate).toBeCloseTo(taskMeans.reduce((s, v) => s + v, 0) / 15, 10);
    expect(Math.abs(pooled - taskMeans.reduce((s, v) => s + v, 0) / 15)).toBeGreaterThan(1);
  });

  it('width shrinks as 1/sqrt(number of tasks)', () => {
    const { normal } = sampler(4);
    const width = (n: number) => {
      // average over a few datasets so one lucky draw does not decide
      let w = 0;
      for (let k = 0; k < 8; k++) {
        const ci = bootstrapCI(
          Array.from({ length: n }, () => 30 + 15 * normal()),
          { seed: k, resamples: 2000 },
        );
        w += ci.hi - ci.lo;
      }
      return w / 8;
    };
    const ratio = width(25) / width(100);
    // sqrt(100/25) = 2; the sampling spread of 8 widths each is ~±10%
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
    // and the width is about 2·1.96·σ/√n
    expect(width(100)).toBeGreaterThan(0.85 * 2 * 1.96 * 1.5);
    expect(width(100)).toBeLessThan(1.15 * 2 * 1.96 * 1.5);
  });

  it('covers a known population mean about 95% of the time (seeded simulation)', () => {
    // 400 datasets of 40 tasks from N(50, 15²); 95% nominal coverage, binomial sd of the rate 1.1%.
    // The percentile bootstrap slightly under-covers at small n (≈ 93–94% at 30–40 tasks, measured).
    const { normal } = sampler(5);
    let covered = 0;
    const reps = 400;
    for (let r = 0; r < reps; r++) {
      const xs = Array.from({ length: 40 }, () => 50 + 15 * normal());
      const ci = bootstrapCI(xs, { seed: r, resamples: 1000 });
      if (ci.lo <= 50 && 50 <= ci.hi) covered++;
    }
    expect(covered / reps).toBeGreaterThan(0.91);
    expect(covered / reps).toBeLessThan(0.98);
  });

  it('with several seeds, resamples seeds too: wider than the task-only interval when seeds disagree', () => {
    const { normal } = sampler(6);
    const task = Array.from({ length: 40 }, () => 10 * normal());
    const bySeed = [-4, 0, 4].map((shift) => task.map((t) => 50 + t + shift + normal()));
    const crossed = bootstrapCI(bySeed, { resamples: 4000 });
    // the same seed-averaged task scores with no seed resampling
    const averaged = task.map((_, t) => bySeed.reduce((s, row) => s + (row[t] as number), 0) / 3);
    const taskOnly = bootstrapCI(averaged, { resamples: 4000 });
    expect(crossed.estimate).toBeCloseTo(taskOnly.estimate, 10);
    expect(crossed.hi - crossed.lo).toBeGreaterThan(1.3 * (taskOnly.hi - taskOnly.lo));
    expect(crossed.seedMeans).toHaveLength(3);
    expect(crossed.seedSd).toBeGreaterThan(3.5);
    expect(crossed.seedSd).toBeLessThan(4.5);
  });

  it('covers the mean of a crossed seeds × tasks population (small seed effect) about 95% of the time', () => {
    const { normal } = sampler(7);
    let covered = 0;
    const reps = 300;
    for (let r = 0; r < reps; r++) {
      const task = Array.from({ length: 40 }, () => 12 * normal());
      const m = [0, 1, 2].map(() => {
        const seedEffect = 1 * normal();
        return task.map((t) => 50 + t + seedEffect + 3 * normal());
      });
      const ci = bootstrapCI(m, { seed: r, resamples: 1000 });
      if (ci.lo <= 50 && 50 <= ci.hi) covered++;
    }
    expect(covered / reps).toBeGreaterThan(0.9);
    expect(covered / reps).toBeLessThan(0.99);
  });

  it('names the bad argument', () => {
    expect(() => bootstrapCI([1])).toThrow(/scores: expected at least 2 tasks/);
    expect(() => bootstrapCI([1, Number.NaN])).toThrow(/scores\[1\]: expected a finite number/);
    expect(() => bootstrapCI([[1, 2], [3]])).toThrow(/scores\[1\]/);
    expect(() => bootstrapCI([1, 2], { resamples: 10 })).toThrow(/opts\.resamples/);
    expect(() => bootstrapCI([1, 2], { level: 95 })).toThrow(/opts\.level/);
    expect(() => bootstrapCI([1, 2], { seed: -1 })).toThrow(/opts\.seed/);
    expect(() => bootstrapCI([1, 2], { weights: [1] })).toThrow(/opts\.weights/);
    expect(() => bootstrapCI([1, 2], { weights: [1, 0] })).toThrow(/opts\.weights\[1\]/);
    expect(() => bootstrapCI([1, 2], { interval: 'basic' as never })).toThrow(EvalInputError);
  });
});

describe('pairedBootstrap', () => {
  const { normal } = sampler(8);
  const a = Array.from({ length: 30 }, () => 40 + 15 * normal());

  it('identical methods: interval [0, 0] and p = 1', () => {
    const d = pairedBootstrap(a, [...a]);
    expect([d.estimate, d.lo, d.hi, d.pValue]).toEqual([0, 0, 0, 1]);
    // identical seeded methods paired by seed: the same
    const seeded = [a, a.map((v) => v + 1), a.map((v) => v - 2)];
    const bySeed = pairedBootstrap(
      seeded,
      seeded.map((r) => [...r]),
      { seedPairing: 'by-seed', resamples: 1000 },
    );
    expect([bySeed.lo, bySeed.hi, bySeed.pValue]).toEqual([0, 0, 1]);
    // ... but resampled independently the seed draws differ, so the interval has width
    const independent = pairedBootstrap(seeded, seeded, { resamples: 1000 });
    expect(independent.hi - independent.lo).toBeGreaterThan(0.5);
  });

  it('pairs by task: B constant across tasks gives exactly A’s interval shifted', () => {
    const b = new Array(30).fill(10);
    const d = pairedBootstrap(a, b, { seed: 9 });
    const ci = bootstrapCI(a, { seed: 9 });
    expect(d.lo).toBeCloseTo(ci.lo - 10, 10);
    expect(d.hi).toBeCloseTo(ci.hi - 10, 10);
  });

  it('a constant improvement on every task: zero-width interval and p = 0', () => {
    const d = pairedBootstrap(
      a.map((v) => v + 5),
      a,
    );
    expect(d.estimate).toBeCloseTo(5, 12);
    expect(d.hi - d.lo).toBeLessThan(1e-9);
    expect(d.pValue).toBe(0);
    expect(
      pairedBootstrap(
        a,
        a.map((v) => v + 5),
      ).pValue,
    ).toBe(1);
  });

  it('pairing removes the shared task variance: much narrower than the two separate intervals', () => {
    const b = a.map((v) => v - 3 + 2 * normal());
    const d = pairedBootstrap(a, b, { resamples: 4000 });
    const ca = bootstrapCI(a, { resamples: 4000 });
    expect(d.hi - d.lo).toBeLessThan(0.3 * (ca.hi - ca.lo));
    expect(d.lo).toBeGreaterThan(0);
    expect(d.pValue).toBeLessThan(0.001);
  });

  it('the p-value is the share of resamples with A − B ≤ 0: about ½ for a null difference', () => {
    let sum = 0;
    for (let k = 0; k < 40; k++) {
      // two methods with the same task effects and independent noise: no true difference
      sum += pairedBootstrap(
        a.map((v) => v + 4 * normal()),
        a.map((v) => v + 4 * normal()),
        { seed: k, resamples: 500 },
      ).pValue;
    }
    // p is uniform on [0, 1] under the null, so the mean of 40 is ½ ± 0.05 (1 sd)
    expect(sum / 40).toBeGreaterThan(0.33);
    expect(sum / 40).toBeLessThan(0.67);
  });

  it('names the bad argument', () => {
    expect(() => pairedBootstrap(a, a.slice(1))).toThrow(/b: expected scores for the same 30 tasks/);
    expect(() => pairedBootstrap([a, a], [a], { seedPairing: 'by-seed' })).toThrow(/opts\.seedPairing/);
  });
});

describe('quantileSorted / normal', () => {
  it('interpolates linearly between order statistics and hits the ends', () => {
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5); // h = 1.5
    expect(quantileSorted([10], 0.3)).toBe(10);
    expect(() => quantileSorted([], 0.5)).toThrow(/sorted/);
  });
  it('Φ and Φ⁻¹ are inverse and symmetric', () => {
    for (const p of [1e-9, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    for (const x of [-6, -2.2, -0.4, 0, 1.3, 3.7]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
  });
});
