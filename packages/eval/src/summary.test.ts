import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSummary, writeSummary } from './node.js';
import { BootstrapRng } from './random.js';
import { renderMarkdownTable, resultsFromJson } from './report.js';
import {
  renderSummaryMarkdown,
  stringifySummary,
  summarizeResults,
  summaryFromJson,
  summaryToTable,
  type ScoreRecord,
  type SummaryOptions,
} from './summary.js';

// A synthetic run in the shape of the demo: 4 splits, shared baselines, seeded hypernet methods,
// a reference row. Scores are per instance (0..100), tasks have different instance counts.
function syntheticRun(seed = 11): ScoreRecord[] {
  const rng = new BootstrapRng(seed, 'synthetic-run');
  const u = () => (rng.nextUint32() + 0.5) / 4294967296;
  const clip = (v: number) => Math.min(100, Math.max(0, v));
  const splits = { 'seen-train': 10, 'seen-new': 10, 'heldout-combination': 14, 'heldout-family': 5 } as const;
  const methods = [
    { method: 'no-adapter', seeds: [null], level: 10 },
    { method: 'multitask', seeds: [null], level: 45 },
    { method: 'hint', seeds: [1, 2, 3], level: 35 },
    { method: 'tagi', seeds: [1, 2, 3], level: 40 },
    { method: 'copy', seeds: [null], level: 30 },
  ];
  const records: ScoreRecord[] = [];
  for (const [split, tasks] of Object.entries(splits)) {
    for (let t = 0; t < tasks; t++) {
      const taskId = `${split.startsWith('seen') ? 'seen' : split}-task${t}`; // seen-train and seen-new share task ids
      const difficulty = 40 * (u() - 0.5);
      const n = 3 + ((t * 7) % 6);
      for (const m of methods) {
        for (const s of m.seeds) {
          const seedShift = s === null ? 0 : 3 * (u() - 0.5);
          for (let i = 0; i < n; i++) {
            const r = clip(m.level + difficulty + seedShift + 30 * (u() - 0.5));
            records.push({ method: m.method, seed: s, taskId, split, rougeL: r, exactMatch: r > 50 ? 100 : 0, instanceId: `${taskId}-${i}` });
          }
        }
      }
    }
  }
  return records;
}

const options: SummaryOptions = {
  title: 'Synthetic run',
  methods: [
    { id: 'no-adapter', label: 'No adapter', relativeFlops: 0.3, relativeTime: 0.35 },
    { id: 'multitask', label: 'Instruction-concatenated multitask', relativeFlops: 1, relativeTime: 1 },
    { id: 'hint', label: 'HINT-like', relativeFlops: 0.38 },
    { id: 'tagi', label: 'TAGI', relativeFlops: 0.39, relativeTime: 0.45 },
    { id: 'copy', label: 'Copy input', kind: 'reference' },
    { id: 'teacher', label: 'Category teacher', reason: 'stage teachers did not run' },
  ],
  columns: [
    { key: 'seen-train', label: 'Seen, train instances', splits: ['seen-train'] },
    { key: 'seen-new', label: 'Seen, new instances', splits: ['seen-new'] },
    { key: 'heldout', label: 'Held-out combinations', splits: ['heldout-combination'] },
    { key: 'family', label: 'Held-out family', splits: ['heldout-family'] },
    { key: 'all-heldout', label: 'All held-out', splits: ['heldout-combination', 'heldout-family'] },
  ],
  comparisons: [
    { a: 'tagi', b: 'no-adapter' },
    { a: 'tagi', b: 'hint' },
    { a: 'tagi', b: 'multitask' },
  ],
  resamples: 2000,
};

const records = syntheticRun();
const summary = summarizeResults(records, options);

const pooledMean = (rs: readonly ScoreRecord[], key: 'rougeL' | 'exactMatch') => rs.reduce((s, r) => s + (r[key] ?? 0), 0) / rs.length;

