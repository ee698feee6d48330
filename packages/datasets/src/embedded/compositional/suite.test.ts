import { describe, expect, it } from 'vitest';
import { baselineTable } from '../baselines.js';
import { embeddedSuite, suiteTexts } from '../suite.js';
import { generateCompositionalSuite, inputAnalysis, type CompositionalSuite, type CompositionalSuiteName, type CompositionalTask } from './suite.js';

// ---------------------------------------------------------------------------------------------
// An independent statement of the suite's rules, written from the README's family table and not
// from the generator: the lexicon as plain data (class -> its three opposite pairs) and each family
// as a function of the task's metadata (operations, arguments) and the input words.

const PAIRS: Record<string, [string, string][]> = {
  color: [
    ['red', 'green'],
    ['blue', 'orange'],
    ['yellow', 'purple'],
  ],
  person: [
    ['man', 'woman'],
    ['boy', 'girl'],
    ['prince', 'princess'],
  ],
  relative: [
    ['mother', 'father'],
    ['sister', 'brother'],
    ['son', 'daughter'],
  ],
  direction: [
    ['north', 'south'],
    ['east', 'west'],
    ['up', 'down'],
  ],
  location: [
    ['top', 'bottom'],
    ['front', 'back'],
    ['inside', 'outside'],
  ],
  time: [
    ['day', 'night'],
    ['summer', 'winter'],
    ['morning', 'evening'],
  ],
  adjective: [
    ['big', 'small'],
    ['hot', 'cold'],
    ['fast', 'slow'],
  ],
  verb: [
    ['open', 'close'],
    ['push', 'pull'],
    ['buy', 'sell'],
  ],
};
const CLASS = new Map<string, string>();
const OPP = new Map<string, string>();
for (const [c, pairs] of Object.entries(PAIRS))
  for (const [a, b] of pairs) {
    CLASS.set(a, c);
    CLASS.set(b, c);
    OPP.set(a, b);
    OPP.set(b, a);
  }
const NUM = ['zero', 'one', 'two', 'three', 'four', 'five', 'six'];
const ORD: Record<string, number> = { first: 0, second: 1, third: 2, fourth: 3 };

function at(words: string[], pos: string): string {
  const i = pos === 'last' ? words.length - 1 : ORD[pos];
  if (i === undefined) throw new Error(`position ${pos}`);
  return words[i] ?? 'none';
}
function mapped(word: string | undefined, how: string): string {
  if (word === undefined) return 'none';
  if (how === 'itself') return word;
  const out = how === 'category' ? CLASS.get(word) : how === 'opposite' ? OPP.get(word) : undefined;
  if (out === undefined) throw new Error(`cannot map ${word} by ${how}`);
  return out;
}
function question(words: string[], q: string, hit: (w: string) => boolean): string {
  if (q === 'count') return NUM[words.filter(hit).length] ?? '?';
  if (q === 'contains') return words.some(hit) ? 'yes' : 'no';
  const i = words.findIndex(hit);
  return i < 0 ? 'none' : (NUM[i + 1] ?? '?');
}
function firstOf(words: string[], cls: string): number {
  return words.findIndex((w) => CLASS.get(w) === cls);
}
function expected(t: CompositionalTask, input: string): string {
  const w = input.split(' ');
  const [op0 = '', op1 = ''] = t.operations;
  const arg = t.arguments[0] ?? '';
  switch (t.family) {
    case 'position_map':
      return mapped(at(w, op0), arg);
    case 'class_map': {
      const members = w.filter((x) => CLASS.get(x) === arg);
      return mapped(op0 === 'first' ? members[0] : members[members.length - 1], op1);
    }
    case 'class_question':
      return question(w, op0, (x) => CLASS.get(x) === arg);
    case 'position_is_class':
      return CLASS.get(at(w, op0)) === arg ? 'yes' : 'no';
    case 'neighbor':
    case 'neighbor_map': {
      const i = firstOf(w, arg);
      const n = i < 0 ? undefined : w[op0 === 'after' ? i + 1 : i - 1];
      return t.family === 'neighbor' ? (n ?? 'none') : mapped(n, op1);
    }
    case 'word_question':
      return question(w, op0, (x) => x === arg);
    case 'word_neighbor': {
      const i = w.indexOf(arg);
      return i < 0 ? 'none' : (w[op0 === 'after' ? i + 1 : i - 1] ?? 'none');
    }
    default:
      throw new Error(`no reference rule for family ${t.family}`);
  }
}

