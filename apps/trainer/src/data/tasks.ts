// Stage 'data': the task suite (or SNI dir / registered dataset), the tokenizer and, for a base model
// trained from scratch, the vocabulary pruned to the ids the data uses.
import {
  type CompositionalSuite,
  type EmbeddedSuite,
  type EmbeddedTask,
  type PretrainingPair,
  type Task,
  type TagiExample,
  embeddedBaselines,
  embeddedSuite,
  instructionText,
  tagiExamples,
} from '@tagi/datasets';
import { loadDataset } from '@tagi/datasets/node';
import { statSync } from 'node:fs';
import { type PrunedTokenizer as PrunedTokenizerT, type T5Tokenizer, PRUNED_VOCAB_FILE, PrunedTokenizer, VocabMap, buildVocabMap } from '@tagi/t5-model';
import { loadDefaultT5Tokenizer, loadT5Tokenizer } from '@tagi/t5-model/node';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TagiConfig } from '../config/config.js';
import { CliError } from '../common/errors.js';
import { classifyData } from './sources.js';

export type Tok = T5Tokenizer | PrunedTokenizerT;

/** A task with, for held-out tasks of the embedded suite, why it is held out. */
export type DataTask = Task & { readonly heldOutReason?: string };

/**
 * An evaluation setting, one column of the results: training tasks on (some of) their training instances,
 * training tasks on fresh instances, held-out tasks (the embedded suite's new combinations of trained
 * primitives, and its held-out family).
 */
export type EvalSplit = 'seen-train' | 'seen-new' | 'heldout-combination' | 'heldout-family' | 'heldout';

export const SPLIT_LABELS: Record<EvalSplit, string> = {
  'seen-train': 'Seen tasks, training instances',
  'seen-new': 'Seen tasks, new instances',
  'heldout-combination': 'Held-out combinations',
  'heldout-family': 'Held-out family',
  heldout: 'Held-out tasks',
};

export interface EvalSet {
  readonly split: EvalSplit;
  /** Tasks with the instances scored (capped). */
  readonly tasks: readonly DataTask[];
}

/** A prediction that needs no model (copy the input, a constant answer, the best instruction-blind rule): reference rows. */
export interface ReferencePredictor {
  readonly id: string;
  readonly label: string;
  predict(task: DataTask, input: string): string;
}

export interface TaskData {
  /** Where the tasks come from (for results): 'embedded:<suite>', 'sni:<dir>' or a dataset name. */
  source: string;
  /** Training tasks (instances capped at prompt.maxInstancesPerTask). */
  train: DataTask[];
  /** TAGI views of each training instance: the student input and the concatenated prompt (the hypernetwork's instruction comes from @tagi/datasets' InstructionInputs). */
  trainExamples: TagiExample[];
  /** The evaluation settings of config eval.splits the data has, in column order. */
  evalSets: EvalSet[];
  /** Every held-out task (all held-out evaluation sets). */
  heldOut: DataTask[];
  /** Base-model span-corruption documents: the dataset's pretraining text, else the training tasks' texts. Training tasks only. */
  pretrainingText: string[];
  /** Instruction-free base-pretraining pairs (empty when the dataset has none). Training inputs only. */
  pretrainingPairs: PretrainingPair[];
  /** Every text the tokenizer will see (vocabulary pruning). */
  texts: string[];
  /** Training and held-out tasks by id. */
  byId: ReadonlyMap<string, DataTask>;
  /** Model-free reference rows of the results. */
  references: ReferencePredictor[];
}

/** Number of T5 sentinels kept in a pruned vocabulary (span corruption of the base pretraining). */
export const SENTINELS = 16;

function cap<T extends { instances: readonly unknown[] }>(t: T, n: number): T {
  return { ...t, instances: t.instances.slice(0, n) };
}

function taskTexts(tasks: readonly Task[]): string[] {
  const out: string[] = [];
  for (const t of tasks) {
    out.push(...t.definition);
    for (const e of [...t.positiveExamples, ...t.negativeExamples]) out.push(e.input, e.output, ...(e.explanation !== undefined ? [e.explanation] : []));
    for (const inst of t.instances) out.push(inst.input, ...inst.outputs);
  }
  return out;
}

/** The most frequent first output over the training instances: the best constant answer. */
function majorityReference(train: readonly Task[]): ReferencePredictor {
  const freq = new Map<string, number>();
  for (const t of train) for (const i of t.instances) freq.set(i.outputs[0] ?? '', (freq.get(i.outputs[0] ?? '') ?? 0) + 1);
  const [output] = [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0] ?? [''];
  return { id: 'majority', label: `Majority answer ("${output}")`, predict: () => output };
}

