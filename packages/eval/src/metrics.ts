// SNI's `compute_metrics` / `compute_grouped_metrics` (Tk-Instruct, TAGI): micro average over
// instances of the per-instance max over references, ×100, rounded to 4 decimals with Python's
// `round`. Bad input follows the reference where it is defined and fails loudly where it crashes:
//   - predictions and references of different lengths: the reference asserts -> EvalInputError;
//   - a non-string prediction or reference: the reference crashes in `.lower()` -> EvalInputError;
//   - an empty reference list: `max([])` raises in the reference -> EvalInputError;
//   - zero instances: division by zero in the reference -> EvalInputError;
//   - empty strings are valid: ROUGE 0 when either side has no tokens; exact match compares the
//     normalised strings, so '' matches '' and '...' matches '???' (both normalise to '').

import { EvalInputError } from './errors.js';
import { pythonRound } from './round.js';
import { rawScores, type RougeOptions } from './rouge.js';

export interface Metrics {
  /** SNI `exact_match`, 0..100 */
  readonly exactMatch: number;
  /** SNI `rouge1`, 0..100 */
  readonly rouge1: number;
  /** SNI `rougeL`, 0..100 */
  readonly rougeL: number;
  /** number of instances averaged */
  readonly count: number;
}

export interface ComputeMetricsOptions extends RougeOptions {
  /** Round to this many decimals like SNI (`round(v, 4)`); `null` keeps full precision. Default 4. */
  readonly roundDigits?: number | null;
}

function checkLengths(fn: string, predictions: unknown, references: unknown, groups?: unknown): void {
  if (!Array.isArray(predictions)) throw new EvalInputError(fn, 'predictions', 'an array of strings', predictions);
  if (!Array.isArray(references)) {
    throw new EvalInputError(fn, 'references', 'an array of reference lists (string[][])', references);
  }
  if (predictions.length !== references.length) {
    throw new EvalInputError(fn, 'references', `one reference list per prediction (${predictions.length} predictions)`, references);
  }
  if (groups !== undefined) {
    if (!Array.isArray(groups) || groups.length !== predictions.length) {
      throw new EvalInputError(fn, 'groups', `one group name per prediction (${predictions.length} predictions)`, groups);
    }
  }
  if (predictions.length === 0) {
    throw new EvalInputError(fn, 'predictions', 'at least one instance (SNI divides by the count)', predictions);
  }
}

/** SNI `compute_metrics(predictions, references)`: micro-averaged exact match, ROUGE-1 and ROUGE-L. */
export function computeMetrics(predictions: readonly string[], references: readonly (readonly string[])[], opts: ComputeMetricsOptions = {}): Metrics {
  checkLengths('computeMetrics', predictions, references);
  return sumToMetrics(
    predictions.map((p, i) => rawScores('computeMetrics', p, references[i] as readonly string[], opts, i)),
    opts,
  );
}

type RawScores = ReturnType<typeof rawScores>;

function sumToMetrics(raw: readonly RawScores[], opts: ComputeMetricsOptions): Metrics {
  // Summed in instance order, then 100·sum/n: the reference's order of floating-point operations.
  let em = 0;
  let r1 = 0;
  let rl = 0;
  for (const s of raw) {
    em += s.exactMatch;
    r1 += s.rouge1;
    rl += s.rougeL;
  }
  const n = raw.length;
  const digits = opts.roundDigits === undefined ? 4 : opts.roundDigits;
  const finish = (sum: number): number => {
    const v = (100 * sum) / n;
    return digits === null ? v : pythonRound(v, digits);
  };
  return { exactMatch: finish(em), rouge1: finish(r1), rougeL: finish(rl), count: n };
}

/**
 * SNI `compute_grouped_metrics`: `computeMetrics` within each group. Groups keep first-seen order
 * (Python dict order). Use task names for per-task scores and categories for per-category scores.
 */
