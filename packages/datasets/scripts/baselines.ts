// Prints the embedded suite's model-free baselines on the held-out split (figures for the README).
// Metrics here are a small local stand-in (exact match and an LCS-based ROUGE-L F over lower-cased
// whitespace tokens); the SNI-exact implementation lives in @tagi/eval.
// Run: npx tsx scripts/baselines.ts [seed]
import { embeddedBaselines, embeddedSuite, type EmbeddedTask, type Predictor } from '../src/index.js';

function lcs(a: string[], b: string[]): number {
  const dp = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = x === b[j - 1] ? prev + 1 : Math.max(dp[j] as number, dp[j - 1] as number);
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}
function rougeL(pred: string, ref: string): number {
  const p = pred.toLowerCase().split(/\s+/).filter(Boolean);
  const r = ref.toLowerCase().split(/\s+/).filter(Boolean);
  const l = lcs(p, r);
  if (l === 0) return 0;
  const prec = l / p.length;
  const rec = l / r.length;
  return (2 * prec * rec) / (prec + rec);
}
function score(tasks: readonly EmbeddedTask[], f: Predictor): { em: number; rougeL: number } {
  let em = 0;
  let rl = 0;
  let n = 0;
  for (const t of tasks)
    for (const inst of t.instances) {
      const pred = f(t, inst.input);
      em += inst.outputs.some((o) => o.trim().toLowerCase() === pred.trim().toLowerCase()) ? 1 : 0;
      rl += Math.max(...inst.outputs.map((o) => rougeL(pred, o)));
      n++;
    }
  return { em: (100 * em) / n, rougeL: (100 * rl) / n };
}

const seed = Number(process.argv[2] ?? 0);
const suite = embeddedSuite({ seed });
const b = embeddedBaselines(suite);
const nInst = (ts: readonly EmbeddedTask[]) => ts.reduce((a, t) => a + t.instances.length, 0);
console.log(
  `seed ${seed}: ${suite.categories.length} categories, ${suite.train.length} train tasks (${nInst(suite.train)} instances), ` +
    `${suite.heldOut.length} held-out tasks (${nInst(suite.heldOut)} instances)`,
);
console.log(`majority output: "${b.majority.output}"; instruction-blind rule: ${b.instructionBlind.rule} (train EM ${(100 * b.instructionBlind.trainScore).toFixed(1)})`);
const unseenCat = suite.heldOut.filter((t) => t.heldOutReason === 'category');
const unseenParam = suite.heldOut.filter((t) => t.heldOutReason === 'parameter');
console.log('| baseline | held-out ROUGE-L | held-out EM | unseen-parameter ROUGE-L | unseen-category ROUGE-L |');
console.log('|---|---|---|---|---|');
for (const [name, f] of [
  ['oracle', b.oracle],
  ['copy input', b.copy],
  ['majority output', b.majority],
  ['instruction-blind (best single rule)', b.instructionBlind],
  ['instruction-blind (per-input vote of train rules)', b.instructionBlindVote],
] as const) {
  const all = score(suite.heldOut, f);
  const p = score(unseenParam, f);
  const c = score(unseenCat, f);
  console.log(`| ${name} | ${all.rougeL.toFixed(1)} | ${all.em.toFixed(1)} | ${p.rougeL.toFixed(1)} | ${c.rougeL.toFixed(1)} |`);
}
