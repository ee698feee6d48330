import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { normalizedScore, pickChoice, rankAccuracy, rankClassify, t0Average, type ChoiceScorer } from './rank.js';

// Hand-made log-likelihoods where the two normalisations disagree:
//   short: sum -2 over 1 token  -> mean -2
//   long:  sum -3 over 3 tokens -> mean -1
// sum picks 'short' (-2 > -3); mean picks 'long' (-1 > -2).
const short = { sum: -2, tokens: 1 };
const long = { sum: -3, tokens: 3 };

describe('pickChoice', () => {
  it('sum and mean normalisation pick different choices on hand-computed scores', () => {
    expect(pickChoice([short, long], 'sum')).toBe(0);
    expect(pickChoice([short, long], 'mean')).toBe(1);
    expect(normalizedScore(long, 'mean')).toBe(-1);
    expect(normalizedScore(long, 'sum')).toBe(-3);
  });

  it('breaks ties towards the first maximal choice (argmax)', () => {
    // means: -4/2 = -2, -2/1 = -2, -9/3 = -3 -> tie between 0 and 1
    expect(
      pickChoice(
        [
          { sum: -4, tokens: 2 },
          { sum: -2, tokens: 1 },
          { sum: -9, tokens: 3 },
        ],
        'mean',
      ),
    ).toBe(0);
    // sums: -5, -2, -2 -> tie between 1 and 2
    expect(
      pickChoice(
        [
          { sum: -5, tokens: 1 },
          { sum: -2, tokens: 1 },
          { sum: -2, tokens: 4 },
        ],
        'sum',
      ),
    ).toBe(1);
    // the same sums under mean: -5, -2, -0.5 -> 2
    expect(
      pickChoice(
        [
          { sum: -5, tokens: 1 },
          { sum: -2, tokens: 1 },
          { sum: -2, tokens: 4 },
        ],
        'mean',
      ),
    ).toBe(2);
    // all -Infinity: the first
    expect(
      pickChoice(
        [
          { sum: -Infinity, tokens: 1 },
          { sum: -Infinity, tokens: 2 },
        ],
        'sum',
      ),
    ).toBe(0);
  });

  it('rejects NaN, zero-token means and empty lists with named arguments', () => {
    expect(() => pickChoice([], 'sum')).toThrow(EvalInputError);
    expect(() => pickChoice([{ sum: Number.NaN, tokens: 1 }])).toThrow(/scores\[0\]\.sum/);
    expect(() => pickChoice([short, { sum: -1, tokens: 0 }], 'mean')).toThrow(/scores\[1\]\.tokens/);
    expect(pickChoice([short, { sum: -1, tokens: 0 }], 'sum')).toBe(1);
  });
});

describe('rankAccuracy / rankClassify', () => {
  const examples = [
    { input: 'q1', choices: ['yes', 'no'], label: 1 },
    { input: 'q2', choices: ['a', 'b', 'c'], label: 0 },
    { input: 'q3', choices: ['x', 'y'], label: [0, 1] },
    { input: 'q4', choices: ['p', 'q'], label: 0 },
  ];
  // scores by (input, choice), chosen by hand:
  //   q1: yes -2/1 (mean -2), no -3/3 (mean -1)  -> sum: yes (wrong), mean: no (right)
  //   q2: a -1/1, b -1/1, c -4/2                 -> tie a/b -> a under both (right)
  //   q3: x -6/2 (mean -3), y -5/1 (mean -5)     -> sum: y, mean: x; both gold -> right
  //   q4: p -10/5 (mean -2), q -3/1 (mean -3)    -> sum: q (wrong), mean: p (right)
  const table: Record<string, Record<string, { sum: number; tokens: number }>> = {
    q1: { yes: { sum: -2, tokens: 1 }, no: { sum: -3, tokens: 3 } },
    q2: { a: { sum: -1, tokens: 1 }, b: { sum: -1, tokens: 1 }, c: { sum: -4, tokens: 2 } },
    q3: { x: { sum: -6, tokens: 2 }, y: { sum: -5, tokens: 1 } },
    q4: { p: { sum: -10, tokens: 5 }, q: { sum: -3, tokens: 1 } },
  };
  const calls: number[] = [];
  const scorer: ChoiceScorer = async (inputs, choices) => {
    calls.push(inputs.length);
    return inputs.map((input, i) => (choices[i] ?? []).map((c) => table[input]![c]!));
  };

  it('mean normalisation: 4/4 correct; sum normalisation: 2/4 (hand count)', async () => {
    const mean = await rankClassify(examples, scorer, { normalization: 'mean', batchSize: 3 });
    expect(mean.predictions).toEqual([1, 0, 0, 0]);
    expect(mean.accuracy).toBe(100);
    expect(calls).toEqual([3, 1]);
    const sum = await rankClassify(examples, scorer, { normalization: 'sum' });
    expect(sum.predictions).toEqual([0, 0, 1, 1]);
    expect(sum.correct).toEqual([false, true, true, false]);
    expect(sum.accuracy).toBe(50);
  });

  it('checks the scorer output shape and the labels', async () => {
    await expect(rankClassify(examples, () => [])).rejects.toThrow(/scorer result/);
    await expect(rankClassify([{ input: 'q', choices: ['a'], label: 1 }], scorer)).rejects.toThrow(/examples\[0\]\.label/);
    expect(() => rankAccuracy([[short]], [])).toThrow(/labels/);
  });
});

describe('t0Average', () => {
  it('means over templates per dataset, then over datasets (hand count)', () => {
    const s = t0Average([
      { dataset: 'rte', template: 't1', accuracy: 60 },
      { dataset: 'rte', template: 't2', accuracy: 70 },
      { dataset: 'rte', template: 't3', accuracy: 90 },
      { dataset: 'cb', template: 't1', accuracy: 40 },
    ]);
    // rte mean (60+70+90)/3 = 73.333..., median 70; cb 40; overall (73.333... + 40)/2 = 56.666...
    expect(s.datasets.map((d) => d.dataset)).toEqual(['rte', 'cb']);
    expect(s.datasets[0]!.mean).toBeCloseTo(220 / 3, 12);
    expect(s.datasets[0]!.median).toBe(70);
    expect(s.average).toBeCloseTo((220 / 3 + 40) / 2, 12);
    // not the pooled mean over all four template runs (65)
    expect(s.average).not.toBeCloseTo(65, 3);
  });
});
