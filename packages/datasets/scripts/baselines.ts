// Prints an embedded suite's model-free baselines on every evaluation split (figures for the README).
// Metrics are the local stand-in of `baselineTable` (exact match and an LCS-based ROUGE-L over
// whitespace tokens); the SNI-exact implementation lives in @tagi/eval.
// Run: npx tsx scripts/baselines.ts [compositional-v1|lexical-v1] [seed]
import { EMBEDDED_SUITES, baselineTable, embeddedBaselines, embeddedSuite, type EmbeddedSuiteName } from '../src/index.js';

const name = (process.argv[2] ?? 'compositional-v1') as EmbeddedSuiteName;
if (!(EMBEDDED_SUITES as readonly string[]).includes(name)) throw new Error(`unknown suite "${name}" (one of ${EMBEDDED_SUITES.join(', ')})`);
const seed = Number(process.argv[3] ?? 0);
const suite = embeddedSuite({ name, seed });
const nInst = (ts: readonly { instances: readonly unknown[] }[]) => ts.reduce((a, t) => a + t.instances.length, 0);
console.log(
  `${name} seed ${seed}: ${suite.categories.length} families/categories, ${suite.train.length} train tasks (${nInst(suite.train)} instances), ` +
    `${suite.heldOut.length} held-out tasks (${nInst(suite.heldOut)} instances)`,
);
const b = embeddedBaselines(suite);
console.log(
  `majority output: "${b.majority.output}"; best single instruction-blind rule: ${b.instructionBlind.rule} (train EM ${(100 * b.instructionBlind.trainScore).toFixed(1)})`,
);
const rows = baselineTable(suite);
const splits = [...new Set(rows.map((r) => r.split))];
console.log(`| baseline | ${splits.map((s) => `${s} ROUGE-L / EM`).join(' | ')} |`);
console.log(`|---|${splits.map(() => '---|').join('')}`);
for (const baseline of [...new Set(rows.map((r) => r.baseline))]) {
  const cells = splits.map((s) => {
    const r = rows.find((x) => x.baseline === baseline && x.split === s);
    return r === undefined ? '' : `${r.rougeL.toFixed(1)} / ${r.exactMatch.toFixed(1)}`;
  });
  console.log(`| ${baseline} | ${cells.join(' | ')} |`);
}
console.log(
  `(tasks / instances per split: ${splits
    .map((s) => {
      const r = rows.find((x) => x.split === s);
      return `${s} ${r?.tasks ?? 0} / ${r?.instances ?? 0}`;
    })
    .join(', ')})`,
);
