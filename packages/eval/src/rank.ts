// Rank classification: score every answer choice with the model, predict the best one.
// The model is injected as a scorer, so this module has no model dependency.
//
// Normalisation of a choice's score:
//   'mean' - mean log-likelihood per target token (TAGI, FiD-ICL): sum / tokens;
//   'sum'  - summed log-likelihood (HINT, t5x `rank_classification`): long choices are penalised.
// Ties: the FIRST choice with the maximal score wins, as argmax does in numpy / PyTorch.
// Accuracy is reported ×100 like the SNI metrics.

import { EvalInputError } from './errors.js';

export type RankNormalization = 'mean' | 'sum';

/** The model's score of one choice: summed token log-likelihood and the number of target tokens. */
export interface ChoiceScore {
  /** Σ log p(token) over the choice's target tokens (≤ 0; -Infinity allowed) */
  readonly sum: number;
  /** number of target tokens scored (labels ≠ -100, eos included if the model scores it) */
  readonly tokens: number;
}

/**
 * Scores a batch: `result[i][j]` is the score of `choices[i][j]` as the target for `inputs[i]`.
 * t5-model's `scoreTargets` gives exactly this (its summed log-likelihood and token count).
 */
export type ChoiceScorer = (
  inputs: readonly string[],
  choices: readonly (readonly string[])[],
) => readonly (readonly ChoiceScore[])[] | Promise<readonly (readonly ChoiceScore[])[]>;

export interface RankExample {
  readonly input: string;
  readonly choices: readonly string[];
  /** index of the correct choice, or several indices when more than one choice is correct */
  readonly label: number | readonly number[];
}

export interface RankOptions {
  /** default 'mean' (TAGI's setting) */
  readonly normalization?: RankNormalization;
  /** examples per scorer call; default 16 */
  readonly batchSize?: number;
}

export interface RankResult {
  /** accuracy ×100 */
  readonly accuracy: number;
  readonly count: number;
  /** predicted choice index per example */
  readonly predictions: number[];
  readonly correct: boolean[];
}

function checkScore(fn: string, where: string, s: unknown, normalization: RankNormalization): asserts s is ChoiceScore {
  if (s === null || typeof s !== 'object') throw new EvalInputError(fn, where, 'a {sum, tokens} score', s);
  const { sum, tokens } = s as { sum: unknown; tokens: unknown };
  if (typeof sum !== 'number' || Number.isNaN(sum) || sum === Infinity) {
    throw new EvalInputError(fn, `${where}.sum`, 'a log-likelihood (a number, not NaN or +Infinity)', sum);
  }
  if (typeof tokens !== 'number' || !Number.isInteger(tokens) || tokens < 0) {
    throw new EvalInputError(fn, `${where}.tokens`, 'a non-negative integer token count', tokens);
  }
  if (normalization === 'mean' && tokens === 0) {
    throw new EvalInputError(fn, `${where}.tokens`, "a positive token count for 'mean' normalisation", tokens);
  }
}

/** The normalised score of one choice. */
export function normalizedScore(score: ChoiceScore, normalization: RankNormalization): number {
  checkScore('normalizedScore', 'score', score, normalization);
  return normalization === 'mean' ? score.sum / score.tokens : score.sum;
}

/** Index of the best choice; ties go to the first maximal choice (argmax). */
export function pickChoice(scores: readonly ChoiceScore[], normalization: RankNormalization = 'mean'): number {
  if (!Array.isArray(scores) || scores.length === 0) {
    throw new EvalInputError('pickChoice', 'scores', 'at least one choice score', scores);
  }
  let best = 0;
  let bestValue = -Infinity;
  scores.forEach((s, j) => {
    checkScore('pickChoice', `scores[${j}]`, s, normalization);
    const v = normalization === 'mean' ? s.sum / s.tokens : s.sum;
    // strict '>' keeps the first of equal scores; a choice scoring -Infinity can still win when all do
    if (v > bestValue || j === 0) {
      best = j;
      bestValue = v;
    }
  });
  return best;
}

/** @internal */
export function checkLabel(fn: string, where: string, label: unknown, numChoices: number): readonly number[] {
  const list = typeof label === 'number' ? [label] : label;
  if (!Array.isArray(list) || list.length === 0) {
    throw new EvalInputError(fn, where, `a choice index in [0, ${numChoices}) or a non-empty list of them`, label);
  }
  for (const l of list) {
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 0 || l >= numChoices) {
      throw new EvalInputError(fn, where, `choice indices in [0, ${numChoices})`, label);
    }
  }
  return list as readonly number[];
}

/** Accuracy of precomputed scores: `scores[i][j]` for example i, choice j. */
export function rankAccuracy(
  scores: readonly (readonly ChoiceScore[])[],
  labels: readonly (number | readonly number[])[],
  normalization: RankNormalization = 'mean',
): RankResult {
  if (!Array.isArray(scores)) throw new EvalInputError('rankAccuracy', 'scores', 'an array of per-example choice scores', scores);
  if (!Array.isArray(labels) || labels.length !== scores.length) {
    throw new EvalInputError('rankAccuracy', 'labels', `one label per example (${scores.length} examples)`, labels);
  }
  if (scores.length === 0) throw new EvalInputError('rankAccuracy', 'scores', 'at least one example', scores);
  const predictions: number[] = [];
  const correct: boolean[] = [];
  scores.forEach((row, i) => {
    if (!Array.isArray(row) || row.length === 0) {
      throw new EvalInputError('rankAccuracy', `scores[${i}]`, 'at least one choice score', row);
    }
    const gold = checkLabel('rankAccuracy', `labels[${i}]`, labels[i], row.length);
    const p = pickChoice(row, normalization);
    predictions.push(p);
    correct.push(gold.includes(p));
  });
  const hits = correct.filter(Boolean).length;
  return { accuracy: (100 * hits) / scores.length, count: scores.length, predictions, correct };
}

