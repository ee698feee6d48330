import { describe, expect, it } from 'vitest';
import { scoreAnswers } from './scoring';

describe('scoreAnswers', () => {
  it('scores each answer against its references with SNI exact match and ROUGE-L (x100)', () => {
    const scores = scoreAnswers(['rabbit', 'The rabbit', 'dog', 'anything'], [['rabbit'], ['rabbit'], ['cat', 'Dog'], null]);
    expect(scores[0]).toEqual({ exactMatch: 100, rougeL: 100 });
    // SNI normalisation keeps articles: no exact match; ROUGE-L P = 1/2, R = 1 -> F = 2/3
    expect(scores[1]!.exactMatch).toBe(0);
    expect(scores[1]!.rougeL).toBeCloseTo(200 / 3, 10);
    // the best over the references, case-insensitive
    expect(scores[2]).toEqual({ exactMatch: 100, rougeL: 100 });
    // a line with no known answer is not scored
    expect(scores[3]).toBeNull();
  });

  it('treats an empty reference list as unknown and keeps one entry per answer', () => {
    expect(scoreAnswers(['a', 'b'], [[], null])).toEqual([null, null]);
  });
});
