import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { porterStem } from './porter.js';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__', 'porter', 'nltk-3.8-stems.tsv');
const pairs = fs
  .readFileSync(fixture, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => l.split('\t') as [string, string]);

describe('porterStem vs NLTK 3.8 PorterStemmer (NLTK_EXTENSIONS)', () => {
  it(`matches NLTK on all ${pairs.length} sampled words`, () => {
    const mismatches = pairs.filter(([w, s]) => porterStem(w) !== s).map(([w, s]) => `${w}: nltk ${s}, ours ${porterStem(w)}`);
    expect(mismatches).toEqual([]);
    expect(pairs.length).toBeGreaterThan(6000);
  });

  it('looks the irregular table up with the word as given and stems uppercase input lowercased (NLTK 3.8)', () => {
    // NLTK: stem('skies') == 'sky' from the table; stem('SKIES') == 'ski' (not in the table, stemmed lowercased)
    const nltk = new Map(pairs);
    expect(porterStem('skies')).toBe(nltk.get('skies'));
    expect(porterStem('SKIES')).toBe(porterStem('skis'));
    expect(porterStem('Running')).toBe(porterStem('running'));
  });

  it('leaves words of up to 2 characters unchanged and rejects non-strings', () => {
    expect(porterStem('as')).toBe('as');
    expect(porterStem('')).toBe('');
    expect(() => porterStem(3 as unknown as string)).toThrow(/string/);
  });
});
