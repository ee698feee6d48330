// The compositional embedded suites ('compositional-v1', 'compositional-v2'): task families built from
// primitives (positions, classes, words, word mappings, neighbours, questions), a Latin-square split of
// held-out combinations, a held-out family, fresh evaluation instances of the training tasks, and a
// base-pretraining text drawn from training tasks only. Deterministic per seed. v2 has more held-out
// combinations (153; v1 47) and more instances per task, for statistical power (families.ts FAMILIES_V2).
import { DataRng } from '../../rng.js';
import type { TaskExample, TaskInstance } from '../../types.js';
import type { EmbeddedCategoryInfo, EmbeddedSuite, EmbeddedTask } from '../types.js';
import { FAMILIES, FAMILIES_V2, type Family } from './families.js';
import { CLASSES, CLASS_PHRASES, CLASS_WORDS, LEXICON, NUMBER_WORDS, classOfWord, oppositeOf, withArticle } from './lexicon.js';

/** The first compositional suite (the demo's until v2; kept so its runs stay comparable). */
export const COMPOSITIONAL_SUITE = 'compositional-v1';
/** The current compositional suite. */
export const COMPOSITIONAL_SUITE_V2 = 'compositional-v2';
export type CompositionalSuiteName = typeof COMPOSITIONAL_SUITE | typeof COMPOSITIONAL_SUITE_V2;

/** What distinguishes the versions: their families and default instance counts. */
interface CompositionalSpec {
  readonly families: readonly Family[];
  readonly defaults: { readonly train: number; readonly seen: number; readonly held: number };
}

const SPECS: Record<CompositionalSuiteName, CompositionalSpec> = {
  'compositional-v1': { families: FAMILIES, defaults: { train: 64, seen: 16, held: 24 } },
  // more training instances (models fit rules, not instances) and more held-out instances (narrower CIs)
  'compositional-v2': { families: FAMILIES_V2, defaults: { train: 256, seen: 16, held: 32 } },
};

/** Default instance counts of a compositional suite version. */
export function compositionalDefaults(name: CompositionalSuiteName): CompositionalSpec['defaults'] {
  return SPECS[name].defaults;
}

/** Where a task sits: trained on, or held out as a new combination or as a whole new family. */
export type CompositionalSplit = 'train' | 'heldout-combination' | 'heldout-family';

export interface CompositionalSuiteOptions {
  /** Seed of every random choice (inputs, examples). The task split does not depend on it. Default 0. */
  readonly seed?: number;
  /** Training instances per training task. Default 64 (v1) / 256 (v2). */
  readonly trainInstances?: number;
  /** Fresh instances per training task for seen-task evaluation (never trained on). Default 16. */
  readonly seenEvalInstances?: number;
  /** Instances per held-out task. Default 24 (v1) / 32 (v2). */
  readonly heldOutInstances?: number;
  /** Positive examples per task (with explanations). Default 3. */
  readonly positiveExamples?: number;
  /** Negative examples per task (with explanations). Default 2. */
  readonly negativeExamples?: number;
}

export interface CompositionalTask extends EmbeddedTask {
  readonly family: string;
  /** The primitives of the operation slot, e.g. ['first', 'opposite']. */
  readonly operations: readonly string[];
  /** The primitives of the argument slot, e.g. ['color']. */
  readonly arguments: readonly string[];
  readonly splitName: CompositionalSplit;
}

export interface CompositionalFamilyInfo extends EmbeddedCategoryInfo {
  readonly operations: readonly string[];
  readonly arguments: readonly string[];
  /** Cells of the family's grid that exist. */
  readonly cells: number;
}

