// Runnable usage example (also executed by test/examples.test.ts): `npx tsx examples/quickstart.ts`.
import {
  compareInstructionCost,
  computeGroupedMetrics,
  computeMetrics,
  encoderFlops,
  rankClassify,
  rankReport,
  renderMarkdownTable,
  renderRankMarkdown,
  renderSummaryMarkdown,
  summarizeResults,
  type ScoreRecord,
  rougeL,
  type ChoiceScorer,
  type T5CostConfig,
} from '../src/index.js';

export async function quickstart(): Promise<string> {
  // 1. SNI metrics: ×100, max over references, micro-averaged, rounded like compute_metrics.py
  const predictions = ['The dogs are running quickly', 'Yes', 'Paris'];
  const references = [['The dog runs quick'], ['yes.'], ['London', 'Paris, France']];
  const overall = computeMetrics(predictions, references);
  const perTask = computeGroupedMetrics(predictions, references, ['task_a', 'task_b', 'task_b']);
  const single = rougeL('police killed the gunman', ['police kill the gunman']);

  // 2. Rank classification with an injected scorer. A real one wraps t5-model's scoreTargets;
  //    this stand-in returns fixed log-likelihoods (sum over target tokens, token count).
  const scorer: ChoiceScorer = (inputs, choices) =>
    inputs.map((_, i) => (choices[i] ?? []).map((c) => (c === 'yes' ? { sum: -0.4, tokens: 2 } : { sum: -2.3, tokens: 2 })));
  const rank = await rankClassify([{ input: 'Is the sky blue?', choices: ['yes', 'no'], label: 0 }], scorer, { normalization: 'mean' });

  // 3. Cost: T5-base LM-adapt shape; 120-token instruction, 60-token inputs, 8-token outputs, 100 instances
  const t5Base: T5CostConfig = { dModel: 768, dKv: 64, dFf: 2048, numLayers: 12, numHeads: 12, vocabSize: 32128, gated: true };
  const lengths = { instruction: 120, input: 60, target: 8 };
  const hypernetFlops = encoderFlops(t5Base, lengths.instruction) + 2 * 768 * 4096 * 24; // encode + a small generator
  const cost = compareInstructionCost(t5Base, lengths, { hypernetFlops, instances: 100, fusion: true });

  const table = renderMarkdownTable({
    columns: [
      { key: 'rougeL', label: 'ROUGE-L' },
      { key: 'em', label: 'EM' },
    ],
    rows: [
      { method: 'Instruction-concatenated', scores: { rougeL: overall.rougeL, em: overall.exactMatch }, relativeFlops: 1 },
      { method: 'Adapter (TAGI)', scores: { rougeL: overall.rougeL, em: overall.exactMatch }, relativeFlops: cost.relative },
    ],
  });
  // 4. Honest statistics: per-instance scores of every method (and seed) in, the whole summary out:
  //    means with task-level bootstrap CIs, seen vs held-out columns, paired differences, seeds.
  const records: ScoreRecord[] = [];
  for (let t = 0; t < 12; t++) {
    for (const split of ['seen-new', 'heldout']) {
      const taskId = `task${t}`;
      const hard = (t * 37) % 11; // per-task difficulty
      for (let i = 0; i < 4; i++) {
        records.push({ method: 'no-adapter', taskId, split, rougeL: 10 + hard + i, exactMatch: 0 });
        for (const seed of [1, 2, 3]) records.push({ method: 'tagi', seed, taskId, split, rougeL: 40 + 2 * hard + seed - i, exactMatch: i === 0 ? 100 : 0 });
      }
    }
  }
  const summary = summarizeResults(records, {
    methods: [
      { id: 'no-adapter', label: 'No adapter' },
      { id: 'tagi', label: 'TAGI', relativeFlops: cost.relative },
    ],
    columns: [
      { key: 'seen', label: 'Seen tasks, new instances', splits: ['seen-new'] },
      { key: 'heldout', label: 'Held-out tasks', splits: ['heldout'] },
    ],
    comparisons: [{ a: 'tagi', b: 'no-adapter' }],
    resamples: 2000,
  });

  // 5. P3-style rank classification per dataset × template, mean and sum scoring, median over templates
  const p3 = await rankReport(
    ['t1', 't2', 't3'].flatMap((template) => [
      { dataset: 'super_glue/rte', template, input: 'Is the sky blue?', choices: ['yes', 'no'], label: 0 },
      { dataset: 'super_glue/rte', template, input: 'Is grass red?', choices: ['yes', 'no'], label: 1 },
    ]),
    scorer,
  );

  return [
    `overall ${JSON.stringify(overall)}`,
    `task_b ${JSON.stringify(perTask.get('task_b'))}`,
    `single rougeL ${single}`,
    `rank accuracy ${rank.accuracy}`,
    `relative FLOPs ${cost.relative.toFixed(3)}`,
    table,
    renderSummaryMarkdown(summary, { metrics: ['rougeL'] }),
    renderRankMarkdown(p3, { templates: false }),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await quickstart());
}
