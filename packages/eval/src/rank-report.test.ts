import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRankReport } from './node.js';
import { rankClassify, type ChoiceScorer } from './rank.js';
import { rankReport, renderRankMarkdown, stringifyRankReport, summarizeRank, type TemplatedRankExample } from './rank-report.js';

// Scores keyed by input, chosen so 'mean' and 'sum' disagree on some examples:
//   'long' choice: sum -3 over 3 tokens (mean -1); 'short' choice: sum -2 over 1 token (mean -2)
//   -> sum prefers short, mean prefers long.
const scorer: ChoiceScorer = (inputs, choices) =>
  inputs.map((_, i) => (choices[i] ?? []).map((c) => (c.startsWith('long') ? { sum: -3, tokens: 3 } : { sum: -2, tokens: 1 })));

function ex(dataset: string, template: string, gold: 'long' | 'short' | 'none', k: number): TemplatedRankExample {
  return {
    input: `${dataset}/${template}/${k}`,
    choices: ['short answer', 'long answer'],
    label: gold === 'none' ? -1 : gold === 'long' ? 1 : 0,
    dataset,
    template,
  };
}

// rte: t1 4 examples (3 long-gold, 1 short-gold), t2 2 examples (both short-gold), t3 2 (long, short)
// cb:  t1 2 examples (long-gold) + 1 unlabelled
const examples: TemplatedRankExample[] = [
  ex('rte', 't1', 'long', 0),
  ex('rte', 't1', 'long', 1),
  ex('rte', 't1', 'long', 2),
  ex('rte', 't1', 'short', 3),
  ex('rte', 't2', 'short', 0),
  ex('rte', 't2', 'short', 1),
  ex('cb', 't1', 'long', 0),
  ex('cb', 't1', 'none', 1),
  ex('cb', 't1', 'long', 2),
  ex('rte', 't3', 'long', 0),
  ex('rte', 't3', 'short', 1),
];

describe('rankReport', () => {
  it('accuracy per dataset × template under both scorings equals rankClassify on each group', async () => {
    let calls = 0;
    const counting: ChoiceScorer = (inputs, choices) => {
      calls += inputs.length;
      return scorer(inputs, choices);
    };
    const report = await rankReport(examples, counting, { batchSize: 4 });
    // each labelled example scored once, whatever the number of scorings
    expect(calls).toBe(10);
    expect(report.templates.map((t) => `${t.dataset}/${t.template}`)).toEqual(['rte/t1', 'rte/t2', 'rte/t3', 'cb/t1']);
    for (const t of report.templates) {
      const group = examples.filter((e) => e.dataset === t.dataset && e.template === t.template && e.label !== -1);
      for (const n of ['mean', 'sum'] as const) {
        const ref = await rankClassify(group, scorer, { normalization: n });
        expect(t.accuracy[n]).toBe(ref.accuracy);
      }
      expect(t.count).toBe(group.length);
    }
    // by hand: rte t1 mean 75 / sum 25; t2 mean 0 / sum 100; t3 50 / 50; cb t1 100 / 0
    expect(report.templates.map((t) => [t.accuracy.mean, t.accuracy.sum])).toEqual([
      [75, 25],
      [0, 100],
      [50, 50],
      [100, 0],
    ]);
    const rte = report.datasets[0]!;
    expect(rte).toMatchObject({ dataset: 'rte', templates: 3, count: 8, median: { mean: 50, sum: 50 } });
    expect(rte.mean.mean).toBeCloseTo(125 / 3, 12);
    expect(rte.mean.sum).toBeCloseTo(175 / 3, 12);
    // average over datasets (not over templates or examples)
    expect(report.average.median.mean).toBe((50 + 100) / 2);
    expect(report.average.mean.sum).toBeCloseTo((175 / 3 + 0) / 2, 12);
    expect(report.skipped).toEqual({ unlabelled: 1, byDataset: { cb: 1 } });
  });

  it('prints the per-dataset table (median and mean over templates) and every template', async () => {
    const md = renderRankMarkdown(await rankReport(examples, scorer));
    const lines = md.split('\n');
    expect(lines[0]).toBe('### Rank classification accuracy (%)');
    expect(md).toContain('| Dataset | Templates | Examples | Median (mean log-lik.) | Median (sum log-lik.) | Mean (mean log-lik.) | Mean (sum log-lik.) |');
    expect(md).toContain('| rte | 3 | 8 | 50.0 | 50.0 | 41.7 | 58.3 |');
    expect(md).toContain('| **Average over 2 datasets** |  |  | **75.0** | **25.0** | **70.8** | **29.2** |');
    expect(md).toContain('| rte | t2 | 2 | 0.0 | 100.0 |');
    expect(md).toContain('- Skipped 1 unlabelled example(s) (cb: 1).');
  });

  it('one scoring only, and errors naming the argument', async () => {
    const only = await rankReport(examples, scorer, { normalizations: ['sum'] });
    expect(only.templates[0]!.accuracy).toEqual({ sum: 25 });
    expect(renderRankMarkdown(only)).not.toContain('mean log-lik.)');
    await expect(rankReport([{ ...examples[0]!, dataset: '' }], scorer)).rejects.toThrow(/examples\[0\]\.dataset/);
    await expect(rankReport([{ ...examples[0]!, label: 5 }], scorer)).rejects.toThrow(/examples\[0\]\.label/);
    await expect(rankReport([examples[7]!], scorer)).rejects.toThrow(/at least one labelled example/);
    await expect(rankReport(examples, scorer, { normalizations: ['max' as never] })).rejects.toThrow(/opts\.normalizations/);
    await expect(rankReport(examples, () => [])).rejects.toThrow(/scorer result/);
  });
});