/** Rank classification with an injected scorer, in batches. */
export async function rankClassify(examples: readonly RankExample[], scorer: ChoiceScorer, opts: RankOptions = {}): Promise<RankResult> {
  const normalization = opts.normalization ?? 'mean';
  if (normalization !== 'mean' && normalization !== 'sum') {
    throw new EvalInputError('rankClassify', 'opts.normalization', "'mean' or 'sum'", normalization);
  }
  if (!Array.isArray(examples) || examples.length === 0) {
    throw new EvalInputError('rankClassify', 'examples', 'a non-empty array of {input, choices, label}', examples);
  }
  examples.forEach((e, i) => {
    if (e === null || typeof e !== 'object') throw new EvalInputError('rankClassify', `examples[${i}]`, 'an object', e);
    if (typeof e.input !== 'string') throw new EvalInputError('rankClassify', `examples[${i}].input`, 'a string', e.input);
    if (!Array.isArray(e.choices) || e.choices.length === 0 || e.choices.some((c: unknown) => typeof c !== 'string')) {
      throw new EvalInputError('rankClassify', `examples[${i}].choices`, 'a non-empty array of strings', e.choices);
    }
    checkLabel('rankClassify', `examples[${i}].label`, e.label, e.choices.length);
  });
  const all = await scoreChoices(examples, scorer, { batchSize: opts.batchSize, fn: 'rankClassify' });
  return rankAccuracy(
    all,
    examples.map((e) => e.label),
    normalization,
  );
}

/**
 * Scores every choice of every example with the injected scorer, in batches of `batchSize` (default 16):
 * `result[i][j]` is `{sum, tokens}` of choice j of example i. Labels are not looked at, so one pass
 * serves both normalisations (`rankAccuracy(scores, labels, 'mean' | 'sum')`).
 */
export async function scoreChoices(
  examples: readonly { readonly input: string; readonly choices: readonly string[] }[],
  scorer: ChoiceScorer,
  opts: { readonly batchSize?: number | undefined; readonly fn?: string } = {},
): Promise<(readonly ChoiceScore[])[]> {
  const fn = opts.fn ?? 'scoreChoices';
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EvalInputError(fn, 'opts.batchSize', 'a positive integer', batchSize);
  }
  if (!Array.isArray(examples)) throw new EvalInputError(fn, 'examples', 'an array of {input, choices}', examples);
  if (typeof scorer !== 'function') throw new EvalInputError(fn, 'scorer', 'a function', scorer);
  examples.forEach((e, i) => {
    if (e === null || typeof e !== 'object') throw new EvalInputError(fn, `examples[${i}]`, 'an object', e);
    if (typeof e.input !== 'string') throw new EvalInputError(fn, `examples[${i}].input`, 'a string', e.input);
    if (!Array.isArray(e.choices) || e.choices.length === 0 || e.choices.some((c: unknown) => typeof c !== 'string')) {
      throw new EvalInputError(fn, `examples[${i}].choices`, 'a non-empty array of strings', e.choices);
    }
  });
  const all: (readonly ChoiceScore[])[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    const out = await scorer(
      batch.map((e) => e.input),
      batch.map((e) => e.choices),
    );
    if (!Array.isArray(out) || out.length !== batch.length) {
      throw new EvalInputError(fn, 'scorer result', `${batch.length} rows (one per input)`, out);
    }
    out.forEach((row, k) => {
      const expected = (batch[k] as RankExample).choices.length;
      if (!Array.isArray(row) || row.length !== expected) {
        throw new EvalInputError(fn, `scorer result[${start + k}]`, `${expected} choice scores`, row);
      }
      all.push(row);
    });
  }
  return all;
}

/** Accuracy of one prompt template on one dataset. */
export interface TemplateResult {
  readonly dataset: string;
  readonly template: string;
  /** accuracy ×100 */
  readonly accuracy: number;
}

export interface DatasetSummary {
  readonly dataset: string;
  /** mean over templates */
  readonly mean: number;
  /** median over templates (T0's plots) */
  readonly median: number;
  readonly templates: number;
}

export interface T0Summary {
  /** mean over datasets of the per-dataset template mean */
  readonly average: number;
  /** per dataset, in first-seen order */
  readonly datasets: DatasetSummary[];
}

/** T0-style averaging: mean over templates within each dataset, then the mean over datasets. */
export function t0Average(results: readonly TemplateResult[]): T0Summary {
  if (!Array.isArray(results) || results.length === 0) {
    throw new EvalInputError('t0Average', 'results', 'at least one {dataset, template, accuracy}', results);
  }
  const byDataset = new Map<string, number[]>();
  results.forEach((r, i) => {
    if (typeof r?.dataset !== 'string') throw new EvalInputError('t0Average', `results[${i}].dataset`, 'a string', r?.dataset);
    if (typeof r.accuracy !== 'number' || !Number.isFinite(r.accuracy)) {
      throw new EvalInputError('t0Average', `results[${i}].accuracy`, 'a finite number', r.accuracy);
    }
    const list = byDataset.get(r.dataset);
    if (list) list.push(r.accuracy);
    else byDataset.set(r.dataset, [r.accuracy]);
  });
  const datasets: DatasetSummary[] = [];
  for (const [dataset, accs] of byDataset) {
    const sorted = [...accs].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    datasets.push({ dataset, mean: accs.reduce((s, a) => s + a, 0) / accs.length, median, templates: accs.length });
  }
  return { average: datasets.reduce((s, d) => s + d.mean, 0) / datasets.length, datasets };
}
