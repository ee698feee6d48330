import { describe, expect, it } from 'vitest';
import {
  computeGroupedMetrics,
  computeMetrics,
  EvalInputError,
  evaluateRecords,
  exactMatch,
  normalizeAnswer,
  pythonRound,
  rougeL,
  rougeTokenize,
  sniCategoryKey,
} from './index.js';
import roundFixture from '../__fixtures__/rouge/python-round.json' with { type: 'json' };

describe('bad input (documented in metrics.ts)', () => {
  it('predictions and references of different lengths: the reference asserts, we throw naming both', () => {
    expect(() => computeMetrics(['a', 'b'], [['a']])).toThrow(EvalInputError);
    expect(() => computeMetrics(['a', 'b'], [['a']])).toThrow(/references: expected one reference list per prediction \(2 predictions\)/);
    expect(() => computeGroupedMetrics(['a'], [['a']], ['t', 'u'])).toThrow(/groups/);
  });

  it('a non-string prediction or reference is rejected with its index', () => {
    expect(() => computeMetrics(['a', 5 as unknown as string], [['a'], ['b']])).toThrow(/predictions\[1\]: expected a string, got 5/);
    expect(() => computeMetrics(['a'], [['a', null as unknown as string]])).toThrow(/references\[0\]\[1\]/);
    expect(() => rougeL(undefined as unknown as string, ['x'])).toThrow(/prediction: expected a string/);
    expect(() => computeMetrics(['a'], ['a' as unknown as string[]])).toThrow(/references\[0\]: expected an array/);
  });

  it('an empty reference list: max([]) raises in the reference, we throw', () => {
    expect(() => rougeL('a', [])).toThrow(/references: expected at least one reference/);
    expect(() => exactMatch('a', [])).toThrow(EvalInputError);
    expect(() => computeMetrics(['a'], [[]])).toThrow(/references\[0\]/);
  });

  it('zero instances: the reference divides by zero, we throw', () => {
    expect(() => computeMetrics([], [])).toThrow(/at least one instance/);
  });

  it('empty strings follow the reference: ROUGE 0, exact match on normalised strings', () => {
    expect(rougeL('', [''])).toBe(0);
    expect(exactMatch('', [''])).toBe(100);
    expect(exactMatch('...', ['???'])).toBe(100);
  });
});

describe('normalizeAnswer / rougeTokenize details', () => {
  it("uses Python's whitespace set, not JS's \\s", () => {
    // U+001F and U+0085 are whitespace to Python's str.split(); U+FEFF is not (JS \s says the opposite)
    expect(normalizeAnswer('a\u001fb\u0085c')).toBe('a b c');
    expect(normalizeAnswer('a\ufeffb')).toBe('a\ufeffb');
  });
  it('removes ASCII punctuation only, before splitting, and keeps articles', () => {
    expect(normalizeAnswer('The  e.g. “x”')).toBe('the eg “x”');
    expect(normalizeAnswer('state-of-the-art')).toBe('stateoftheart');
  });
  it('treats everything outside [a-z0-9] as a separator', () => {
    expect(rougeTokenize('naïve_Zürich-2nd', { stem: false })).toEqual(['na', 've', 'z', 'rich', '2nd']);
  });
});

describe('pythonRound', () => {
  it("matches CPython's round(x, 4) on the fixture, including exact ties", () => {
    for (const [x, r] of roundFixture.cases as [number, number][]) expect(pythonRound(x, 4)).toBe(r);
    expect(pythonRound(0.03125, 4)).toBe(roundFixture.cases.find(([x]) => x === 0.03125)![1]);
  });
});

describe('grouping', () => {
  const predictions = ['yes', 'the cat', 'no', 'a dog ran'];
  const references = [['Yes'], ['cat'], ['yes'], ['the dog runs', 'a dog']];
  const tasks = ['t1', 't2', 't1', 't2'];

  it('computeGroupedMetrics equals computeMetrics on each group, in first-seen order', () => {
    const grouped = computeGroupedMetrics(predictions, references, tasks);
    expect([...grouped.keys()]).toEqual(['t1', 't2']);
    expect(grouped.get('t1')).toEqual(computeMetrics(['yes', 'no'], [['Yes'], ['yes']]));
    expect(grouped.get('t2')).toEqual(computeMetrics(['the cat', 'a dog ran'], [['cat'], ['the dog runs', 'a dog']]));
    // hand count for t1: EM (1 + 0)/2 = 50
    expect(grouped.get('t1')!.exactMatch).toBe(50);
  });

  it('evaluateRecords groups by task and by SNI category key', () => {
    const report = evaluateRecords(
      predictions.map((p, i) => ({
        prediction: p,
        references: references[i]!,
        task: tasks[i]!,
        category: i % 2 === 0 ? 'Textual  Entailment' : 'Title Generation',
      })),
    );
    expect(report.overall).toEqual(computeMetrics(predictions, references));
    expect([...report.byCategory.keys()]).toEqual(['textual_entailment', 'title_generation']);
    expect(report.byCategory.get('textual_entailment')).toEqual(report.byTask.get('t1'));
    expect(sniCategoryKey(' Question Rewriting ')).toBe('question_rewriting');
  });
});