const words = (s: string): string[] => s.match(/[A-Za-z]+/g) ?? [];
/** Every training text: training tasks' definitions, examples, instances, and the base-pretraining text and pairs. */
function trainingTexts(suite: CompositionalSuite): string[] {
  const out: string[] = [...suite.pretrainingText, ...suite.pretrainingPairs.flatMap((p) => [p.input, p.target])];
  for (const t of suite.train) {
    out.push(t.taskId, ...t.definition);
    for (const e of [...t.positiveExamples, ...t.negativeExamples]) out.push(e.input, e.output, e.explanation ?? '');
    for (const i of t.instances) out.push(i.input, ...i.outputs);
  }
  return out;
}

// what each version promises: its size, held-out combinations and default instance counts
const VERSIONS: { name: CompositionalSuiteName; train: number; heldOutCombination: number; instances: [number, number, number] }[] = [
  { name: 'compositional-v1', train: 128, heldOutCombination: 47, instances: [64, 24, 16] },
  { name: 'compositional-v2', train: 166, heldOutCombination: 153, instances: [256, 32, 16] },
];

it("embeddedSuite() is 'compositional-v2'; 'compositional-v1' stays loadable by name, unchanged", () => {
  expect(embeddedSuite().name).toBe('compositional-v2');
  expect(embeddedSuite({ name: 'compositional-v1' }).name).toBe('compositional-v1');
});