const COPY: ReferencePredictor = { id: 'copy-input', label: 'Copy input', predict: (_t, input) => input };

interface Loaded {
  source: string;
  train: readonly DataTask[];
  heldOut: readonly DataTask[];
  seenEval?: readonly DataTask[];
  pretrainingText?: readonly string[];
  pretrainingPairs?: readonly PretrainingPair[];
  references?: ReferencePredictor[];
}

function build(c: TagiConfig, d: Loaded): TaskData {
  const train = d.train.map((t) => cap(t, c.prompt.maxInstancesPerTask)).filter((t) => t.instances.length > 0);
  const opts = { addDefinition: true, numPositive: c.prompt.numPos };
  const trainExamples = train.flatMap((t) => tagiExamples(t, opts));
  const heldOut = d.heldOut.map((t) => cap(t, c.prompt.maxEvalInstancesPerTask)).filter((t) => t.instances.length > 0);
  const evalSets: EvalSet[] = [];
  for (const split of c.eval.splits) {
    if (split === 'seen-train') evalSets.push({ split, tasks: train.map((t) => cap(t, c.eval.seenTrainInstancesPerTask)) });
    else if (split === 'seen-new') {
      const seen = (d.seenEval ?? []).map((t) => cap(t, c.prompt.maxEvalInstancesPerTask)).filter((t) => t.instances.length > 0);
      if (seen.length > 0) evalSets.push({ split, tasks: seen });
    } else {
      // held-out tasks that say why (the embedded suite) get a column per reason; others one column
      const byReason = new Map<EvalSplit, DataTask[]>();
      for (const t of heldOut) {
        const s: EvalSplit = t.heldOutReason === 'combination' ? 'heldout-combination' : t.heldOutReason === 'family' ? 'heldout-family' : 'heldout';
        byReason.set(s, [...(byReason.get(s) ?? []), t]);
      }
      for (const s of ['heldout-combination', 'heldout-family', 'heldout'] as const)
        if (byReason.has(s)) evalSets.push({ split: s, tasks: byReason.get(s) as DataTask[] });
    }
  }
  const pretrainingText = [...(d.pretrainingText ?? taskTexts(train))];
  const pretrainingPairs = [...(d.pretrainingPairs ?? [])];
  const texts = [...pretrainingText, ...pretrainingPairs.flatMap((p) => [p.input, p.target]), ...taskTexts([...train, ...heldOut, ...(d.seenEval ?? [])])];
  return {
    source: d.source,
    train,
    trainExamples,
    evalSets,
    heldOut,
    pretrainingText,
    pretrainingPairs,
    texts,
    byId: new Map([...train, ...heldOut].map((t) => [t.taskId, t])),
    references: d.references ?? [COPY, majorityReference(train)],
  };
}

/** The embedded suite's reference rows: copy the input, the majority answer, the best instruction-blind rule. */
function embeddedReferences(suite: EmbeddedSuite): ReferencePredictor[] {
  const b = embeddedBaselines(suite);
  const byId = new Map(suite.tasks.map((t) => [t.taskId, t]));
  const asEmbedded = (t: DataTask) => byId.get(t.taskId) ?? (t as EmbeddedTask);
  return [
    COPY,
    { id: 'majority', label: `Majority answer ("${b.majority.output}")`, predict: (t, i) => b.majority(asEmbedded(t), i) },
    { id: 'instruction-blind', label: 'Instruction-blind (best single training rule)', predict: (t, i) => b.instructionBlind(asEmbedded(t), i) },
  ];
}

/**
 * --data: 'embedded' (the default suite of @tagi/datasets) or 'embedded:SUITE' (a named one), an SNI directory (natural-instructions layout:
 * tasks/ + splits/<name>/{train,test}_tasks.txt; train = the train split, held out = the test split), or
 * the name of a registered dataset that returns tasks with a held-out part.
 */
