// The bootstrap against numpy/scipy on the same resample indices (__fixtures__/bootstrap, see NOTICE).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapDistributions, differenceInterval, quantileSorted, scoreInterval, type IndexSource } from './bootstrap.js';
import { normalCdf, normalQuantile } from './normal.js';

interface GoldenMethod {
  scores: number[][];
  seed_indices: string[] | null;
  estimate: number;
  distribution_head: number[];
  standard_error: number;
  percentile: [number, number];
  bca: [number, number];
}
interface GoldenCase {
  name: string;
  weights: number[];
  task_indices: string[];
  methods: GoldenMethod[];
  difference?: { estimate: number; p_value: number; standard_error: number; percentile: [number, number]; bca: [number, number] };
}
interface Golden {
  resamples: number;
  level: number;
  cases: GoldenCase[];
  normal: { cdf: [number, number][]; quantile: [number, number][] };
  quantile: { values: number[]; q: number[]; expected: number[] };
}

const golden = JSON.parse(fs.readFileSync(path.join(__dirname, '../__fixtures__/bootstrap/golden.json'), 'utf8')) as Golden;

const decode = (row: string, out: Int32Array): void => {
  for (let i = 0; i < out.length; i++) out[i] = parseInt(row.charAt(i), 36);
};

/** Index source replaying the fixture's resamples; method k draws from stream `m${k}`. */
function fixtureSource(c: GoldenCase): IndexSource {
  return {
    tasks: (r, out) => decode(c.task_indices[r] as string, out),
    seeds: (stream, r, out) => decode((c.methods[Number(stream.slice(1))]?.seed_indices as string[])[r] as string, out),
  };
}

// 1e-9 relative: same arithmetic up to summation order
const close = (a: number, b: number, tol = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

describe.each(golden.cases)('bootstrap vs numpy/scipy: $name', (c) => {
  const matrices = c.methods.map((m, k) => ({ scores: m.scores, seedStream: `m${k}` }));
  const dists = bootstrapDistributions(matrices, c.weights, golden.resamples, fixtureSource(c));

  it.each(['percentile', 'bca'] as const)('%s interval of every method', (interval) => {
    c.methods.forEach((m, k) => {
      const dist = dists[k] as Float64Array;
      m.distribution_head.forEach((v, r) => close(dist[r] as number, v));
      const iv = scoreInterval(m.scores, c.weights, dist, { resamples: golden.resamples, seed: 0, level: golden.level, interval });
      close(iv.estimate, m.estimate);
      close(iv.standardError, m.standard_error);
      close(iv.lo, m[interval][0]);
      close(iv.hi, m[interval][1]);
    });
  });

  const d = c.difference;
  if (!d) return;
  it.each(['percentile', 'bca'] as const)('%s interval and p-value of A − B', (interval) => {
    const [a, b] = c.methods as [GoldenMethod, GoldenMethod];
    const iv = differenceInterval(a.scores, b.scores, c.weights, dists[0] as Float64Array, dists[1] as Float64Array, {
      resamples: golden.resamples,
      seed: 0,
      level: golden.level,
      interval,
    });
    close(iv.estimate, d.estimate);
    expect(iv.pValue).toBe(d.p_value);
    close(iv.standardError, d.standard_error);
    close(iv.lo, d[interval][0]);
    close(iv.hi, d[interval][1]);
  });
});

describe('numeric helpers vs numpy/scipy', () => {
  it('quantileSorted is numpy.quantile (linear)', () => {
    golden.quantile.q.forEach((q, i) => close(quantileSorted(golden.quantile.values, q), golden.quantile.expected[i] as number, 1e-14));
  });
  it('normalCdf is scipy.special.ndtr to 1e-15 absolute, and 1e-13 relative in the lower tail', () => {
    for (const [x, p] of golden.normal.cdf) {
      expect(Math.abs(normalCdf(x) - p)).toBeLessThan(1e-15);
      if (x < 0) close(normalCdf(x), p, 1e-13);
    }
  });
  it('normalQuantile is scipy.special.ndtri to 1e-12 relative', () => {
    for (const [p, x] of golden.normal.quantile) close(normalQuantile(p), x, 1e-12);
  });
});
