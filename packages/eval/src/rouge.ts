// ROUGE-L, ROUGE-1 and exact match as SNI's compute_metrics.py computes them with Google's
// rouge_score (`RougeScorer([...], use_stemmer=True)`):
//   rougeL(target, prediction): LCS over tokens; precision = lcs/|pred|, recall = lcs/|target|,
//     F = 2PR/(P+R) (0 when P+R = 0); an empty token list on either side scores 0.
//   rouge1: clipped unigram overlap, precision = overlap/max(|pred|,1), recall = overlap/max(|target|,1).
//   Scores per prediction are the max over its references, times 100.
// Floating point is evaluated in the same order as the Python code so results agree bit for bit.

import { expectReferences, expectString } from './errors.js';
import { normalizeAnswer, rougeTokenize } from './text.js';

export interface RougeScore {
  readonly precision: number;
  readonly recall: number;
  readonly fmeasure: number;
}

/** A tokenizer replacing rouge_score's default one (SNI's cross-lingual tasks pass GPT-2 tokens). */
export type RougeTokenizer = (text: string) => readonly string[];

export interface RougeOptions {
  /**
   * Custom tokenizer, used as is (no stemming or filtering), as rouge_score does with `tokenizer=`.
   * Default: rouge_score's tokenizer with the Porter stemmer (SNI's English setting).
   */
  readonly tokenizer?: RougeTokenizer;
}

const ZERO: RougeScore = { precision: 0, recall: 0, fmeasure: 0 };

/** rouge_score `scoring.fmeasure`. */
function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

// Two DP rows reused across calls (grown on demand): no allocation per pair in the hot loop.
let rowA = new Int32Array(64);
let rowB = new Int32Array(64);

/** Length of the longest common subsequence of two token lists (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const n = b.length;
  if (a.length === 0 || n === 0) return 0;
  if (rowA.length < n + 1) {
    rowA = new Int32Array(2 * (n + 1));
    rowB = new Int32Array(2 * (n + 1));
  }
  let previous = rowA;
  let current = rowB;
  previous.fill(0, 0, n + 1);
  current[0] = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    for (let j = 0; j < n; j++) {
      if (ai === b[j]) {
        current[j + 1] = (previous[j] as number) + 1;
      } else {
        const up = previous[j + 1] as number;
        const left = current[j] as number;
        current[j + 1] = up > left ? up : left;
      }
    }
    const swap = previous;
    previous = current;
    current = swap;
  }
  return previous[n] as number;
}

/** ROUGE-L of token lists (rouge_score `_score_lcs(target_tokens, prediction_tokens)`). */
export function rougeLTokens(targetTokens: readonly string[], predictionTokens: readonly string[]): RougeScore {
  if (targetTokens.length === 0 || predictionTokens.length === 0) return ZERO;
  const lcs = lcsLength(targetTokens, predictionTokens);
  const precision = lcs / predictionTokens.length;
  const recall = lcs / targetTokens.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** ROUGE-1 of token lists (rouge_score `_score_ngrams` with n = 1). */
export function rouge1Tokens(targetTokens: readonly string[], predictionTokens: readonly string[]): RougeScore {
  const counts = new Map<string, number>();
  for (const t of targetTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of predictionTokens) {
    const left = counts.get(t);
    if (left !== undefined && left > 0) {
      overlap++;
      counts.set(t, left - 1);
    }
  }
  const precision = overlap / Math.max(predictionTokens.length, 1);
  const recall = overlap / Math.max(targetTokens.length, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function tokenizeWith(opts: RougeOptions): RougeTokenizer {
  return opts.tokenizer ?? ((text: string) => rougeTokenize(text));
}

/** One prediction against one reference: `RougeScorer(['rougeL'], use_stemmer=True).score(reference, prediction)['rougeL']`. */
export function rougeLPair(prediction: string, reference: string, opts: RougeOptions = {}): RougeScore {
  expectString('rougeLPair', 'prediction', prediction);
  expectString('rougeLPair', 'reference', reference);
  const tokenize = tokenizeWith(opts);
  return rougeLTokens(tokenize(reference), tokenize(prediction));
}

/** One prediction against one reference, ROUGE-1. */
export function rouge1Pair(prediction: string, reference: string, opts: RougeOptions = {}): RougeScore {
  expectString('rouge1Pair', 'prediction', prediction);
  expectString('rouge1Pair', 'reference', reference);
  const tokenize = tokenizeWith(opts);
  return rouge1Tokens(tokenize(reference), tokenize(prediction));
}

/** Max over references of the raw F-measure (0..1), as SNI's `metric_max_over_ground_truths`. */
function maxOverReferences(
  fn: string,
  prediction: string,
  references: readonly string[],
  score: (target: readonly string[], pred: readonly string[]) => RougeScore,
  opts: RougeOptions,
): number {
  expectString(fn, 'prediction', prediction);
  expectReferences(fn, 'references', references);
  const tokenize = tokenizeWith(opts);
  const predictionTokens = tokenize(prediction);
  let best = -Infinity;
  for (const reference of references) best = Math.max(best, score(tokenize(reference), predictionTokens).fmeasure);
  return best;
}

/** @internal raw (0..1) max-over-references scores, shared with computeMetrics */
export function rawScores(
  fn: string,
  prediction: string,
  references: readonly string[],
  opts: RougeOptions,
  index?: number,
): { exactMatch: number; rouge1: number; rougeL: number } {
  expectString(fn, index === undefined ? 'prediction' : `predictions[${index}]`, prediction);
  expectReferences(fn, index === undefined ? 'references' : `references[${index}]`, references);
  const tokenize = tokenizeWith(opts);
  const predictionTokens = tokenize(prediction);
  const normalizedPrediction = normalizeAnswer(prediction);
  let exactMatch = 0;
  let rouge1 = -Infinity;
  let rougeL = -Infinity;
  for (const reference of references) {
    const referenceTokens = tokenize(reference);
    if (normalizeAnswer(reference) === normalizedPrediction) exactMatch = 1;
    rouge1 = Math.max(rouge1, rouge1Tokens(referenceTokens, predictionTokens).fmeasure);
    rougeL = Math.max(rougeL, rougeLTokens(referenceTokens, predictionTokens).fmeasure);
  }
  return { exactMatch, rouge1, rougeL };
}

/** SNI ROUGE-L of one prediction: 100 × max over references of the LCS F-measure. */
export function rougeL(prediction: string, references: readonly string[], opts: RougeOptions = {}): number {
  return 100 * maxOverReferences('rougeL', prediction, references, rougeLTokens, opts);
}

/** SNI ROUGE-1 of one prediction: 100 × max over references of the unigram F-measure. */
export function rouge1(prediction: string, references: readonly string[], opts: RougeOptions = {}): number {
  return 100 * maxOverReferences('rouge1', prediction, references, rouge1Tokens, opts);
}

/** SNI exact match of one prediction: 100 if `normalizeAnswer` equals that of any reference, else 0. */
export function exactMatch(prediction: string, references: readonly string[]): number {
  expectString('exactMatch', 'prediction', prediction);
  expectReferences('exactMatch', 'references', references);
  const normalized = normalizeAnswer(prediction);
  return references.some((r) => normalizeAnswer(r) === normalized) ? 100 : 0;
}