export async function loadTaskData(c: TagiConfig, info: (message: string) => void): Promise<TaskData> {
  const kind = c.data === 'embedded' || c.data.startsWith('embedded:') ? classifyData(c.data) : undefined;
  if (kind?.kind === 'embedded') {
    // The suite's own seed stays 0 (the split and baselines documented in @tagi/datasets); --seed drives the model side.
    const suite: EmbeddedSuite & Partial<Pick<CompositionalSuite, 'seenEval' | 'pretrainingText' | 'pretrainingPairs'>> = embeddedSuite({
      name: kind.suite,
      seed: 0,
    });
    // Base-model pretraining text and pairs come from training tasks only (the suite guarantees it and
    // tests it): held-out definitions, examples and instances are never seen in training, by any stage.
    return build(c, {
      source: `embedded:${suite.name}`,
      train: suite.train,
      heldOut: suite.heldOut,
      ...(suite.seenEval ? { seenEval: suite.seenEval } : {}),
      ...(suite.pretrainingText ? { pretrainingText: suite.pretrainingText } : {}),
      ...(suite.pretrainingPairs ? { pretrainingPairs: suite.pretrainingPairs } : {}),
      references: embeddedReferences(suite),
    });
  }
  if (existsSync(c.data) && statSync(c.data).isDirectory()) {
    if (!existsSync(path.join(c.data, 'tasks')) || !existsSync(path.join(c.data, 'splits'))) {
      throw new CliError(`--data: '${c.data}' is not an SNI directory (expected tasks/ and splits/ inside)`);
    }
    const load = async (split: 'train' | 'test') => {
      const d = await loadDataset('sni', { root: c.data, split, maxInstances: c.prompt.maxInstancesPerTask, seed: c.seed, skipMissing: true });
      if (d.kind !== 'tasks') throw new CliError(`--data: the sni loader returned ${d.kind}`);
      if (d.skips && d.skips.skipped > 0) info(`  sni ${split}: ${d.skips.skipped} split tasks have no task file here (skipped, counted)`);
      return d.tasks;
    };
    const train = await load('train');
    const test = await load('test');
    return build(c, { source: `sni:${c.data}`, train, heldOut: test });
  }
  if (c.data.includes('/') || c.data.includes(path.sep)) throw new CliError(`--data: '${c.data}' does not exist`);
  let d;
  try {
    d = await loadDataset(c.data, {});
  } catch (e) {
    throw new CliError(`--data=${c.data}: ${(e as Error).message}`);
  }
  if (d.kind !== 'tasks' || d.heldOut === undefined) {
    throw new CliError(
      `--data=${c.data}: expected a dataset of instruction tasks with a held-out part (got ${d.kind}${d.kind === 'tasks' ? ' without held-out tasks' : ''})`,
    );
  }
  return build(c, {
    source: c.data,
    train: d.tasks,
    heldOut: d.heldOut,
    ...(d.seenEval ? { seenEval: d.seenEval } : {}),
    ...(d.pretrainingText ? { pretrainingText: d.pretrainingText } : {}),
    ...(d.pretrainingPairs ? { pretrainingPairs: d.pretrainingPairs } : {}),
  });
}

/** The tokenizer of --model (its tokenizer.json, else the standard T5 one). */
export function modelTokenizer(modelDir: string | undefined): Tok {
  const full = modelDir !== undefined && existsSync(path.join(modelDir, 'tokenizer.json')) ? loadT5Tokenizer(modelDir) : loadDefaultT5Tokenizer();
  if (modelDir !== undefined && existsSync(path.join(modelDir, PRUNED_VOCAB_FILE))) {
    return new PrunedTokenizer(
      full,
      VocabMap.fromJson(JSON.parse(readFileSync(path.join(modelDir, PRUNED_VOCAB_FILE), 'utf8')), path.join(modelDir, PRUNED_VOCAB_FILE)),
    );
  }
  return full;
}

/** Demonstrations the pruned vocabulary always covers: the paper's two settings, Def and Def+2Pos, run on one base. */
const VOCAB_NUM_POS = 2;

/**
 * A tokenizer over the ids the data uses (+ sentinels), for a base model trained from scratch: the prompts
 * with `numPos` demonstrations and those of Def+2Pos, so one base serves both of the paper's settings.
 */
export function prunedTokenizer(data: TaskData, numPos: number): PrunedTokenizer {
  const full = loadDefaultT5Tokenizer();
  const corpus: number[][] = [];
  for (const t of data.texts) corpus.push(full.encode(t));
  for (const t of [...data.train, ...data.heldOut]) {
    for (const n of new Set([numPos, VOCAB_NUM_POS])) {
      corpus.push(full.encode(instructionText(t, n)));
      // the concatenated prompt's template words ("Now complete the following example - Input: … Output:")
      const first = t.instances[0];
      if (first !== undefined)
        corpus.push(full.encode(tagiExamples({ ...t, instances: [first] }, { addDefinition: true, numPositive: n })[0]?.concatenated ?? ''));
    }
  }
  const map = buildVocabMap(corpus, { originalVocabSize: 32128, sentinels: SENTINELS });
  return new PrunedTokenizer(full, map);
}
