// results.json as the Training page reads it: both versions of @tagi/eval's format (and one embedded in a
// trainer's own file), the trainer's plain rows, and a broken file reported with the reader's field path.
import { resultsToJson, summarizeResults, summaryToJson } from '@tagi/eval';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultsFileError, readResultsJson, stableJson, writeResultsJson } from './node.js';
import { resultsView } from './results.js';

// two methods over seen and held-out tasks: enough for CIs and a paired difference
const records = ['a', 'b', 'c', 'd'].flatMap((task, t) =>
  ['seen', 'heldout'].flatMap((split) => [
    { method: 'tagi', taskId: `${split}-${task}`, split, rougeL: 40 + 10 * t, exactMatch: t % 2 ? 100 : 0 },
    { method: 'concat', taskId: `${split}-${task}`, split, rougeL: 30 + 5 * t, exactMatch: 0 },
  ]),
);
const summary = summarizeResults(records, {
  methods: [
    { id: 'concat', label: 'Instruction-concatenated multitask' },
    { id: 'tagi', label: 'TAGI', relativeFlops: 0.4 },
  ],
  columns: [
    { key: 'seen', label: 'seen tasks', splits: ['seen'] },
    { key: 'heldout', label: 'held-out tasks', splits: ['heldout'] },
  ],
  comparisons: [{ a: 'tagi', b: 'concat' }],
  resamples: 200,
});

describe('resultsView', () => {
  it('reads version 2 with its CIs, seen and held-out columns and paired differences', () => {
    const view = resultsView(JSON.parse(JSON.stringify(summaryToJson(summary, { preset: 'smoke' }))));
    expect(view.kind).toBe('summary');
    if (view.kind !== 'summary') return;
    expect(view.at).toBe('');
    expect(view.summary.columns.map((c) => [c.key, c.tasks])).toEqual([
      ['seen', 4],
      ['heldout', 4],
    ]);
    // what summarizeResults computed, through the JSON file and back
    expect(view.summary.rows).toEqual(summary.rows);
    expect(view.summary.differences).toEqual(summary.differences);
    const tagi = view.summary.rows.find((r) => r.method === 'tagi')!.scores['heldout']!.rougeL!;
    expect(tagi.estimate).toBe(55); // mean of 40, 50, 60, 70
    expect(tagi.lo).toBeLessThanOrEqual(tagi.estimate);
    expect(tagi.hi).toBeGreaterThanOrEqual(tagi.estimate);
    expect(view.summary.differences[0]!.scores['heldout']!.rougeL!.estimate).toBe(55 - 37.5);
  });

  it('finds a version-2 summary embedded in a trainer results.json', () => {
    const view = resultsView({ preset: 'smoke', methods: [{ method: 'tagi', rougeL: 1 }], summary: summaryToJson(summary) });
    expect(view).toMatchObject({ kind: 'summary', at: 'summary' });
  });

  it('reads version 1 as a table', () => {
    const table = { columns: [{ key: 'rl', label: 'ROUGE-L' }], rows: [{ method: 'TAGI', scores: { rl: 12.5 }, relativeFlops: 0.39 }] };
    const view = resultsView(resultsToJson(table));
    expect(view).toEqual({
      kind: 'table',
      table: { columns: table.columns, rows: [{ method: 'TAGI', scores: { rl: 12.5 }, relativeFlops: 0.39, relativeTime: null }], notes: [] },
    });
  });

  it("shows a trainer's own rows as they are", () => {
    const rows = [{ method: 'no-adapter', label: 'No adapter', rougeL: 1.19, status: 'ok' }];
    expect(resultsView({ preset: 'smoke', methods: rows })).toEqual({ kind: 'rows', rows, at: 'methods' });
    expect(resultsView(rows)).toEqual({ kind: 'rows', rows, at: '' });
  });

  it('reports a file that claims a version and breaks it, naming the field', () => {
    const broken = summaryToJson(summary) as { rows: { scores: Record<string, { rouge_l: { estimate: unknown } }> }[] };
    broken.rows[0]!.scores['seen']!.rouge_l.estimate = 'high';
    expect(resultsView(broken, 'run/results.json')).toEqual({
      kind: 'invalid',
      message: expect.stringMatching(/^run\/results\.json: .*rows\[0\]\.scores\.seen\.rouge_l\.estimate/),
    });
    expect(resultsView({ format: 'tagi-results', version: 3 })).toEqual({
      kind: 'invalid',
      message: expect.stringMatching(/version 3; this playground reads versions 1 and 2/),
    });
    expect(resultsView({ hello: 'world' })).toMatchObject({ kind: 'invalid' });
    expect(resultsView(undefined)).toEqual({ kind: 'none' });
  });
});

describe('writeResultsJson / readResultsJson', () => {
  it('writes the current shape with sorted keys, reads it back equal, and resultsView sees the current shape', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tagi-results-'));
    try {
      const meta = { preset: 'smoke', seed: 7 };
      await writeResultsJson(dir, summary, meta);
      const text = readFileSync(path.join(dir, 'results.json'), 'utf8');
      expect(text).toBe(stableJson(summaryToJson(summary, meta)));
      const back = readResultsJson(dir);
      expect(back?.meta).toEqual(meta);
      expect(back?.summary.rows).toEqual(summary.rows);
      expect(back?.summary.differences).toEqual(summary.differences);
      expect(resultsView(JSON.parse(text))).toMatchObject({ kind: 'summary', at: '' });
      expect(readResultsJson(path.join(dir, 'none'))).toBeUndefined();
      // a file of another shape or broken: the file, then the field
      writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ format: 'tagi-results', version: 1 }));
      expect(() => readResultsJson(dir)).toThrow(ResultsFileError);
      expect(() => readResultsJson(dir)).toThrow(new RegExp(`^${path.join(dir, 'results.json').replace(/[.]/g, '\\.')}: .*version`));
      writeFileSync(path.join(dir, 'results.json'), '{"format": ');
      expect(() => readResultsJson(dir)).toThrow(/results\.json: not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
