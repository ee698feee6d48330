// Bootstrap speed for a TAGI-sized results summary. Run with `pnpm bench` (or `pnpm bench:bootstrap`).
//   core:  10,000 resamples × 66 tasks × 4 methods × 3 seeds, one column and one metric, 3 paired differences
//   demo:  the whole demo summary: 4 columns (66 held-out + 20 held-out-family + 2 × 60 seen tasks),
//          2 metrics, 6 methods (2 seeded × 3 seeds), 3 comparisons, 10,000 resamples
// Records are generated from a seeded generator; the figures are wall time of summarizeResults.
import os from 'node:os';
import { summarizeResults, type ScoreRecord } from '../src/index.js';

let state = 12345;
function rand(): number {
  // mulberry32
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function records(splits: Record<string, number>, methods: { id: string; seeds: (number | null)[] }[], perTask: number): ScoreRecord[] {
  const out: ScoreRecord[] = [];
  for (const [split, tasks] of Object.entries(splits)) {
    for (let t = 0; t < tasks; t++) {
      for (const m of methods) {
        for (const seed of m.seeds) {
          for (let i = 0; i < perTask; i++) {
            const r = Math.min(100, 100 * rand() * rand() * 2);
            out.push({ method: m.id, seed, taskId: `${split}-${t}`, split, rougeL: r, exactMatch: r > 60 ? 100 : 0 });
          }
        }
      }
    }
  }
  return out;
}

function time(label: string, fn: () => unknown, repeats = 5): void {
  fn(); // warm-up (JIT)
  const ms: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `${label}: median ${(ms[ms.length >> 1] as number).toFixed(0)} ms (min ${(ms[0] as number).toFixed(0)}, max ${(ms[ms.length - 1] as number).toFixed(0)}) over ${repeats} runs`,
  );
}

const seeded = (id: string) => ({ id, seeds: [1, 2, 3] });
const core = records({ heldout: 66 }, [seeded('a'), seeded('b'), seeded('c'), seeded('d')], 10);
const comparisons = [
  { a: 'd', b: 'a' },
  { a: 'd', b: 'b' },
  { a: 'd', b: 'c' },
];
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}; ${os.cpus().length} CPUs; Node ${process.version}`,
);
time('core: 10k resamples × 66 tasks × 4 methods × 3 seeds, 1 column, ROUGE-L, 3 differences', () =>
  summarizeResults(core, { metrics: ['rougeL'], comparisons, resamples: 10_000 }),
);
time('core with BCa', () => summarizeResults(core, { metrics: ['rougeL'], comparisons, resamples: 10_000, interval: 'bca' }));

const demoMethods = [
  { id: 'no-adapter', seeds: [null] },
  { id: 'multitask', seeds: [null] },
  seeded('hint'),
  seeded('tagi'),
  { id: 'copy', seeds: [null] },
  { id: 'blind', seeds: [null] },
];
const demo = records({ 'seen-train': 60, 'seen-new': 60, heldout: 66, family: 20 }, demoMethods, 10);
time(`demo: ${demo.length.toLocaleString('en-US')} records, 4 columns × 2 metrics × 6 methods, 3 differences, 10k resamples`, () =>
  summarizeResults(demo, {
    comparisons: [
      { a: 'tagi', b: 'no-adapter' },
      { a: 'tagi', b: 'hint' },
      { a: 'tagi', b: 'multitask' },
    ],
    resamples: 10_000,
  }),
);
console.log(
  `load average after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`,
);
