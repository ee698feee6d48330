// The embedded task suites, by name: 'compositional-v2' (the default) and 'compositional-v1'
// (./compositional/), and 'lexical-v1' (generated here): a few hundred small word-level tasks generated deterministically
// from a seed at load time (no data files), split into training tasks and held-out tasks whose
// instructions never occur in training. This is the data behind `tagi demo`.
import { DatasetArgumentError } from '../errors.js';
import { DataRng } from '../rng.js';
import type { TaskExample, TaskInstance } from '../types.js';
import { CATEGORIES, type Category } from './categories.js';
import {
  type CompositionalSuite,
  type CompositionalSuiteName,
  type CompositionalSuiteOptions,
  compositionalDefaults,
  generateCompositionalSuite,
} from './compositional/suite.js';
import {
  DEFAULT_EMBEDDED_SUITE,
  EMBEDDED_SUITES,
  type EmbeddedCategoryInfo,
  type EmbeddedSuite,
  type EmbeddedSuiteName,
  type EmbeddedSuiteOptions,
  type EmbeddedTask,
  type HeldOutReason,
} from './types.js';

function checkCount(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`embeddedSuite: option "${name}" must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

interface Generated {
  readonly task: EmbeddedTask;
  readonly solve: (input: string) => string;
}

function generateTask(
  category: Category<unknown>,
  param: unknown,
  split: 'train' | 'heldout',
  heldOutReason: HeldOutReason | undefined,
  seed: number,
  counts: { instances: number; positive: number; negative: number },
): Generated {
  const slug = category.slug(param);
  const taskId = `emb_${category.name}_${slug}`;
  const rng = DataRng.derive(seed, taskId);
  const solveWords = (words: readonly string[]): string => category.solve(words, param);
  const seen = new Set<string>();
  const draw = (): string[] | undefined => {
    // Inputs are unique within a task; small tasks (e.g. two-number arithmetic) run out, so cap tries.
    for (let attempt = 0; attempt < 200; attempt++) {
      const words = category.sample(rng, param);
      const key = words.join(' ');
      if (!seen.has(key)) {
        seen.add(key);
        return words;
      }
    }
    return undefined;
  };
  const rule = category.rule(param);
  const positiveExamples: TaskExample[] = [];
  for (let i = 0; i < counts.positive; i++) {
    const w = draw();
    if (w === undefined) break;
    const output = solveWords(w);
    positiveExamples.push({ input: w.join(' '), output, explanation: `We ${rule}, which gives "${output}".` });
  }
  const negativeExamples: TaskExample[] = [];
  for (let i = 0; i < counts.negative; i++) {
    const w = draw();
    if (w === undefined) break;
    const right = solveWords(w);
    const output = category.wrong(w, param, rng);
    negativeExamples.push({
      input: w.join(' '),
      output,
      explanation: `This is wrong: we must ${rule}, which gives "${right}", not "${output}".`,
    });
  }
  const instances: TaskInstance[] = [];
  for (let i = 0; i < counts.instances; i++) {
    const w = draw();
    if (w === undefined) break;
    instances.push({ id: `${taskId}-${String(i).padStart(3, '0')}`, input: w.join(' '), outputs: [solveWords(w)] });
  }
  const task: EmbeddedTask = {
    taskId,
    category: category.name,
    definition: category.definitions(param),
    positiveExamples,
    negativeExamples,
    instances,
    license: ['Apache-2.0'],
    source: ['tagi-embedded'],
    inputLanguage: ['English'],
    outputLanguage: ['English'],
    instructionLanguage: ['English'],
    split,
    param: slug,
    ...(heldOutReason === undefined ? {} : { heldOutReason }),
  };
  return { task, solve: (input) => solveWords(input.split(' ')) };
}

/**
 * Generate an embedded suite: 'compositional-v2' unless `options.name` says otherwise. Deterministic:
 * the same options give the same tasks, character for character. Cached (the trainer, teachers and
 * playground ask for the same suite repeatedly) and deep-frozen, so callers cannot change each other's data.
 */
export function embeddedSuite(options: EmbeddedSuiteOptions & { readonly name: 'lexical-v1' }): EmbeddedSuite;
export function embeddedSuite(options?: EmbeddedSuiteOptions & { readonly name?: CompositionalSuiteName }): CompositionalSuite;
export function embeddedSuite(options?: EmbeddedSuiteOptions): EmbeddedSuite;
export function embeddedSuite(options: EmbeddedSuiteOptions = {}): EmbeddedSuite {
  const name = options.name ?? DEFAULT_EMBEDDED_SUITE;
  if (!(EMBEDDED_SUITES as readonly string[]).includes(name))
    throw new DatasetArgumentError('embeddedSuite.name', `one of ${EMBEDDED_SUITES.join(', ')}`, name);
  const lexical = name === 'lexical-v1';
  const d = lexical ? { train: 60, held: 30, seen: null } : compositionalDefaults(name);
  const key = JSON.stringify([
    name,
    options.seed ?? 0,
    options.trainInstances ?? d.train,
    options.heldOutInstances ?? d.held,
    options.seenEvalInstances ?? d.seen,
    options.positiveExamples ?? 3,
    options.negativeExamples ?? 2,
  ]);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const suite = deepFreeze(generateNamed(name, options));
  if (cache.size >= 4) cache.delete(cache.keys().next().value as string);
  cache.set(key, suite);
  return suite;
}
const cache = new Map<string, EmbeddedSuite>();

/** A compositional suite (default 'compositional-v2'), cached and frozen like `embeddedSuite`. */
export function compositionalSuite(options: CompositionalSuiteOptions & { readonly name?: CompositionalSuiteName } = {}): CompositionalSuite {
  return embeddedSuite({ ...options, name: options.name ?? 'compositional-v2' });
}

function generateNamed(name: EmbeddedSuiteName, options: EmbeddedSuiteOptions): EmbeddedSuite {
  if (name !== 'lexical-v1') {
    const { name: _n, ...rest } = options;
    return generateCompositionalSuite(rest, name);
  }
  if (options.seenEvalInstances !== undefined) {
    throw new DatasetArgumentError(
      'embeddedSuite.seenEvalInstances',
      "no value: 'lexical-v1' has no seen-task evaluation instances",
      options.seenEvalInstances,
    );
  }
  return generateSuite(options);
}

/** Uncached generation of 'lexical-v1' (exported for tests; use `embeddedSuite({ name: 'lexical-v1' })`). */
export function generateSuite(options: EmbeddedSuiteOptions): EmbeddedSuite {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`embeddedSuite: option "seed" must be an integer, got ${String(seed)}`);
  const train = checkCount('trainInstances', options.trainInstances ?? 60, 1);
  const held = checkCount('heldOutInstances', options.heldOutInstances ?? 30, 1);
  const positive = checkCount('positiveExamples', options.positiveExamples ?? 3, 0);
  const negative = checkCount('negativeExamples', options.negativeExamples ?? 2, 0);
  const tasks: EmbeddedTask[] = [];
  const solvers = new Map<string, (input: string) => string>();
  const categories: EmbeddedCategoryInfo[] = [];
  for (const category of CATEGORIES) {
    const heldParams = new Set(category.heldOutParams ?? []);
    let nTrain = 0;
    let nHeld = 0;
    category.params.forEach((param, i) => {
      const reason: HeldOutReason | undefined = category.heldOut ? 'category' : heldParams.has(i) ? 'parameter' : undefined;
      const split = reason === undefined ? 'train' : 'heldout';
      const g = generateTask(category, param, split, reason, seed, {
        instances: split === 'train' ? train : held,
        positive,
        negative,
      });
      tasks.push(g.task);
      solvers.set(g.task.taskId, g.solve);
      if (split === 'train') nTrain++;
      else nHeld++;
    });
    categories.push({
      name: category.name,
      summary: category.summary,
      heldOut: category.heldOut ?? false,
      trainTasks: nTrain,
      heldOutTasks: nHeld,
    });
  }
  return {
    name: 'lexical-v1',
    seed,
    tasks,
    train: tasks.filter((t) => t.split === 'train'),
    heldOut: tasks.filter((t) => t.split === 'heldout'),
    categories,
    solve(taskId, input) {
      const f = solvers.get(taskId);
      if (f === undefined) throw new RangeError(`embeddedSuite.solve: unknown task id "${taskId}"`);
      return f(input);
    },
  };
}

/** The cached suite is shared between callers: freeze it so no caller can change another's data. */
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Every string of the suite a tokenizer will see (definitions, examples, inputs, outputs; for the
 * compositional suite also its seen-evaluation instances, base-pretraining text and pair targets): for vocabulary pruning.
 */
export function* suiteTexts(
  suite: Pick<EmbeddedSuite, 'tasks'> & {
    readonly seenEval?: readonly EmbeddedTask[];
    readonly pretrainingText?: readonly string[];
    readonly pretrainingPairs?: readonly { readonly target: string }[];
  },
): Generator<string> {
  for (const t of [...suite.tasks, ...(suite.seenEval ?? [])]) {
    yield* t.definition;
    for (const e of [...t.positiveExamples, ...t.negativeExamples]) {
      yield e.input;
      yield e.output;
      if (e.explanation !== undefined) yield e.explanation;
    }
    for (const inst of t.instances) {
      yield inst.input;
      yield* inst.outputs;
    }
  }
  if (suite.pretrainingText !== undefined) yield* suite.pretrainingText;
  // pair inputs are training inputs (yielded above); their targets are new strings
  for (const p of suite.pretrainingPairs ?? []) yield p.target;
}

export type { EmbeddedCategoryInfo, EmbeddedSuite, EmbeddedSuiteName, EmbeddedSuiteOptions, EmbeddedTask, HeldOutReason } from './types.js';
export { DEFAULT_EMBEDDED_SUITE, EMBEDDED_SUITES } from './types.js';