describe('summarizeRank', () => {
  it('even template counts take the middle average as median; duplicates and missing scorings are errors', () => {
    const r = summarizeRank([
      { dataset: 'copa', template: 'a', count: 100, accuracy: { mean: 60, sum: 55 } },
      { dataset: 'copa', template: 'b', count: 100, accuracy: { mean: 70, sum: 65 } },
      { dataset: 'copa', template: 'c', count: 100, accuracy: { mean: 90, sum: 50 } },
      { dataset: 'copa', template: 'd', count: 100, accuracy: { mean: 62, sum: 58 } },
    ]);
    expect(r.datasets[0]!.median).toEqual({ mean: 66, sum: 56.5 });
    expect(r.datasets[0]!.mean.mean).toBeCloseTo(70.5, 12);
    expect(() => summarizeRank([{ dataset: 'x', template: 'a', count: 1, accuracy: { mean: 1 } }])).toThrow(/results\[0\]\.accuracy\.sum/);
    expect(() =>
      summarizeRank([
        { dataset: 'x', template: 'a', count: 1, accuracy: { mean: 1, sum: 1 } },
        { dataset: 'x', template: 'a', count: 1, accuracy: { mean: 1, sum: 1 } },
      ]),
    ).toThrow(/results\[1\]\.template/);
  });

  it('writeRankReport writes JSON and Markdown', async () => {
    const report = await rankReport(examples, scorer);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-eval-rank-'));
    try {
      const out = await writeRankReport(dir, report, { meta: { model: 'tiny' } });
      expect(path.basename(out.json)).toBe('rank_results.json');
      expect(fs.readFileSync(out.json, 'utf8')).toBe(stringifyRankReport(report, { model: 'tiny' }));
      expect(JSON.parse(fs.readFileSync(out.json, 'utf8')).skipped.by_dataset).toEqual({ cb: 1 });
      expect(fs.readFileSync(out.markdown, 'utf8')).toBe(renderRankMarkdown(report));
      await expect(writeRankReport(dir, report, { basename: '../x' })).rejects.toThrow(/opts\.basename/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
