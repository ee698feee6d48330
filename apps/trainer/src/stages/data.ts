// Stage 'data': the task suite (or SNI dir / registered dataset), the tokenizer and, for a base model
// trained from scratch, the vocabulary pruned to the ids the data uses.
import { type EmbeddedTask, type TagiExample, embeddedSuite, suiteTexts, tagiExamples } from '@tagi/datasets';
import { type PrunedTokenizer as PrunedTokenizerT, type T5Tokenizer, PRUNED_VOCAB_FILE, PrunedTokenizer, VocabMap, buildVocabMap } from '@tagi/t5-model';
import { loadDefaultT5Tokenizer, loadT5Tokenizer } from '@tagi/t5-model/node';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '../errors.js';
import type { RunContext } from '../run.js';

export type Tok = T5Tokenizer | PrunedTokenizerT;

export interface TaskData {
  /** Training tasks (instances capped at prompt.maxInstancesPerTask). */
  train: EmbeddedTask[];
  /** Held-out tasks (instances capped at prompt.maxEvalInstancesPerTask). */
  heldOut: EmbeddedTask[];
  /** TAGI views of each training instance (instruction / student input / concatenated prompt). */
  trainExamples: TagiExample[];
  heldOutExamples: TagiExample[];
  /** Every text of the suite (pretraining corpus for the base model and the hypernet's stage 2). */
  texts: string[];
}

/** Number of T5 sentinels kept in a pruned vocabulary (span corruption of the base pretraining). */
export const SENTINELS = 16;

function cap<T extends { instances: readonly unknown[] }>(t: T, n: number): T {
  return { ...t, instances: t.instances.slice(0, n) };
}

export function loadTaskData(ctx: RunContext): TaskData {
  const c = ctx.config;
  if (c.data !== 'embedded') {
    throw new CliError(`--data=${c.data}: only the embedded suite is wired into the trainer in this build (SNI/P3 directories: see the README)`);
  }
  // The suite's own seed stays 0 (the split and baselines documented in @tagi/datasets); --seed drives the model side.
  const suite = embeddedSuite({ seed: 0 });
  const train = suite.train.map((t) => cap(t, c.prompt.maxInstancesPerTask));
  const heldOut = suite.heldOut.map((t) => cap(t, c.prompt.maxEvalInstancesPerTask));
  const opts = { addDefinition: true, numPositive: c.prompt.numPos };
  const trainExamples = train.flatMap((t) => tagiExamples(t, opts));
  const heldOutExamples = heldOut.flatMap((t) => tagiExamples(t, opts));
  return { train, heldOut, trainExamples, heldOutExamples, texts: [...suiteTexts(suite)] };
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
export function prunedTokenizer(data: TaskData): PrunedTokenizer {
  const full = loadDefaultT5Tokenizer();
  const corpus: number[][] = [];
  for (const t of data.texts) corpus.push(full.encode(t));
  for (const e of [...data.trainExamples, ...data.heldOutExamples]) {
    corpus.push(full.encode(e.concatenated));
    corpus.push(full.encode(e.instruction));
  }
  const map = buildVocabMap(corpus, { originalVocabSize: 32128, sentinels: SENTINELS });
  return new PrunedTokenizer(full, map);
}
