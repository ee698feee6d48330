// ROUGE-L throughput on 100k generated prediction/reference pairs. Run with `pnpm bench`.
// Pairs are generated from a seeded word list with inflected forms (so the stemmer does real work),
// 1-40 words each, with punctuation and capitals; the reference shares about half its words with
// the prediction.
import { computeMetrics, rougeL } from '../src/index.js';

const N = Number(process.env.BENCH_PAIRS ?? 100_000);

let seed = 12345;
function rand(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const stems = [
  'connect',
  'general',
  'relat',
  'happy',
  'study',
  'run',
  'hope',
  'organ',
  'electric',
  'adjust',
  'condition',
  'motor',
  'sense',
  'nation',
  'formal',
  'agree',
  'the',
  'a',
  'of',
  'cat',
  'dog',
  'answer',
  'question',
  'title',
  'fox',
];
const suffixes = ['', '', 's', 'ed', 'ing', 'ation', 'ness', 'ly', 'ity', 'ive', 'ful', 'izer', 'alism'];
const vocabulary = Array.from({ length: 2000 }, () => pick(stems) + pick(suffixes));
const punctuation = ['', '', '', ',', '.', '!', '?', "'s"];

function sentence(words: number): string[] {
  return Array.from({ length: words }, () => {
    const w = pick(vocabulary) + pick(punctuation);
    return rand() < 0.1 ? w.charAt(0).toUpperCase() + w.slice(1) : w;
  });
}

const predictions: string[] = [];
const references: string[][] = [];
let totalWords = 0;
for (let i = 0; i < N; i++) {
  const p = sentence(1 + Math.floor(rand() * 40));
  const r = p.map((w) => (rand() < 0.5 ? w : pick(vocabulary))).slice(0, 1 + Math.floor(rand() * 40));
  predictions.push(p.join(' '));
  references.push([r.join(' ')]);
  totalWords += p.length + r.length;
}

// warm-up (JIT), then one timed pass
for (let i = 0; i < 2000; i++) rougeL(predictions[i] as string, references[i] as string[]);
let checksum = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) checksum += rougeL(predictions[i] as string, references[i] as string[]);
const seconds = (performance.now() - t0) / 1000;

const t1 = performance.now();
const m = computeMetrics(predictions, references);
const metricsSeconds = (performance.now() - t1) / 1000;

console.log(`pairs: ${N} (${(totalWords / N).toFixed(1)} words per pair on average)`);
console.log(`rougeL: ${seconds.toFixed(2)} s, ${Math.round(N / seconds).toLocaleString('en-US')} cases/s (mean ROUGE-L ${(checksum / N).toFixed(4)})`);
console.log(
  `computeMetrics (EM + ROUGE-1 + ROUGE-L): ${metricsSeconds.toFixed(2)} s, ${Math.round(N / metricsSeconds).toLocaleString('en-US')} cases/s (rougeL ${m.rougeL})`,
);
