import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeMetrics, SNI_CATEGORY_METRIC } from './metrics.js';
import { evaluateSni, sniResultKeys, type SniReference } from './sni.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const referencesFile = path.resolve(repoRoot, '..', 'shared', 'data', 'sni', 'eval', 'test_references.jsonl');

describe('evaluateSni (official evaluation.py behaviour)', () => {
  const refs: SniReference[] = [
    { id: 'a', references: ['Yes'], task_id: 't1', task_category: 'Textual Entailment' },
    { id: 'b', references: ['a red dog'], task_id: 't2', task_category: 'Title Generation', track: 'default' },
    { id: 'c', references: ['no'], task_id: 't1', task_category: 'Textual Entailment' },
  ];

  it('matches predictions by id, scores a missing one as the empty string, groups per category and task', () => {
    const [r, ...rest] = evaluateSni(refs, { a: 'yes', b: 'the red dog' });
    expect(rest).toEqual([]);
    expect(r!.track).toBe('default');
    expect(r!.missing).toEqual(['c']);
    expect(r!.overall).toEqual(computeMetrics(['yes', 'the red dog', ''], [['Yes'], ['a red dog'], ['no']]));
    expect([...r!.byCategory!.keys()]).toEqual(['textual_entailment', 'title_generation']);
    // t1: 'yes' vs 'Yes' matches, '' vs 'no' does not -> EM 50
    expect(r!.byTask!.get('t1')!.exactMatch).toBe(50);
    const keys = sniResultKeys([r!]);
    expect(keys['exact_match_default_track']).toBe(r!.overall.exactMatch);
    expect(keys['rougeL_for_title_generation_default_track']).toBe(r!.byCategory!.get('title_generation')!.rougeL);
    expect(keys['rouge1_for_t2_default_track']).toBe(r!.byTask!.get('t2')!.rouge1);
  });

  it('needs a tokenizer for the xlingual track and rejects repeated ids', () => {
    const x: SniReference[] = [...refs, { id: 'd', references: ['你好 世界'], track: 'xlingual' }];
    expect(() => evaluateSni(x, {})).toThrow(/opts\.xlingualTokenizer/);
    const tracks = evaluateSni(x, { d: '你好' }, { xlingualTokenizer: (s) => s.split(' ') });
    expect(tracks.map((t) => t.track)).toEqual(['default', 'xlingual']);
    // whitespace tokens: LCS 1, P 1, R 1/2 -> F 2/3 -> 66.6667
    expect(tracks[1]!.overall.rougeL).toBe(66.6667);
    expect(tracks[1]!.byTask).toBeNull();
    expect(() => evaluateSni([refs[0]!, refs[0]!], {})).toThrow(/references\[1\]\.id/);
  });
});

describe.skipIf(!fs.existsSync(referencesFile))('real SNI test references (skipped: ../shared/data/sni absent)', () => {
  const records = (): SniReference[] =>
    fs
      .readFileSync(referencesFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as SniReference);

  it('predicting the first reference gives EM 100 everywhere and ROUGE-L 100 wherever it has tokens', () => {
    const refs = records();
    expect(refs).toHaveLength(11810);
    const predictions = Object.fromEntries(refs.map((r) => [r.id, r.references[0]!]));
    const [r] = evaluateSni(refs, predictions, { roundDigits: null });
    expect(r!.missing).toEqual([]);
    expect(r!.overall.exactMatch).toBe(100);
    // an independent count of first references with no [a-z0-9] character (no ROUGE tokens)
    const tokenless = refs.filter((x) => !/[a-z0-9]/.test(x.references[0]!.toLowerCase())).length;
    expect(r!.overall.rougeL).toBeCloseTo((100 * (refs.length - tokenless)) / refs.length, 9);
    expect(r!.byTask!.size).toBe(119);
    // the 12 official test categories are exactly the ones SNI reports a primary metric for
    expect([...r!.byCategory!.keys()].sort()).toEqual(Object.keys(SNI_CATEGORY_METRIC).sort());
    for (const m of r!.byCategory!.values()) expect(m.exactMatch).toBe(100);
  });
});
