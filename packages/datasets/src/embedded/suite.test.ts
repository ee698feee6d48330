import { describe, expect, it } from 'vitest';
import { tagiExamples } from '../instruction.js';
import { buildPrompt } from '../prompts.js';
import { embeddedBaselines } from './baselines.js';
import { CLASS_NAMES, WORD_CLASSES, inputVocabulary } from './lexicon.js';
import { embeddedSuite, generateSuite } from './suite.js';

const suite = embeddedSuite({ name: 'lexical-v1', seed: 0 });

describe("embeddedSuite({ name: 'lexical-v1' })", () => {
  it('is deterministic for a seed and changes with the seed', () => {
    const again = generateSuite({ seed: 0 });
    expect(again.name).toBe('lexical-v1');
    expect(again).not.toBe(suite);
    expect(JSON.stringify(again.tasks)).toBe(JSON.stringify(suite.tasks));
    const other = embeddedSuite({ name: 'lexical-v1', seed: 1 });
    expect(other.tasks.map((t) => t.taskId)).toEqual(suite.tasks.map((t) => t.taskId));
    expect(JSON.stringify(other.tasks)).not.toBe(JSON.stringify(suite.tasks));
  });

  it('has the advertised size: 20-40 categories, a few hundred tasks', () => {
    expect(suite.categories.length).toBeGreaterThanOrEqual(20);
    expect(suite.categories.length).toBeLessThanOrEqual(40);
    expect(suite.tasks.length).toBeGreaterThanOrEqual(200);
    expect(suite.train.length + suite.heldOut.length).toBe(suite.tasks.length);
    for (const t of suite.train) expect(t.instances.length).toBe(60);
    // Two-number arithmetic has few distinct inputs; every other held-out task is full.
    for (const t of suite.heldOut) expect(t.instances.length).toBeGreaterThanOrEqual(20);
  });

  it('gives every task 3+ distinct definitions, 3 positive and 2 negative examples with explanations', () => {
    for (const t of suite.tasks) {
      expect(new Set(t.definition).size, t.taskId).toBeGreaterThanOrEqual(3);
      expect(t.positiveExamples.length, t.taskId).toBe(3);
      expect(t.negativeExamples.length, t.taskId).toBe(2);
      for (const e of [...t.positiveExamples, ...t.negativeExamples]) expect(e.explanation).toBeTruthy();
    }
  });

  it('labels positives with the rule and negatives with a different answer', () => {
    for (const t of suite.tasks) {
      for (const e of t.positiveExamples) expect(e.output).toBe(suite.solve(t.taskId, e.input));
      for (const e of t.negativeExamples) expect(e.output, t.taskId).not.toBe(suite.solve(t.taskId, e.input));
    }
  });

  it('keeps inputs short (<= 20 words, from the lexicon) and outputs 1-6 words', () => {
    const vocab = new Set(inputVocabulary());
    const problems: string[] = [];
    for (const t of suite.tasks)
      for (const inst of t.instances) {
        const words = inst.input.split(' ');
        if (words.length > 20) problems.push(`${inst.id}: ${words.length} input words`);
        for (const w of words) if (!vocab.has(w)) problems.push(`${inst.id}: "${w}" not in the lexicon`);
        const out = inst.outputs[0] ?? '';
        const n = out.split(' ').length;
        if (out === '' || n > 6) problems.push(`${inst.id}: output "${out}"`);
      }
    expect(problems).toEqual([]);
  });

  it('gives every task its own instruction text', () => {
    const defs = suite.tasks.flatMap((t) => t.definition);
    expect(new Set(defs).size).toBe(defs.length);
  });

  it('has unique task ids, unique instance ids and unique inputs within a task', () => {
    expect(new Set(suite.tasks.map((t) => t.taskId)).size).toBe(suite.tasks.length);
    const ids = suite.tasks.flatMap((t) => t.instances.map((i) => i.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of suite.tasks) {
      const inputs = [...t.instances, ...t.positiveExamples, ...t.negativeExamples].map((i) => i.input);
      expect(new Set(inputs).size, t.taskId).toBe(inputs.length);
    }
  });

  it('never shows a held-out instruction in training, and holds out both whole categories and parameters', () => {
    const trainDefs = new Set(suite.train.flatMap((t) => t.definition));
    for (const t of suite.heldOut) for (const d of t.definition) expect(trainDefs.has(d), d).toBe(false);
    const wholeCats = suite.categories.filter((c) => c.heldOut);
    expect(wholeCats.length).toBeGreaterThanOrEqual(2);
    for (const c of wholeCats) expect(c.trainTasks).toBe(0);
    expect(suite.heldOut.some((t) => t.heldOutReason === 'parameter')).toBe(true);
    const trainCats = new Set(suite.train.map((t) => t.category));
    for (const t of suite.heldOut) expect(trainCats.has(t.category)).toBe(t.heldOutReason === 'parameter');
  });

  it('solves hand-checked cases', () => {
    const cases: [string, string, string][] = [
      ['emb_kth_word_k3', 'red cat two tea box', 'two'],
      ['emb_kth_from_end_k1', 'red cat two tea box', 'box'],
      ['emb_first_of_class_animal', 'red cat two dog box', 'cat'],
      ['emb_last_of_class_animal', 'red cat two dog box', 'dog'],
      ['emb_kth_of_class_k2_color', 'red cat blue green', 'blue'],
      ['emb_filter_class_color', 'red cat two blue box', 'red blue'],
      ['emb_remove_class_food', 'tea cat milk box', 'cat box'],
      ['emb_filter_reverse_color', 'red cat two blue box', 'blue red'],
      ['emb_count_class_number', 'one cat two blue', 'two'],
      ['emb_count_word_cat', 'cat dog cat', 'two'],
      ['emb_contains_word_milk', 'tea cat milk', 'yes'],
      ['emb_contains_class_person', 'tea cat milk', 'no'],
      ['emb_compare_counts_animal_color', 'cat dog red', 'yes'],
      ['emb_position_of_class_food', 'cat dog tea', 'three'],
      ['emb_word_after_color', 'cat red dog blue', 'dog'],
      ['emb_word_before_color', 'cat red dog blue', 'cat'],
      ['emb_replace_word_cat_dog', 'cat tea cat', 'dog tea dog'],
      ['emb_replace_class_animal_cat', 'dog tea fish', 'cat tea cat'],
      ['emb_prefix_copy_hello', 'cat tea', 'hello cat tea'],
      ['emb_suffix_copy_now', 'cat tea', 'cat tea now'],
      ['emb_reorder_reverse', 'cat tea box', 'box tea cat'],
      ['emb_reorder_alphabetical', 'cat tea box', 'box cat tea'],
      ['emb_dedupe_dedupe', 'cat tea cat box', 'cat tea box'],
      ['emb_swap_ends_swap_ends', 'cat tea box', 'box tea cat'],
      ['emb_span_last3', 'a1 cat tea box'.replace('a1', 'red'), 'cat tea box'],
      ['emb_alternate_even', 'red cat tea box', 'cat box'],
      ['emb_repeat_word_k2_n3', 'red cat tea', 'cat cat cat'],
      ['emb_map_relation_opposite', 'hot big', 'cold small'],
      ['emb_map_relation_plural', 'cat box', 'cats boxes'],
      ['emb_map_relation_category', 'cat red', 'animal color'],
      ['emb_map_relation_digit', 'three nine', '3 9'],
      ['emb_map_relation_previous', 'three', 'two'],
      ['emb_map_kth_gender_k2', 'red boy tea', 'girl'],
      ['emb_number_extreme_smallest', 'cat seven two five', 'two'],
      ['emb_arithmetic_sum', 'three four', 'seven'],
      ['emb_arithmetic_difference', 'three nine', 'six'],
      ['emb_length_extreme_longest', 'cat horse mouse', 'horse'],
      ['emb_kth_is_class_k2_animal', 'red cat tea', 'yes'],
    ];
    for (const [task, input, output] of cases) expect(suite.solve(task, input), task).toBe(output);
  });

  it('makes the instruction matter: one input gets many different answers across tasks', () => {
    const input = 'red cat two tea box dog';
    const answers = new Set(
      suite.train.map((t) => {
        try {
          return suite.solve(t.taskId, input);
        } catch {
          return '';
        }
      }),
    );
    expect(answers.size).toBeGreaterThan(50);
  });

  it('gives model-free baselines far below the oracle on held-out tasks', () => {
    const b = embeddedBaselines(suite);
    // The first 10 instances of every held-out task keep the per-input vote (192 rules each) quick.
    const em = (f: (typeof b)['oracle']) => {
      let s = 0;
      let n = 0;
      for (const t of suite.heldOut)
        for (const inst of t.instances.slice(0, 10)) {
          s += inst.outputs.includes(f(t, inst.input)) ? 1 : 0;
          n++;
        }
      return s / n;
    };
    expect(em(b.oracle)).toBe(1);
    expect(em(b.copy)).toBeLessThan(0.05);
    expect(em(b.majority)).toBeLessThan(0.3);
    expect(em(b.instructionBlind)).toBeLessThan(0.3);
    expect(em(b.instructionBlindVote)).toBeLessThan(0.3);
  });

  it('produces the TAGI split: instruction without the input, student input alone', () => {
    const task = suite.heldOut[0];
    if (task === undefined) throw new Error('no held-out task');
    const rows = tagiExamples(task, { numPositive: 2 });
    expect(rows.length).toBe(task.instances.length);
    const row = rows[0];
    if (row === undefined) throw new Error('no row');
    expect(row.studentInput).toBe(task.instances[0]?.input);
    expect(row.instruction.startsWith(`Definition: ${task.definition[0]}`)).toBe(true);
    expect(row.instruction).toContain(' Positive Example 2 -\n');
    expect(row.instruction).not.toContain('Now complete the following example');
    expect(row.concatenated).toBe(buildPrompt(task, row.studentInput, { numPositive: 2 }).source);
    expect(row.concatenated.endsWith(`Input: ${row.studentInput}.\nOutput: `)).toBe(true);
  });

  it('uses every word class', () => {
    for (const c of CLASS_NAMES) expect(WORD_CLASSES[c].length).toBeGreaterThanOrEqual(9);
  });

  it('returns the same frozen suite for the same options', () => {
    expect(embeddedSuite({ name: 'lexical-v1', seed: 0, trainInstances: 60 })).toBe(suite);
    expect(Object.isFrozen(suite.tasks[0]?.instances[0])).toBe(true);
    expect(() => (suite.train as unknown as unknown[]).push(1)).toThrow(TypeError);
  });

  it('rejects bad options naming the option', () => {
    expect(() => embeddedSuite({ name: 'lexical-v1', trainInstances: 0 })).toThrow(/trainInstances/);
    expect(() => embeddedSuite({ name: 'lexical-v1', seed: 1.5 })).toThrow(/seed/);
    expect(() => embeddedSuite({ name: 'lexical-v1', seenEvalInstances: 4 })).toThrow(/seenEvalInstances/);
    expect(() => embeddedSuite({ name: 'lexical-v2' as 'lexical-v1' })).toThrow(
      /embeddedSuite\.name: expected one of compositional-v2, compositional-v1, lexical-v1/,
    );
  });
});