describe.each(VERSIONS)('$name', (version) => {
  const suite = embeddedSuite({ name: version.name, seed: 0 });
  const generate = (seed: number) => generateCompositionalSuite({ seed }, version.name);

  it('has the advertised splits and sizes', () => {
    expect(suite.name).toBe(version.name);
    expect(suite.train.length).toBe(version.train);
    expect(suite.heldOutCombination.length).toBe(version.heldOutCombination);
    expect(suite.heldOutFamily.length).toBeGreaterThan(0);
    expect(suite.heldOutFamily.length).toBeLessThan(suite.heldOutCombination.length);
    expect(suite.heldOut).toEqual([...suite.heldOutCombination, ...suite.heldOutFamily]);
    expect(suite.tasks.length).toBe(suite.train.length + suite.heldOut.length);
    const [train, held, seen] = version.instances;
    for (const t of suite.train) expect(t.instances.length).toBe(train);
    for (const t of suite.heldOut) expect(t.instances.length).toBe(held);
    for (const t of suite.seenEval) expect(t.instances.length).toBe(seen);
    const byFamily = new Map(suite.categories.map((c) => [c.name, c]));
    for (const t of suite.tasks) expect(byFamily.has(t.family), t.taskId).toBe(true);
  });

  it('labels every task with family, operations, arguments and split, consistently', () => {
    for (const t of suite.tasks) {
      expect(t.category).toBe(t.family);
      expect(t.operations.length).toBeGreaterThan(0);
      expect(t.arguments.length).toBeGreaterThan(0);
      expect(t.split).toBe(t.splitName === 'train' ? 'train' : 'heldout');
      expect(t.heldOutReason).toBe(t.splitName === 'train' ? undefined : t.splitName === 'heldout-family' ? 'family' : 'combination');
    }
    expect(new Set(suite.tasks.map((t) => t.taskId)).size).toBe(suite.tasks.length);
  });

  it("holds out combinations Latin-square style: each one's operation and argument are trained in other combinations", () => {
    for (const t of suite.heldOutCombination) {
      const family = suite.train.filter((x) => x.family === t.family);
      const sameOp = family.filter((x) => x.operations.join() === t.operations.join());
      const sameArg = family.filter((x) => x.arguments.join() === t.arguments.join());
      expect(sameOp.length, `${t.taskId}: operation trained with other arguments`).toBeGreaterThan(0);
      expect(sameArg.length, `${t.taskId}: argument trained with other operations`).toBeGreaterThan(0);
    }
    // the held-out family: no training task, but every primitive it composes is trained elsewhere
    const trainPrimitives = new Set(suite.train.flatMap((x) => [...x.operations, ...x.arguments]));
    for (const t of suite.heldOutFamily) {
      expect(suite.train.some((x) => x.family === t.family)).toBe(false);
      for (const p of [...t.operations, ...t.arguments]) expect(trainPrimitives.has(p), `${t.taskId}: ${p}`).toBe(true);
    }
  });

  it('(a) uses in every held-out instruction only words that occur in some training instruction', () => {
    const trained = new Set(suite.train.flatMap((t) => t.definition.flatMap(words)));
    const missing = suite.heldOut.flatMap((t) =>
      t.definition.flatMap((d) =>
        words(d)
          .filter((w) => !trained.has(w))
          .map((w) => `${t.taskId}: ${w}`),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('(b) never shows a held-out task id, instruction, example or instance in any training text (base pretraining included)', () => {
    const texts = trainingTexts(suite);
    const joined = `\n${texts.join('\n')}\n`;
    // every run of 4-6 words of every training text, punctuation dropped: the strictest reading of "appears"
    const runs = new Set<string>();
    for (const s of texts) {
      const w = words(s);
      for (let i = 0; i < w.length; i++) for (let j = i + 4; j <= Math.min(w.length, i + 6); j++) runs.add(w.slice(i, j).join(' '));
    }
    const leaks: string[] = [];
    for (const t of suite.heldOut) {
      // the id as a whole word ('…_prince' is not leaked by a training task '…_princess')
      if (new RegExp(`\\b${t.taskId}\\b`).test(joined)) leaks.push(`id ${t.taskId}`);
      for (const d of t.definition) if (joined.includes(d)) leaks.push(`definition ${d}`);
      for (const x of [...t.instances, ...t.positiveExamples, ...t.negativeExamples]) if (runs.has(x.input)) leaks.push(`${t.taskId} input ${x.input}`);
    }
    for (const t of suite.seenEval) for (const x of t.instances) if (runs.has(x.input)) leaks.push(`seen-eval ${x.id} input ${x.input}`);
    expect(leaks).toEqual([]);
  });

  it('gives seen-task evaluation instances of exactly the training tasks, never trained on', () => {
    expect(suite.seenEval.map((t) => t.taskId)).toEqual(suite.train.map((t) => t.taskId));
    suite.seenEval.forEach((t, k) => {
      const tr = suite.train[k] as CompositionalTask;
      expect(t.definition).toEqual(tr.definition);
      const trained = new Set(tr.instances.map((i) => i.input));
      for (const i of t.instances) expect(trained.has(i.input)).toBe(false);
    });
  });

  it('(c) is deterministic per seed, and a different seed gives different instances over the same tasks', () => {
    const again = generate(0);
    expect(again).not.toBe(suite);
    expect(JSON.stringify(again)).toBe(JSON.stringify(suite));
    const other = generate(1);
    expect(other.tasks.map((t) => [t.taskId, t.definition])).toEqual(suite.tasks.map((t) => [t.taskId, t.definition]));
    expect(JSON.stringify(other.tasks)).not.toBe(JSON.stringify(suite.tasks));
    expect(JSON.stringify(other.pretrainingText)).not.toBe(JSON.stringify(suite.pretrainingText));
  });

  it("computes every output by its task's rule (independent re-implementation) and every negative example differs", () => {
    const wrong: string[] = [];
    for (const t of [...suite.tasks, ...suite.seenEval]) {
      for (const i of t.instances)
        if (expected(t, i.input) !== i.outputs[0]) wrong.push(`${i.id}: ${i.input} -> ${i.outputs[0]} (want ${expected(t, i.input)})`);
      for (const e of t.positiveExamples) if (expected(t, e.input) !== e.output) wrong.push(`${t.taskId} positive ${e.input} -> ${e.output}`);
      for (const e of t.negativeExamples) if (expected(t, e.input) === e.output) wrong.push(`${t.taskId} negative ${e.input} -> ${e.output} is right`);
      for (const i of t.instances.slice(0, 4)) expect(suite.solve(t.taskId, i.input)).toBe(expected(t, i.input));
    }
    expect(wrong).toEqual([]);
  });

  it('keeps inputs to 4-6 lexicon words, outputs to one word (never "none"), all inputs distinct suite-wide', () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    // seen-evaluation tasks repeat their training task's examples (the same instruction), not its instances
    const rows = [
      ...suite.tasks.flatMap((t) => [...t.instances, ...t.positiveExamples.map((e) => ({ id: t.taskId, input: e.input, outputs: [e.output] }))]),
      ...suite.seenEval.flatMap((t) => t.instances),
    ];
    for (const x of rows) {
      const w = x.input.split(' ');
      if (w.length < 4 || w.length > 6 || w.some((y) => !CLASS.has(y))) problems.push(`${x.id}: input ${x.input}`);
      const out = x.outputs[0] ?? '';
      if (!/^[a-z]+$/.test(out) || out === 'none') problems.push(`${x.id}: output ${out}`);
      if (seen.has(x.input)) problems.push(`${x.id}: repeated input ${x.input}`);
      seen.add(x.input);
    }
    expect(problems).toEqual([]);
  });

  it('makes the instruction decide: balanced yes/no, varied counts, one input answered many ways', () => {
    for (const t of suite.train) {
      const outs = t.instances.map((i) => i.outputs[0]);
      const share = (v: string) => outs.filter((o) => o === v).length / outs.length;
      if (outs.includes('yes') || outs.includes('no')) expect(Math.min(share('yes'), share('no')), t.taskId).toBeGreaterThan(0.25);
      expect(new Set(outs).size, t.taskId).toBeGreaterThanOrEqual(2);
    }
    const input = suite.seenEval[0]?.instances[0]?.input ?? '';
    expect(new Set(suite.train.map((t) => suite.solve(t.taskId, input))).size).toBeGreaterThan(15);
  });

  it('writes base-pretraining text from training tasks only, with no instruction-answer pair in it', () => {
    const trainDefs = new Set(suite.train.flatMap((t) => t.definition));
    const heldDefs = new Set(suite.heldOut.flatMap((t) => t.definition));
    const bad: string[] = [];
    for (const doc of suite.pretrainingText) {
      if (/Input:|Output:|Definition:/.test(doc) || heldDefs.has(doc)) bad.push(doc);
      // a definition stands alone: no document holds a training definition plus anything else
      for (const d of trainDefs) if (doc !== d && doc.includes(d)) bad.push(doc);
    }
    expect(bad).toEqual([]);
    expect(suite.pretrainingText.some((d) => d.startsWith('The opposite of red is green'))).toBe(true);
    expect(suite.pretrainingText.some((d) => d.startsWith('In the words '))).toBe(true);
    expect([...suiteTexts(suite)]).toEqual(expect.arrayContaining([...suite.pretrainingText.slice(0, 5)]));
  });

  it('gives instruction-free base-pretraining pairs: every training input → itself and → its word-by-word analysis, nothing held out', () => {
    const trainInputs = new Set(suite.train.flatMap((t) => [...t.instances, ...t.positiveExamples, ...t.negativeExamples].map((x) => x.input)));
    // (seen-evaluation tasks repeat their training task's demonstrations; their instances are fresh)
    const heldOrSeen = new Set(
      [...suite.heldOut.flatMap((t) => [...t.instances, ...t.positiveExamples, ...t.negativeExamples]), ...suite.seenEval.flatMap((t) => t.instances)].map(
        (x) => x.input,
      ),
    );
    const pairInputs = new Set(suite.pretrainingPairs.map((p) => p.input));
    expect(pairInputs).toEqual(trainInputs);
    for (const i of pairInputs) expect(heldOrSeen.has(i), i).toBe(false);
    // the reference analysis, from the README's lexicon table (PAIRS above), not from the generator
    const POS = ['one', 'two', 'three', 'four', 'five', 'six'];
    const reference = (input: string) =>
      input
        .split(' ')
        .map((w, i) => `${POS[i]} ${w} ${CLASS.get(w)} ${OPP.get(w)}`)
        .join(' ');
    const targets = new Map<string, Set<string>>();
    for (const p of suite.pretrainingPairs) targets.set(p.input, (targets.get(p.input) ?? new Set()).add(p.target));
    for (const [input, ts] of targets) expect([...ts].sort(), input).toEqual([input, reference(input)].sort());
    expect(inputAnalysis('red north man day')).toBe('one red color green two north direction south three man person woman four day time night');
    expect(() => inputAnalysis('red dragon')).toThrow(/dragon/);
    // nothing in a pair names a task or follows an instruction: targets are made of input words, class names, opposites and positions
    const allowed = new Set([...CLASS.keys(), ...Object.keys(PAIRS), ...POS]);
    for (const p of suite.pretrainingPairs.slice(0, 500)) for (const w of p.target.split(' ')) expect(allowed.has(w), w).toBe(true);
    // deterministic, and part of the tokenizer's texts
    expect(generate(0).pretrainingPairs).toEqual(suite.pretrainingPairs);
    expect([...suiteTexts(suite)]).toEqual(expect.arrayContaining([reference(suite.train[0]!.instances[0]!.input)]));
  });

  it('leaves the model-free baselines far below the oracle on every split', () => {
    const rows = baselineTable(suite);
    const get = (b: string, s: string) => rows.find((r) => r.baseline === b && r.split === s)?.rougeL ?? NaN;
    for (const s of ['seen', 'heldout-combination', 'heldout-family']) {
      expect(get('oracle', s)).toBe(100);
      for (const b of ['copy input', 'majority output', 'instruction-blind (best single rule)', 'instruction-blind (per-input vote)'])
        expect(get(b, s), `${b} ${s}`).toBeLessThan(35);
    }
  });

  it('rejects bad options naming the option', () => {
    expect(() => embeddedSuite({ name: version.name, seenEvalInstances: -1 })).toThrow(/seenEvalInstances/);
    expect(() => embeddedSuite({ name: version.name, trainInstances: 0 })).toThrow(/trainInstances/);
    expect(() => embeddedSuite({ name: version.name, seed: 0.5 })).toThrow(/seed/);
  });
});