export interface CompositionalSuite extends EmbeddedSuite {
  readonly name: CompositionalSuiteName;
  readonly tasks: readonly CompositionalTask[];
  readonly train: readonly CompositionalTask[];
  /** Held-out combinations followed by the held-out family. */
  readonly heldOut: readonly CompositionalTask[];
  readonly heldOutCombination: readonly CompositionalTask[];
  readonly heldOutFamily: readonly CompositionalTask[];
  /**
   * The training tasks again, each with `seenEvalInstances` fresh instances whose inputs occur
   * nowhere in training: seen-task scores measured beside held-out ones separate fitting from
   * generalising.
   */
  readonly seenEval: readonly CompositionalTask[];
  readonly categories: readonly CompositionalFamilyInfo[];
  /** Base-model pretraining documents, from training tasks only (see `compositionalPretrainingText`). */
  readonly pretrainingText: readonly string[];
  /**
   * Instruction-free base-pretraining pairs, from training inputs only: every training input (instances
   * and demonstrations) → itself, and → its fixed word-by-word analysis (`inputAnalysis`). See `compositionalPretrainingPairs`.
   */
  readonly pretrainingPairs: readonly PretrainingPair[];
}

/** One instruction-free (input → target) pair of base pretraining. */
export interface PretrainingPair {
  readonly input: string;
  readonly target: string;
}

