// Stage 'data': the task suite (or SNI dir / registered dataset), the tokenizer and, for a base model
// trained from scratch, the vocabulary pruned to the ids the data uses.
import { type Task, type TagiExample, embeddedSuite, tagiExamples } from '@tagi/datasets';
import { loadDataset } from '@tagi/datasets/node';
import { statSync } from 'node:fs';
import { type PrunedTokenizer as PrunedTokenizerT, type T5Tokenizer, PRUNED_VOCAB_FILE, PrunedTokenizer, VocabMap, buildVocabMap } from '@tagi/t5-model';
import { loadDefaultT5Tokenizer, loadT5Tokenizer } from '@tagi/t5-model/node';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TagiConfig } from './config.js';
import { CliError } from './errors.js';
import { instructionText } from './instruction.js';

export type Tok = T5Tokenizer | PrunedTokenizerT;

/** A task with, for held-out tasks of the embedded suite, why it is held out. */
export type DataTask = Task & { readonly heldOutReason?: string };

export interface TaskData {
  /** Training tasks (instances capped at prompt.maxInstancesPerTask). */
  train: DataTask[];
  /** Held-out tasks (instances capped at prompt.maxEvalInstancesPerTask). */
  heldOut: DataTask[];
  /** TAGI views of each training instance: the student input and the concatenated prompt (the hypernetwork's instruction comes from instruction.ts). */
  trainExamples: TagiExample[];
  heldOutExamples: TagiExample[];
  /** Every text of the suite (pretraining corpus for the base model and the hypernet's stage 2). */
  texts: string[];
  /** Training and held-out tasks by id. */
  byId: ReadonlyMap<string, DataTask>;
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

function build(c: TagiConfig, trainAll: readonly DataTask[], heldAll: readonly DataTask[], texts: string[]): TaskData {
  const train = trainAll.map((t) => cap(t, c.prompt.maxInstancesPerTask)).filter((t) => t.instances.length > 0);
  const heldOut = heldAll.map((t) => cap(t, c.prompt.maxEvalInstancesPerTask)).filter((t) => t.instances.length > 0);
  const opts = { addDefinition: true, numPositive: c.prompt.numPos };
  const trainExamples = train.flatMap((t) => tagiExamples(t, opts));
  const heldOutExamples = heldOut.flatMap((t) => tagiExamples(t, opts));
  return { train, heldOut, trainExamples, heldOutExamples, texts, byId: new Map([...train, ...heldOut].map((t) => [t.taskId, t])) };
}

/**
 * --data: 'embedded' (the suite of @tagi/datasets), an SNI directory (natural-instructions layout:
 * tasks/ + splits/<name>/{train,test}_tasks.txt; train = the train split, held out = the test split), or
 * the name of a registered dataset that returns tasks with a held-out part.
 */
export async function loadTaskData(c: TagiConfig, info: (message: string) => void): Promise<TaskData> {
  if (c.data === 'embedded') {
    // The suite's own seed stays 0 (the split and baselines documented in @tagi/datasets); --seed drives the model side.
    const suite = embeddedSuite({ seed: 0 });
    // Base-model pretraining text comes from training tasks only: held-out definitions, examples and
    // instances must never be seen in training, by any stage.
    return build(c, suite.train, suite.heldOut, taskTexts(suite.train));
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
    return build(c, train, test, taskTexts(train));
  }
  if (c.data.includes('/') || c.data.includes(path.sep)) throw new CliError(`--data: '${c.data}' does not exist`);
  let d;
  try {
    d = await loadDataset(c.data, {});
  } catch (e) {
    throw new CliError(`--data=${c.data}: ${(e as Error).message}`);
  }
  if (d.kind !== 'tasks' || d.heldOut === undefined) {
    throw new CliError(`--data=${c.data}: expected a dataset of instruction tasks with a held-out part (got ${d.kind}${d.kind === 'tasks' ? ' without held-out tasks' : ''})`);
  }
  return build(c, d.tasks, d.heldOut, taskTexts(d.tasks));
}

/** The tokenizer of --model (its tokenizer.json, else the standard T5 one). */
export function modelTokenizer(modelDir: string | undefined): Tok {
  const full = modelDir !== undefined && existsSync(path.join(modelDir, 'tokenizer.json')) ? loadT5Tokenizer(modelDir) : loadDefaultT5Tokenizer();
  if (modelDir !== undefined && existsSync(path.join(modelDir, PRUNED_VOCAB_FILE))) {
    return new PrunedTokenizer(full, VocabMap.fromJson(JSON.parse(readFileSync(path.join(modelDir, PRUNED_VOCAB_FILE), 'utf8')), path.join(modelDir, PRUNED_VOCAB_FILE)));
  }
  return full;
}

/** A tokenizer over the ids the data uses (+ sentinels), for a base model trained from scratch. */
export function prunedTokenizer(data: TaskData, numPos: number): PrunedTokenizer {
  const full = loadDefaultT5Tokenizer();
  const corpus: number[][] = [];
  for (const t of data.texts) corpus.push(full.encode(t));
  for (const e of [...data.trainExamples, ...data.heldOutExamples]) corpus.push(full.encode(e.concatenated));
  for (const t of [...data.train, ...data.heldOut]) corpus.push(full.encode(instructionText(t, numPos)));
  const map = buildVocabMap(corpus, { originalVocabSize: 32128, sentinels: SENTINELS });
  return new PrunedTokenizer(full, map);
}
