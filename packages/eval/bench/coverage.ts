// Coverage of the bootstrap intervals on synthetic populations with a known mean: the share of
// 95% intervals that contain it (binomial sd ≈ 0.7% at 1,000 datasets). Run with `pnpm bench:coverage`.
//   tasks only:     per-task scores from N(50, 15²) or a skewed Exp(mean 20), 15 / 30 / 66 tasks
//   seeds × tasks:  score[s][t] = 50 + u_t + v_s + e_st, u ~ N(0, 10²), e ~ N(0, 3²), 30 tasks, and a
//                   seed effect v ~ N(0, σ_seed²) shared by every task of a seed (a crossed design)
import os from 'node:os';
import { bootstrapCI, type IntervalMethod } from '../src/index.js';
import { BootstrapRng } from '../src/random.js';

const DATASETS = Number(process.env.COVERAGE_DATASETS ?? 1000);
const RESAMPLES = 1000;
const rng = new BootstrapRng(7, 'coverage-population');
const uniform = () => (rng.nextUint32() + 0.5) / 4294967296;
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}; ${DATASETS} datasets × ${RESAMPLES} resamples each`,
);
const t0 = performance.now();
for (const [kind, truth, draw] of [
  ['normal N(50, 15²)', 50, () => 50 + 15 * normal()],
  ['skewed Exp(mean 20)', 20, () => -20 * Math.log(uniform())],
] as const) {
  for (const tasks of [15, 30, 66]) {
    // both interval methods on the same datasets, so their difference is not sampling noise of the data
    const covered = { percentile: 0, bca: 0 };
    for (let r = 0; r < DATASETS; r++) {
      const xs = Array.from({ length: tasks }, draw);
      for (const interval of ['percentile', 'bca'] as IntervalMethod[]) {
        const ci = bootstrapCI(xs, { resamples: RESAMPLES, seed: r, interval });
        if (ci.lo <= truth && truth <= ci.hi) covered[interval]++;
      }
    }
    const pct = (n: number) => `${((100 * n) / DATASETS).toFixed(1)}%`;
    console.log(`tasks only, ${kind}, ${tasks} tasks: percentile ${pct(covered.percentile)}, bca ${pct(covered.bca)}`);
  }
}
for (const [seedSd, seeds] of [
  [0, 3],
  [1, 3],
  [2, 3],
  [5, 3],
  [5, 5],
] as const) {
  let covered = 0;
  for (let r = 0; r < DATASETS; r++) {
    const task = Array.from({ length: 30 }, () => 10 * normal());
    const m = Array.from({ length: seeds }, () => {
      const v = seedSd * normal();
      return task.map((u) => 50 + u + v + 3 * normal());
    });
    const ci = bootstrapCI(m, { resamples: RESAMPLES, seed: r });
    if (ci.lo <= 50 && 50 <= ci.hi) covered++;
  }
  console.log(
    `seeds × tasks, 30 tasks, ${seeds} seeds, seed sd ${seedSd} (task-level se ${(10 / Math.sqrt(30)).toFixed(2)}, seed-level se ${(seedSd / Math.sqrt(seeds)).toFixed(2)}): percentile ${((100 * covered) / DATASETS).toFixed(1)}%`,
  );
}
console.log(
  `${((performance.now() - t0) / 1000).toFixed(0)} s; load average after ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`,
);