function checkCount(suite: CompositionalSuiteName, name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`embeddedSuite('${suite}'): option "${name}" must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

interface Cell {
  readonly family: Family;
  readonly op: unknown;
  readonly arg: unknown;
  readonly split: CompositionalSplit;
  readonly taskId: string;
}

function cells(families: readonly Family[]): Cell[] {
  const out: Cell[] = [];
  for (const family of families) {
    family.ops.forEach((op, i) => {
      family.args.forEach((arg, j) => {
        if (family.includes !== undefined && !family.includes(i, j)) return;
        const split: CompositionalSplit = family.heldOutFamily ? 'heldout-family' : family.heldOutCell(i, j) ? 'heldout-combination' : 'train';
        out.push({ family, op, arg, split, taskId: `cmp_${family.name}_${family.opSlug(op)}_${family.argSlug(arg)}` });
      });
    });
  }
  return out;
}

/**
 * Draws inputs for every task from one pool so that no input is drawn twice in the whole suite, and
 * no held-out input contains (as a run of words) any training input: held-out instances cannot
 * appear in training text. Draw order is fixed, so the pool is deterministic per seed.
 */
class InputPool {
  private readonly used = new Set<string>();
  /** Runs of >= 4 words of every training input, and of the class lists the pretraining text prints. */
  private readonly trainRuns = new Set<string>();
  constructor() {
    for (const c of CLASSES) this.addRuns(CLASS_WORDS[c]);
  }
  draw(rng: DataRng, sample: () => string[], heldOut: boolean): string[] {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const words = sample();
      const key = words.join(' ');
      if (this.used.has(key)) continue;
      if (heldOut && this.containsTrainRun(words)) continue;
      this.used.add(key);
      if (!heldOut) this.addRuns(words);
      return words;
    }
    // The input space (48^4 and up) is far larger than any suite; this is a bug, not bad luck.
    throw new Error(`compositional suite: could not draw a new input after 1000 tries (rng state ${rng.next()})`);
  }
  private addRuns(words: readonly string[]): void {
    for (let i = 0; i < words.length; i++) for (let j = i + 4; j <= words.length; j++) this.trainRuns.add(words.slice(i, j).join(' '));
  }
  private containsTrainRun(words: readonly string[]): boolean {
    for (let i = 0; i < words.length; i++) for (let j = i + 4; j <= words.length; j++) if (this.trainRuns.has(words.slice(i, j).join(' '))) return true;
    return false;
  }
}

interface Counts {
  readonly train: number;
  readonly seen: number;
  readonly held: number;
  readonly positive: number;
  readonly negative: number;
}

function examplesFor(cell: Cell, rng: DataRng, pool: InputPool, counts: Counts, heldOut: boolean): { positive: TaskExample[]; negative: TaskExample[] } {
  const { family, op, arg } = cell;
  const rule = family.rule(op, arg);
  const positive: TaskExample[] = [];
  for (let i = 0; i < counts.positive; i++) {
    const w = pool.draw(rng, () => family.sample(rng, op, arg), heldOut);
    const output = family.solve(w, op, arg);
    positive.push({ input: w.join(' '), output, explanation: `We ${rule}, which gives "${output}".` });
  }
  const negative: TaskExample[] = [];
  for (let i = 0; i < counts.negative; i++) {
    const w = pool.draw(rng, () => family.sample(rng, op, arg), heldOut);
    const right = family.solve(w, op, arg);
    const output = family.wrong(w, op, arg, rng);
    negative.push({ input: w.join(' '), output, explanation: `This is wrong: we must ${rule}, which gives "${right}", not "${output}".` });
  }
  return { positive, negative };
}

function instancesFor(cell: Cell, rng: DataRng, pool: InputPool, n: number, heldOut: boolean, idPrefix: string): TaskInstance[] {
  const { family, op, arg } = cell;
  return Array.from({ length: n }, (_, i) => {
    const w = pool.draw(rng, () => family.sample(rng, op, arg), heldOut);
    return { id: `${idPrefix}-${String(i).padStart(3, '0')}`, input: w.join(' '), outputs: [family.solve(w, op, arg)] };
  });
}

function record(
  suite: CompositionalSuiteName,
  cell: Cell,
  ex: { positive: TaskExample[]; negative: TaskExample[] },
  instances: TaskInstance[],
): CompositionalTask {
  const { family, op, arg, split } = cell;
  return {
    taskId: cell.taskId,
    category: family.name,
    definition: family.definitions(op, arg),
    positiveExamples: ex.positive,
    negativeExamples: ex.negative,
    instances,
    license: ['Apache-2.0'],
    source: ['tagi-embedded', suite],
    inputLanguage: ['English'],
    outputLanguage: ['English'],
    instructionLanguage: ['English'],
    split: split === 'train' ? 'train' : 'heldout',
    ...(split === 'train' ? {} : { heldOutReason: split === 'heldout-family' ? ('family' as const) : ('combination' as const) }),
    param: `${family.opSlug(op)}_${family.argSlug(arg)}`,
    family: family.name,
    operations: family.operations(op),
    arguments: family.arguments(arg),
    splitName: split,
  };
}

/** Uncached generation (use `embeddedSuite({ name })` or `compositionalSuite`). */
export function generateCompositionalSuite(options: CompositionalSuiteOptions = {}, name: CompositionalSuiteName = COMPOSITIONAL_SUITE): CompositionalSuite {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`embeddedSuite('${name}'): option "seed" must be an integer, got ${String(seed)}`);
  const spec = SPECS[name];
  const counts: Counts = {
    train: checkCount(name, 'trainInstances', options.trainInstances ?? spec.defaults.train, 1),
    seen: checkCount(name, 'seenEvalInstances', options.seenEvalInstances ?? spec.defaults.seen, 0),
    held: checkCount(name, 'heldOutInstances', options.heldOutInstances ?? spec.defaults.held, 1),
    positive: checkCount(name, 'positiveExamples', options.positiveExamples ?? 3, 0),
    negative: checkCount(name, 'negativeExamples', options.negativeExamples ?? 2, 0),
  };
  const all = cells(spec.families);
  const pool = new InputPool();
  const byId = new Map<string, Cell>();
  const train: CompositionalTask[] = [];
  const seenEval: CompositionalTask[] = [];
  const heldOut: CompositionalTask[] = [];
  // Order matters for the shared pool: every training input first, then seen-evaluation inputs,
  // then held-out ones (which must avoid every training input).
  const trainCells = all.filter((c) => c.split === 'train');
  const trainEx = new Map<string, ReturnType<typeof examplesFor>>();
  for (const cell of trainCells) {
    byId.set(cell.taskId, cell);
    const rng = DataRng.derive(seed, cell.taskId);
    const ex = examplesFor(cell, rng, pool, counts, false);
    trainEx.set(cell.taskId, ex);
    train.push(record(name, cell, ex, instancesFor(cell, rng, pool, counts.train, false, cell.taskId)));
  }
  for (const cell of trainCells) {
    const rng = DataRng.derive(seed, `${cell.taskId}/seen`);
    // Held-out rules for the pool: fresh inputs that contain no training input.
    seenEval.push(
      record(name, cell, trainEx.get(cell.taskId) ?? { positive: [], negative: [] }, instancesFor(cell, rng, pool, counts.seen, true, `${cell.taskId}-seen`)),
    );
  }
  for (const cell of all.filter((c) => c.split !== 'train')) {
    byId.set(cell.taskId, cell);
    const rng = DataRng.derive(seed, cell.taskId);
    const ex = examplesFor(cell, rng, pool, counts, true);
    heldOut.push(record(name, cell, ex, instancesFor(cell, rng, pool, counts.held, true, cell.taskId)));
  }
  const heldOutCombination = heldOut.filter((t) => t.splitName === 'heldout-combination');
  const heldOutFamily = heldOut.filter((t) => t.splitName === 'heldout-family');
  const categories: CompositionalFamilyInfo[] = spec.families.map((f) => {
    const mine = all.filter((c) => c.family === f);
    return {
      name: f.name,
      summary: f.summary,
      heldOut: f.heldOutFamily,
      trainTasks: mine.filter((c) => c.split === 'train').length,
      heldOutTasks: mine.filter((c) => c.split !== 'train').length,
      operations: [...new Set(f.ops.flatMap((o) => f.operations(o)))],
      arguments: [...new Set(f.args.flatMap((a) => f.arguments(a)))],
      cells: mine.length,
    };
  });
  return {
    name,
    seed,
    tasks: [...train, ...heldOutCombination, ...heldOutFamily],
    train,
    heldOut: [...heldOutCombination, ...heldOutFamily],
    heldOutCombination,
    heldOutFamily,
    seenEval,
    categories,
    pretrainingText: compositionalPretrainingText(train, seed),
    pretrainingPairs: compositionalPretrainingPairs(train),
    solve(taskId, input) {
      const cell = byId.get(taskId);
      if (cell === undefined) throw new RangeError(`embeddedSuite.solve: unknown task id "${taskId}"`);
      return cell.family.solve(input.split(' '), cell.op, cell.arg);
    },
  };
}

const ORDINAL = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'];

/**
 * Base-model pretraining documents from TRAINING tasks only. Why these and not others:
 * - word facts ("red is a color.", "The opposite of red is green.", class lists): the knowledge every
 *   task composes, the way an LM-adapted T5 knows English; without it the base has nothing to map
 *   "opposite" or "color" onto, and no model could do a held-out combination;
 * - training definitions, alone: the frozen encoder is also the hypernetwork's instruction encoder,
 *   so it must have read the instruction words; no answer follows them;
 * - training inputs, alone and described word by word ("the second word is north", "north is a
 *   direction", "there are two colors"): the input format and what positions and classes mean in it.
 * Not included, on purpose: any (instruction, input, answer) triple — the base must not already
 * follow instructions, or the no-adapter baseline would show nothing — and anything of a held-out
 * task (its definitions, examples or instances; the tests check this).
 */
export function compositionalPretrainingText(train: readonly CompositionalTask[], seed = 0): string[] {
  const docs: string[] = [];
  for (const c of CLASSES) {
    const ws = CLASS_WORDS[c];
    docs.push(`The ${CLASS_PHRASES[c].many} are ${ws.slice(0, -1).join(', ')} and ${ws[ws.length - 1] as string}.`);
  }
  for (const w of LEXICON) {
    const c = classOfWord(w);
    const o = oppositeOf(w);
    if (c === undefined || o === undefined) throw new Error(`lexicon word "${w}" lacks a class or an opposite`);
    docs.push(`${w} is ${withArticle(CLASS_PHRASES[c].one)}. The category of ${w} is ${c}.`);
    docs.push(`The opposite of ${w} is ${o}.`);
  }
  for (const t of train) docs.push(...t.definition);
  const rng = DataRng.derive(seed, 'pretraining-text');
  for (const t of train) {
    for (const [i, inst] of t.instances.entries()) {
      docs.push(inst.input);
      // Described inputs: a quarter of them, so descriptions do not drown the rest.
      if (i % 4 === 0) docs.push(describe(inst.input.split(' '), rng));
    }
    for (const e of [...t.positiveExamples, ...t.negativeExamples]) docs.push(e.input);
  }
  return docs;
}

/** "In the words red north man day: the first word is red, …, and the last word is day. red is a color, … There are two colors." */
function describe(words: readonly string[], rng: DataRng): string {
  const pos = words.map((w, i) => `the ${ORDINAL[i] ?? 'next'} word is ${w}`);
  pos.push(`and the last word is ${words[words.length - 1] as string}`);
  const cls = words.map((w) => `${w} is ${withArticle(CLASS_PHRASES[classOfWord(w) ?? 'color'].one)}`);
  const c = rng.pick(CLASSES);
  const n = words.filter((w) => classOfWord(w) === c).length;
  const counts = ['no', 'one', 'two', 'three', 'four', 'five', 'six'][n] as string;
  return `In the words ${words.join(' ')}: ${pos.join(', ')}. ${cls.join(', ')}. There ${n === 1 ? 'is' : 'are'} ${counts} ${n === 1 ? CLASS_PHRASES[c].one : CLASS_PHRASES[c].many}.`;
}

const POSITION_WORDS = NUMBER_WORDS.slice(1, 7); // 'one' … 'six'

/**
 * The fixed, instruction-free analysis of an input: for every word in order, its position (a number
 * word), the word, the name of its category and its opposite —
 * `inputAnalysis('red north man day')` = `'one red color green two north direction south three man person woman four day time night'`.
 * One function of the input alone, whatever task the input came from.
 */
export function inputAnalysis(input: string): string {
  return input
    .split(' ')
    .map((w, i) => {
      const c = classOfWord(w);
      const o = oppositeOf(w);
      const p = POSITION_WORDS[i];
      if (c === undefined || o === undefined || p === undefined)
        throw new RangeError(`inputAnalysis: "${input}" is not an input of the suite (word ${i + 1}: "${w}")`);
      return `${p} ${w} ${c} ${o}`;
    })
    .join(' ');
}

/**
 * Instruction-free base-pretraining pairs from TRAINING inputs only (instances and demonstrations): every
 * input → itself (copy) and → `inputAnalysis(input)`. Why: span corruption never asks a model to reproduce
 * a word it can see, so a base pretrained on text alone has no copy or position skill for an adapter to
 * route. Measured with a frozen d_model-64 base (1000 updates of 64, half span corruption) and one rank-16
 * q,k,v,o LoRA per task (200 updates on its 64 instances), exact match on 48 new instances of 8 training
 * tasks, mean: pairs of input → output without instructions 28%, copy 52%, analysis 61%, copy + analysis
 * 63% ("the second word" 10 → 98%, "the first person" 27 → 100%, "the word after the first person"
 * 8 → 65%; the suite README has the table). Each target is the same function of the input whatever task
 * the input came from, so the base learns to read, copy, position, classify and map words, never which of
 * them an instruction asks for: the no-adapter baseline still follows no instruction. Seen-evaluation and
 * held-out inputs are not used.
 */
export function compositionalPretrainingPairs(train: readonly CompositionalTask[]): PretrainingPair[] {
  const out: PretrainingPair[] = [];
  for (const t of train) {
    for (const x of [...t.instances, ...t.positiveExamples, ...t.negativeExamples])
      out.push({ input: x.input, target: x.input }, { input: x.input, target: inputAnalysis(x.input) });
  }
  return out;
}
