import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, writeResults } from './node.js';
import { renderMarkdownTable, resultsFromJson, resultsToJson, stringifyResults, type ResultsTable } from './report.js';

const table: ResultsTable = {
  title: 'Held-out tasks',
  columns: [
    { key: 'sni_def', label: 'SNI Def (ROUGE-L)' },
    { key: 'sni_def_2pos', label: 'SNI Def+2Pos (ROUGE-L)' },
  ],
  rows: [
    { method: 'No adapter', scores: { sni_def: 20.123, sni_def_2pos: null }, relativeFlops: 0.3 },
    { method: 'Instruction-concatenated multitask', scores: { sni_def: 48.004, sni_def_2pos: 54.5 }, relativeFlops: 1 },
    { method: 'TAGI', scores: { sni_def: 48.0, sni_def_2pos: 53.1 }, relativeFlops: 0.39, relativeTime: 0.45 },
  ],
  notes: ['Relative cost: per instance, against the instruction-concatenated model.'],
};

describe('renderMarkdownTable', () => {
  it('renders rows = methods, columns = settings + relative cost, best per column bold', () => {
    const md = renderMarkdownTable(table);
    const lines = md.trimEnd().split('\n');
    expect(lines[0]).toBe('### Held-out tasks');
    expect(lines[2]).toBe('| Method | SNI Def (ROUGE-L) | SNI Def+2Pos (ROUGE-L) | Rel. FLOPs | Rel. time |');
    expect(lines[3]).toBe('| :--- | ---: | ---: | ---: | ---: |');
    expect(lines[4]).toBe('| No adapter | 20.12 | – | ×0.30 | – |');
    // 48.004 and 48.0 both print 48.00: a tie at the printed precision, both bold
    expect(lines[5]).toBe('| Instruction-concatenated multitask | **48.00** | **54.50** | ×1.00 | – |');
    expect(lines[6]).toBe('| TAGI | **48.00** | 53.10 | ×0.39 | ×0.45 |');
    expect(lines.at(-1)).toBe(table.notes![0]);
  });

  it('escapes pipes and rejects unknown score keys', () => {
    const md = renderMarkdownTable({ columns: [{ key: 'a', label: 'A|B' }], rows: [{ method: 'x|y', scores: { a: 1 } }] });
    expect(md).toContain('| Method | A\\|B |');
    expect(md).toContain('| x\\|y | 1.00 |');
    expect(() => renderMarkdownTable({ columns: [{ key: 'a', label: 'A' }], rows: [{ method: 'm', scores: { b: 1 } }] })).toThrow(/rows\[0\]\.scores\.b/);
    expect(() => renderMarkdownTable({ columns: [{ key: 'a', label: 'A' }], rows: [{ method: 'm', scores: { a: Number.NaN } }] })).toThrow(/finite/);
  });
});

describe('results.json', () => {
  it('is snake_case, deterministic (sorted keys) and round-trips', () => {
    const json = resultsToJson(table, { seed: 1 });
    expect(json.rows[0]).toEqual({ method: 'No adapter', scores: { sni_def: 20.123, sni_def_2pos: null }, relative_flops: 0.3, relative_time: null });
    const text = stringifyResults(table, { seed: 1, b: 2 });
    expect(text.indexOf('"b"')).toBeLessThan(text.indexOf('"seed"'));
    expect(text.endsWith('}\n')).toBe(true);
    const back = resultsFromJson(JSON.parse(text));
    expect(stringifyResults(back.table, back.meta)).toBe(text);
    expect(() => resultsFromJson({ format: 'other' })).toThrow(/format/);
  });

  it('writeResults writes results.json and results.md atomically into a directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-eval-'));
    try {
      const out = await writeResults(path.join(dir, 'run'), table, { meta: { seed: 3 } });
      expect(fs.readFileSync(out.markdown, 'utf8')).toBe(renderMarkdownTable(table));
      expect(fs.readFileSync(out.json, 'utf8')).toBe(stringifyResults(table, { seed: 3 }));
      expect(fs.readdirSync(path.join(dir, 'run')).sort()).toEqual(['results.json', 'results.md']);
      const back = await readResults(out.json);
      expect(back.meta).toEqual({ seed: 3 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