describe('summarizeResults', () => {
  it('estimates are SNI means over instances (seeded methods: the mean of seed means)', () => {
    for (const row of summary.rows) {
      for (const col of summary.columns) {
        const mine = records.filter((r) => r.method === row.method && col.splits.includes(r.split));
        const cell = row.scores[col.key]?.rougeL;
        if (mine.length === 0) {
          expect(cell).toBeNull();
          continue;
        }
        const seeds = [...new Set(mine.map((r) => r.seed ?? null))];
        const expected =
          seeds.reduce<number>(
            (s, seed) =>
              s +
              pooledMean(
                mine.filter((r) => (r.seed ?? null) === seed),
                'rougeL',
              ),
            0,
          ) / seeds.length;
        expect(cell!.estimate).toBeCloseTo(expected, 9);
        expect(row.scores[col.key]?.exactMatch?.estimate).toBeCloseTo(
          seeds.reduce<number>(
            (s, seed) =>
              s +
              pooledMean(
                mine.filter((r) => (r.seed ?? null) === seed),
                'exactMatch',
              ),
            0,
          ) / seeds.length,
          9,
        );
        expect(cell!.lo!).toBeLessThanOrEqual(cell!.estimate);
        expect(cell!.hi!).toBeGreaterThanOrEqual(cell!.estimate);
        expect(cell!.instances).toBe(mine.length / Math.max(1, seeds.length));
      }
    }
  });

  it('columns pool their splits; seen-train and seen-new share task ids but not instances', () => {
    const byKey = Object.fromEntries(summary.columns.map((c) => [c.key, c]));
    expect(byKey['heldout']!.tasks).toBe(14);
    expect(byKey['family']!.tasks).toBe(5);
    expect(byKey['all-heldout']!.tasks).toBe(19);
    expect(byKey['all-heldout']!.instances).toBe(byKey['heldout']!.instances + byKey['family']!.instances);
    expect(byKey['seen-train']!.tasks).toBe(10);
  });

  it('reports seeds, per-seed means and their spread for seeded methods only', () => {
    const tagi = summary.rows.find((r) => r.method === 'tagi')!;
    expect(tagi.seeds).toEqual(['1', '2', '3']);
    const cell = tagi.scores['heldout']!.rougeL!;
    expect(cell.seedMeans.map((s) => s.seed)).toEqual(['1', '2', '3']);
    const m = cell.seedMeans.map((s) => s.mean);
    const mean = m.reduce((a, b) => a + b, 0) / 3;
    expect(cell.estimate).toBeCloseTo(mean, 10);
    expect(cell.seedSd).toBeCloseTo(Math.sqrt(m.reduce((s, v) => s + (v - mean) ** 2, 0) / 2), 10);
    const base = summary.rows.find((r) => r.method === 'no-adapter')!;
    expect(base.seeds).toEqual([]);
    expect(base.scores['heldout']!.rougeL!.seedSd).toBeNull();
  });

  it('paired differences: estimate is the difference of estimates; p-value within [0, 1]', () => {
    const [d] = summary.differences;
    expect(d!.label).toBe('TAGI − No adapter');
    const row = (id: string) => summary.rows.find((r) => r.method === id)!;
    const dc = d!.scores['heldout']!.rougeL!;
    expect(dc.estimate).toBeCloseTo(row('tagi').scores['heldout']!.rougeL!.estimate - row('no-adapter').scores['heldout']!.rougeL!.estimate, 10);
    // TAGI is 30 points above no adapter in the generator: clearly positive
    expect(dc.lo!).toBeGreaterThan(0);
    expect(dc.pValue).toBe(0);
    // multitask is 5 points above TAGI in the generator
    expect(summary.differences[2]!.scores['heldout']!.rougeL!.estimate).toBeLessThan(0);
  });

  it('does not depend on record order, and is deterministic per seed', () => {
    const rng = new BootstrapRng(99, 'shuffle');
    const shuffled = [...records];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.index(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    expect(summarizeResults(shuffled, options)).toEqual(summary);
    const other = summarizeResults(records, { ...options, seed: 1 });
    expect(other.rows[0]!.scores['heldout']!.rougeL!.lo).not.toBe(summary.rows[0]!.scores['heldout']!.rougeL!.lo);
  });

  it('a method’s interval does not depend on which other methods are summarised with it', () => {
    const alone = summarizeResults(
      records.filter((r) => r.method === 'tagi'),
      { ...options, methods: [{ id: 'tagi', label: 'TAGI' }], comparisons: [] },
    );
    expect(alone.rows[0]!.scores).toEqual(summary.rows.find((r) => r.method === 'tagi')!.scores);
  });

  it('identical methods: difference [0, 0] with p = 1 (unseeded, and seeded paired by seed)', () => {
    const twin = records.filter((r) => r.method === 'no-adapter' || r.method === 'tagi');
    const copies = [...twin, ...twin.map((r) => ({ ...r, method: `${r.method}-copy` }))];
    const s = summarizeResults(copies, {
      comparisons: [
        { a: 'no-adapter', b: 'no-adapter-copy' },
        { a: 'tagi', b: 'tagi-copy' },
      ],
      seedPairing: 'by-seed',
      resamples: 500,
    });
    for (const d of s.differences) {
      for (const col of s.columns) {
        const c = d.scores[col.key]!.rougeL!;
        expect([c.estimate, c.lo, c.hi, c.pValue]).toEqual([0, 0, 0, 1]);
      }
    }
  });

  it('task weighting gives the mean of task means', () => {
    const s = summarizeResults(
      records.filter((r) => r.method === 'no-adapter'),
      { weighting: 'task', resamples: 200 },
    );
    const col = s.columns.find((c) => c.key === 'heldout-combination')!;
    const mine = records.filter((r) => r.method === 'no-adapter' && r.split === 'heldout-combination');
    const tasks = [...new Set(mine.map((r) => r.taskId))];
    const expected =
      tasks.reduce(
        (acc, t) =>
          acc +
          pooledMean(
            mine.filter((r) => r.taskId === t),
            'rougeL',
          ),
        0,
      ) / tasks.length;
    expect(s.rows[0]!.scores[col.key]!.rougeL!.estimate).toBeCloseTo(expected, 10);
  });

  it('a column with one task has an estimate but no interval', () => {
    const one = records.filter((r) => r.method === 'no-adapter' && r.taskId === 'heldout-family-task0');
    const s = summarizeResults(one, { resamples: 200 });
    const cell = s.rows[0]!.scores['heldout-family']!.rougeL!;
    expect(cell.estimate).toBeCloseTo(pooledMean(one, 'rougeL'), 10);
    expect([cell.lo, cell.hi, cell.standardError]).toEqual([null, null, null]);
    expect(renderSummaryMarkdown(s)).toContain('(no CI: < 2 tasks)');
  });

  it('rejects designs it cannot pair, naming what is wrong', () => {
    const dropOne = records.filter((r) => !(r.method === 'tagi' && r.seed === 2 && r.taskId === 'heldout-combination-task3'));
    expect(() => summarizeResults(dropOne, options)).toThrow(/method 'tagi' seed 2 to cover every task of column 'heldout'.*heldout-combination-task3/);
    const fewer = records.filter((r) => !(r.method === 'hint' && r.taskId === 'heldout-combination-task3' && r.instanceId?.endsWith('-0')));
    expect(() => summarizeResults(fewer, options)).toThrow(/same instances of task 'heldout-combination-task3'/);
    const mixed = [...records, { method: 'tagi', taskId: 'seen-task0', split: 'seen-new', rougeL: 1, exactMatch: 0 }];
    expect(() => summarizeResults(mixed, options)).toThrow(/records\[\d+\]\.seed: expected a seed like the other records of method 'tagi'/);
    expect(() => summarizeResults([{ ...records[0]!, rougeL: 0.5e3 }])).toThrow(/records\[0\]\.rougeL: expected a score in \[0, 100\]/);
    expect(() => summarizeResults(records, { ...options, comparisons: [{ a: 'tagi', b: 'nope' }] })).toThrow(/opts\.comparisons\[0\]\.b/);
    expect(() => summarizeResults(records, { ...options, columns: options.columns!.slice(0, 2) })).toThrow(/split 'heldout-combination' has none/);
    expect(() => summarizeResults(records, { ...options, methods: options.methods!.slice(1) })).toThrow(/missing 'no-adapter'/);
    expect(() => summarizeResults([...records, records[0]!], options)).toThrow(/instanceId/);
    expect(() => summarizeResults(records, { ...options, methods: [...options.methods!.slice(0, 5), { id: 'teacher', relativeFlops: -1 }] })).toThrow(
      /opts\.methods\[5\]\.relativeFlops/,
    );
    expect(() => summarizeResults([{ method: 'm', taskId: 't', split: 's', rougeL: 3 }], { metrics: ['exactMatch'] })).toThrow(/records\[0\]\.exactMatch/);
  });
});

describe('renderSummaryMarkdown', () => {
  const md = renderSummaryMarkdown(summary);
  const lines = md.split('\n');
  const f = (v: number | null | undefined) => (v as number).toFixed(1);

  it('prints the Table-2 shape: methods × settings with [lo, hi], seeds, relative cost, references last', () => {
    expect(lines[0]).toBe('### Synthetic run');
    expect(md).toContain(
      '| Method | Seeds | Seen, train instances (10 tasks) | Seen, new instances (10 tasks) | Held-out combinations (14 tasks) | Held-out family (5 tasks) | All held-out (19 tasks) | Rel. FLOPs | Rel. time |',
    );
    const tagi = summary.rows.find((r) => r.method === 'tagi')!.scores['heldout']!.rougeL!;
    const tagiLine = lines.find((l) => l.startsWith('| TAGI | 3 |'))!;
    expect(tagiLine).toContain(`${f(tagi.estimate)} [${f(tagi.lo)}, ${f(tagi.hi)}]`);
    expect(tagiLine.endsWith('| ×0.39 | ×0.45 |')).toBe(true);
    const table = lines.slice(lines.indexOf('| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |') + 1);
    expect(table[5]).toMatch(/^\| _Copy input_ \(reference\) \| – \|/);
    expect(table[4]).toMatch(/^\| Category teacher \| – \| unavailable \|/);
    // multitask is the best method everywhere in the generator, and never the reference row
    expect(table[1]).toMatch(/^\| Instruction-concatenated multitask \| – \| \*\*\d+\.\d\*\* \[/);
    expect(table[5]).not.toContain('**');
  });

  it('prints paired differences with sign, interval and p-value, per-seed means and the method notes', () => {
    const d = summary.differences[0]!.scores['heldout']!.rougeL!;
    expect(md).toContain('**Paired differences, ROUGE-L**');
    expect(lines.find((l) => l.startsWith('| TAGI − No adapter |'))).toContain(`+${f(d.estimate)} [${f(d.lo)}, ${f(d.hi)}], p < 0.0005`);
    const hintSeeds = summary.rows.find((r) => r.method === 'hint')!.scores['heldout']!.rougeL!;
    expect(lines.find((l) => l.startsWith('| HINT-like | 1, 2, 3 |'))).toContain(
      `${hintSeeds.seedMeans.map((s) => f(s.mean)).join(' / ')} (sd ${f(hintSeeds.seedSd)})`,
    );
    expect(md).toContain('95% percentile intervals from 2,000 bootstrap resamples of tasks (seed 0)');
    expect(md).toContain('- Category teacher: stage teachers did not run');
  });

  it('a p-value of 0 prints as below the resolution 1/B, rounded up', () => {
    const s = summarizeResults(
      records.filter((r) => r.method === 'tagi' || r.method === 'no-adapter'),
      {
        comparisons: [{ a: 'tagi', b: 'no-adapter' }],
        metrics: ['rougeL'],
        resamples: 3000,
      },
    );
    expect(s.differences[0]!.scores['heldout-combination']!.rougeL!.pValue).toBe(0);
    expect(renderSummaryMarkdown(s)).toContain('p < 0.00034 |');
  });

  it('half-width style and digits', () => {
    const tagi = summary.rows.find((r) => r.method === 'tagi')!.scores['heldout']!.rougeL!;
    const hw = renderSummaryMarkdown(summary, { ci: 'half-width', digits: 2, metrics: ['rougeL'] });
    expect(hw).toContain(`${tagi.estimate.toFixed(2)} ± ${((tagi.hi! - tagi.lo!) / 2).toFixed(2)}`);
    expect(hw).not.toContain('**Exact match**');
    expect(() => renderSummaryMarkdown(summary, { digits: -1 })).toThrow(/opts\.digits/);
  });
});

describe('results.json version 2', () => {
  it('round-trips byte for byte and keeps the version-1 reader honest', () => {
    const text = stringifySummary(summary, { preset: 'demo' });
    const json = JSON.parse(text);
    expect(json.format).toBe('tagi-results');
    expect(json.version).toBe(2);
    expect(json.rows[3].scores.heldout.rouge_l.half_width).toBeCloseTo(
      (json.rows[3].scores.heldout.rouge_l.hi - json.rows[3].scores.heldout.rouge_l.lo) / 2,
      12,
    );
    const back = summaryFromJson(json);
    expect(back.meta).toEqual({ preset: 'demo' });
    expect(stringifySummary(back.summary, back.meta)).toBe(text);
    expect(renderSummaryMarkdown(back.summary)).toBe(renderSummaryMarkdown(summary));
    expect(() => resultsFromJson(json)).toThrow(/summaryFromJson/);
    expect(() => summaryFromJson({ ...json, version: 1 })).toThrow(/resultsFromJson/);
    json.rows[0].scores.heldout.rouge_l.lo = 'x';
    expect(() => summaryFromJson(json)).toThrow(/rows\[0\]\.scores\.heldout\.rouge_l\.lo/);
  });

  it('summaryToTable gives the version-1 table of one metric (point estimates)', () => {
    const table = summaryToTable(summary, 'exactMatch');
    expect(table.rows.map((r) => r.method)).toContain('Copy input (reference)');
    expect(table.rows[3]!.scores['heldout']).toBe(summary.rows[3]!.scores['heldout']!.exactMatch!.estimate);
    expect(renderMarkdownTable(table)).toContain('| Method | Seen, train instances |');
  });

  it('writeSummary writes results.json and results.md; readSummary reads them back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-eval-summary-'));
    try {
      const out = await writeSummary(path.join(dir, 'run'), summary, { meta: { seed: 42 } });
      expect(fs.readFileSync(out.markdown, 'utf8')).toBe(renderSummaryMarkdown(summary));
      const back = await readSummary(out.json);
      expect(back.summary).toEqual(summary);
      expect(back.meta).toEqual({ seed: 42 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