export function computeGroupedMetrics(
  predictions: readonly string[],
  references: readonly (readonly string[])[],
  groups: readonly string[],
  opts: ComputeMetricsOptions = {},
): Map<string, Metrics> {
  checkLengths('computeGroupedMetrics', predictions, references, groups);
  const raw = predictions.map((p, i) => rawScores('computeGroupedMetrics', p, references[i] as readonly string[], opts, i));
  return groupRaw('computeGroupedMetrics', raw, groups, opts);
}

function groupRaw(fn: string, raw: readonly RawScores[], groups: readonly string[], opts: ComputeMetricsOptions): Map<string, Metrics> {
  const byGroup = new Map<string, RawScores[]>();
  raw.forEach((scores, i) => {
    const group = groups[i];
    if (typeof group !== 'string') throw new EvalInputError(fn, `groups[${i}]`, 'a string', group);
    const list = byGroup.get(group);
    if (list) list.push(scores);
    else byGroup.set(group, [scores]);
  });
  const out = new Map<string, Metrics>();
  for (const [group, list] of byGroup) out.set(group, sumToMetrics(list, opts));
  return out;
}

/** SNI's category key: `"_".join(category.lower().split())`, e.g. 'Title Generation' -> 'title_generation'. */
export function sniCategoryKey(category: string): string {
  return category.toLowerCase().trim().split(/\s+/).filter(Boolean).join('_');
}

/**
 * The metric SNI reports per test category (Tk-Instruct's `compute_metrics.py`): exact match for the
 * classification-like categories, ROUGE-L for generation. Keys are `sniCategoryKey` forms.
 */
export const SNI_CATEGORY_METRIC: Readonly<Record<string, 'exactMatch' | 'rougeL'>> = {
  textual_entailment: 'exactMatch',
  cause_effect_classification: 'exactMatch',
  coreference_resolution: 'exactMatch',
  dialogue_act_recognition: 'exactMatch',
  answerability_classification: 'exactMatch',
  word_analogy: 'exactMatch',
  overlap_extraction: 'rougeL',
  keyword_tagging: 'rougeL',
  question_rewriting: 'rougeL',
  title_generation: 'rougeL',
  data_to_text: 'rougeL',
  grammar_error_correction: 'rougeL',
};

/** One evaluated instance with its task and category, as SNI's prediction files carry them. */
export interface EvalRecord {
  readonly prediction: string;
  readonly references: readonly string[];
  readonly task: string;
  /** SNI category as written in the task file ('Title Generation'); grouped by `sniCategoryKey` */
  readonly category: string;
}

export interface SniReport {
  readonly overall: Metrics;
  readonly byTask: Map<string, Metrics>;
  readonly byCategory: Map<string, Metrics>;
}

/** Overall, per-task and per-category metrics in one pass over SNI-style records. */
export function evaluateRecords(records: readonly EvalRecord[], opts: ComputeMetricsOptions = {}): SniReport {
  if (!Array.isArray(records)) throw new EvalInputError('evaluateRecords', 'records', 'an array of records', records);
  const predictions: string[] = [];
  const references: (readonly string[])[] = [];
  const tasks: string[] = [];
  const categories: string[] = [];
  records.forEach((r, i) => {
    if (r === null || typeof r !== 'object') throw new EvalInputError('evaluateRecords', `records[${i}]`, 'an object', r);
    if (typeof r.task !== 'string') throw new EvalInputError('evaluateRecords', `records[${i}].task`, 'a string', r.task);
    if (typeof r.category !== 'string') {
      throw new EvalInputError('evaluateRecords', `records[${i}].category`, 'a string', r.category);
    }
    predictions.push(r.prediction);
    references.push(r.references);
    tasks.push(r.task);
    categories.push(sniCategoryKey(r.category));
  });
  checkLengths('evaluateRecords', predictions, references);
  const raw = predictions.map((p, i) => rawScores('evaluateRecords', p, references[i] as readonly string[], opts, i));
  return {
    overall: sumToMetrics(raw, opts),
    byTask: groupRaw('evaluateRecords', raw, tasks, opts),
    byCategory: groupRaw('evaluateRecords', raw, categories, opts),
  };
}
