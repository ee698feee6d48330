// Parity with SNI's compute_metrics.py + Google rouge_score + NLTK 3.8 on the golden cases
// (copied into __fixtures__/rouge from ../shared/golden/rouge; see the NOTICE there).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeMetrics, exactMatch, normalizeAnswer, porterStem, rouge1, rougeL, rougeLPair, rougeTokenize } from './index.js';

interface GoldenCase {
  id: number;
  tag: string;
  prediction: string;
  references: string[];
  rougeL: number;
  rouge1: number;
  exact_match: number;
  per_reference_rougeL: number[];
  tokens_prediction: string[];
  tokens_references: string[][];
  normalized_prediction: string;
  normalized_references: string[];
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageRoot, '..', '..');
const fixtureDir = path.join(packageRoot, '__fixtures__', 'rouge');
const sharedDir = path.resolve(repoRoot, '..', 'shared', 'golden', 'rouge');

const cases: GoldenCase[] = fs
  .readFileSync(path.join(fixtureDir, 'cases.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim().length > 0)
  .map((l) => JSON.parse(l) as GoldenCase);
const aggregate = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'aggregate.json'), 'utf8')) as {
  compute_metrics: { exact_match: number; rouge1: number; rougeL: number };
  n: number;
};

const TOL = 1e-9;

describe('golden rouge cases (SNI compute_metrics + rouge_score + NLTK 3.8)', () => {
  it('has all 160 cases', () => {
    expect(cases).toHaveLength(160);
    expect(aggregate.n).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.id, c.tag, c] as const))('case %i (%s): rougeL, rouge1, exact match', (_id, _tag, c) => {
    expect(Math.abs(rougeL(c.prediction, c.references) - c.rougeL)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(rouge1(c.prediction, c.references) - c.rouge1)).toBeLessThanOrEqual(TOL);
    expect(exactMatch(c.prediction, c.references)).toBe(c.exact_match);
    c.references.forEach((r, i) => {
      expect(Math.abs(100 * rougeLPair(c.prediction, r).fmeasure - (c.per_reference_rougeL[i] as number))).toBeLessThanOrEqual(TOL);
    });
  });

  it('reproduces the scorer tokens and normalised strings of every case', () => {
    for (const c of cases) {
      expect(rougeTokenize(c.prediction), `case ${c.id}`).toEqual(c.tokens_prediction);
      c.references.forEach((r, i) => expect(rougeTokenize(r), `case ${c.id} ref ${i}`).toEqual(c.tokens_references[i]));
      expect(normalizeAnswer(c.prediction)).toBe(c.normalized_prediction);
      c.references.forEach((r, i) => expect(normalizeAnswer(r)).toBe(c.normalized_references[i]));
    }
  });

  it('porterStem agrees with NLTK on every word of the cases longer than 3 characters', () => {
    // Before stemming, rouge_score's pieces map one to one onto its tokens, so the golden tokens
    // give NLTK's stem of each piece.
    let checked = 0;
    for (const c of cases) {
      const texts = [c.prediction, ...c.references];
      const tokenLists = [c.tokens_prediction, ...c.tokens_references];
      texts.forEach((text, t) => {
        const pieces = text
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, ' ')
          .split(' ')
          .filter(Boolean);
        const golden = tokenLists[t] as string[];
        expect(pieces.length).toBe(golden.length);
        pieces.forEach((piece, k) => {
          if (piece.length > 3) {
            expect(porterStem(piece), `'${piece}' in case ${c.id}`).toBe(golden[k]);
            checked++;
          }
        });
      });
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('computeMetrics over all cases reproduces aggregate.json', () => {
    const m = computeMetrics(
      cases.map((c) => c.prediction),
      cases.map((c) => c.references),
    );
    expect(m.count).toBe(160);
    expect(m.exactMatch).toBe(aggregate.compute_metrics.exact_match);
    expect(m.rouge1).toBe(aggregate.compute_metrics.rouge1);
    expect(m.rougeL).toBe(aggregate.compute_metrics.rougeL);
  });

  it('unrounded micro averages equal the mean of the golden per-case scores', () => {
    const m = computeMetrics(
      cases.map((c) => c.prediction),
      cases.map((c) => c.references),
      { roundDigits: null },
    );
    const mean = (f: (c: GoldenCase) => number): number => cases.reduce((s, c) => s + f(c), 0) / cases.length;
    expect(Math.abs(m.rougeL - mean((c) => c.rougeL))).toBeLessThan(1e-9);
    expect(Math.abs(m.rouge1 - mean((c) => c.rouge1))).toBeLessThan(1e-9);
    expect(Math.abs(m.exactMatch - mean((c) => c.exact_match))).toBeLessThan(1e-9);
  });
});

describe.skipIf(!fs.existsSync(sharedDir))('fixture copy (skipped: ../shared/golden/rouge not present beside the repo)', () => {
  it('is identical to ../shared/golden/rouge', () => {
    for (const f of ['cases.jsonl', 'aggregate.json']) {
      expect(fs.readFileSync(path.join(fixtureDir, f), 'utf8')).toBe(fs.readFileSync(path.join(sharedDir, f), 'utf8'));
    }
  });
});
