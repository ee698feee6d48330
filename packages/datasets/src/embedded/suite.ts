// The embedded task suite: a few hundred small word-level tasks generated deterministically from a
// seed at load time (no data files), split into training tasks and held-out tasks whose instructions
// never occur in training. This is the data behind `tagi demo`.
import { DataRng } from '../rng.js';
import type { Task, TaskExample, TaskInstance } from '../types.js';
import { CATEGORIES, type Category } from './categories.js';

export interface EmbeddedSuiteOptions {
  /** Seed of every random choice (inputs, examples). Default 0. */
  readonly seed?: number;
  /** Instances per training task. Default 60. */
  readonly trainInstances?: number;
  /** Instances per held-out task. Default 30. */
  readonly heldOutInstances?: number;
  /** Positive examples per task (with explanations). Default 3. */
  readonly positiveExamples?: number;
  /** Negative examples per task (with explanations). Default 2. */
  readonly negativeExamples?: number;
}

/** Why a task is in the held-out split. */
export type HeldOutReason = 'category' | 'parameter';

export interface EmbeddedTask extends Task {
  readonly split: 'train' | 'heldout';
  /** Set for held-out tasks: a whole unseen category, or an unseen parameter/combination. */
  readonly heldOutReason?: HeldOutReason;
  /** The parameter slug within the category ("k3", "animal", "cat_dog"). */
  readonly param: string;
}

export interface EmbeddedCategoryInfo {
  readonly name: string;
  readonly summary: string;
  readonly heldOut: boolean;
  readonly trainTasks: number;
  readonly heldOutTasks: number;
}

export interface EmbeddedSuite {
  readonly seed: number;
  readonly tasks: readonly EmbeddedTask[];
  readonly train: readonly EmbeddedTask[];
  readonly heldOut: readonly EmbeddedTask[];
  readonly categories: readonly EmbeddedCategoryInfo[];
  /** Solve an input for a task id with the task's own rule (the oracle). */
  solve(taskId: string, input: string): string;
}

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
 * Generate the embedded suite. Deterministic: the same options give the same tasks, character for
 * character. Each task's randomness is derived from (seed, task id) alone.
 */
export function embeddedSuite(options: EmbeddedSuiteOptions = {}): EmbeddedSuite {
  const key = JSON.stringify([options.seed ?? 0, options.trainInstances ?? 60, options.heldOutInstances ?? 30, options.positiveExamples ?? 3, options.negativeExamples ?? 2]);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const suite = generateSuite(options);
  // Generation takes ~0.5 s; the trainer, teachers and playground ask for the same suite repeatedly.
  if (cache.size >= 4) cache.delete(cache.keys().next().value as string);
  cache.set(key, suite);
  return suite;
}
const cache = new Map<string, EmbeddedSuite>();

/** Uncached generation (exported for tests; use `embeddedSuite`). */
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
  return deepFreeze({
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
  });
}

/** The cached suite is shared between callers: freeze it so no caller can change another's data. */
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Every string of the suite a tokenizer will see (definitions, examples, inputs, outputs): for vocabulary pruning. */
export function* suiteTexts(suite: Pick<EmbeddedSuite, 'tasks'>): Generator<string> {
  for (const t of suite.tasks) {
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
}
