import { describe, expect, it } from 'vitest';
import { lcsLength, rouge1Tokens, rougeL, rougeLTokens } from './rouge.js';

/** Textbook LCS with a full table, as an independent check of the two-row version. */
function naiveLcs(a: readonly string[], b: readonly string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
    }
  }
  return t[a.length]![b.length]!;
}

describe('lcsLength', () => {
  it('equals the full-table LCS on random token lists of changing sizes (row buffers are reused)', () => {
    let s = 7;
    const rand = (n: number): number => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s % n;
    };
    for (let k = 0; k < 500; k++) {
      const a = Array.from({ length: rand(90) }, () => String(rand(6)));
      const b = Array.from({ length: rand(150) }, () => String(rand(6)));
      expect(lcsLength(a, b)).toBe(naiveLcs(a, b));
    }
  });

  it('hand-computed ROUGE-L and ROUGE-1 on token lists', () => {
    // target [a b c d], prediction [a c e]: LCS 2, P 2/3, R 2/4, F = 2·(2/3)·(1/2)/(2/3+1/2) = 4/7
    const l = rougeLTokens(['a', 'b', 'c', 'd'], ['a', 'c', 'e']);
    expect(l.precision).toBeCloseTo(2 / 3, 15);
    expect(l.recall).toBe(0.5);
    expect(l.fmeasure).toBeCloseTo(4 / 7, 15);
    // unigram overlap is clipped by counts: target [a a b], prediction [a a a] -> overlap 2, P 2/3, R 2/3
    expect(rouge1Tokens(['a', 'a', 'b'], ['a', 'a', 'a']).fmeasure).toBeCloseTo(2 / 3, 15);
    expect(rougeLTokens([], ['a']).fmeasure).toBe(0);
  });

  it('takes the max over references', () => {
    expect(rougeL('red dog', ['blue cat', 'red dog', 'dog'])).toBe(100);
  });

  it('uses an injected tokenizer as is (SNI cross-lingual setting), leaving exact match unchanged', () => {
    const whitespace = (t: string): string[] => t.split(/\s+/).filter(Boolean);
    // the default tokenizer drops CJK entirely: no tokens -> 0
    expect(rougeL('你好 世界', ['你好'])).toBe(0);
    // whitespace tokens: LCS 1, P 1/2, R 1 -> F 2/3
    expect(rougeL('你好 世界', ['你好'], { tokenizer: whitespace })).toBeCloseTo(200 / 3, 12);
    // no stemming with a custom tokenizer
    expect(rougeL('running', ['run'], { tokenizer: whitespace })).toBe(0);
  });
});
