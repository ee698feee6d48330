// Id rows → padded tensors, and the seeded a|b|c split of pretraining documents.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@tagi/tensor-core';
import { checkLabelIds } from '@tagi/distill';
import { checkIdRows } from '@tagi/t5-model';
import { HypernetInputError } from './errors.js';

export const IGNORE_INDEX = -100;

/** Where a batch's ids are checked: the vocabulary they must lie in and the name errors give them. */
export interface IdCheck {
  /** Every id must be an integer in [0, vocabSize) (labels may also be -100). Absent: not checked. */
  readonly vocabSize?: number;
  /** Names the rows in errors (default 'rows' / 'labels'). */
  readonly argument?: string;
}

/**
 * Right-pads id rows: ids `[rows, maxLen]` int32 and mask `[rows, maxLen]` (1 = token). Caller owns both.
 * With `check.vocabSize` every id is checked here, on the host, before it becomes a tensor (the model's
 * forward reads nothing back, so this is where a bad id is caught): t5-model's `BatchIdError` names the row.
 */
export function padIds(rows: readonly (readonly number[])[], padId: number, check: IdCheck = {}): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  if (rows.length === 0) throw new HypernetInputError('rows', 'at least one id row', 'none');
  if (check.vocabSize !== undefined) checkIdRows(rows, check.vocabSize, check.argument ?? 'rows');
  const len = Math.max(1, ...rows.map((r) => r.length));
  const ids = rows.map((r) => [...r, ...new Array<number>(len - r.length).fill(padId)]);
  const mask = rows.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(len - r.length).fill(0)]);
  return { ids: tf.tensor2d(ids, [rows.length, len], 'int32'), mask: tf.tensor2d(mask, [rows.length, len], 'float32') };
}

/**
 * Right-pads label rows with -100: `[rows, maxLen]` int32. With `check.vocabSize` every label is checked
 * here (distill's losses no longer read labels back): distill's `DistillInputError` names `labels[row, col]`.
 */
export function padLabels(rows: readonly (readonly number[])[], check: IdCheck = {}): tf.Tensor2D {
  if (rows.length === 0) throw new HypernetInputError('labels', 'at least one label row', 'none');
  const len = Math.max(1, ...rows.map((r) => r.length));
  const flat = rows.flatMap((r) => [...r, ...new Array<number>(len - r.length).fill(IGNORE_INDEX)]);
  // checked before the int32 conversion, which would truncate a non-integer silently
  if (check.vocabSize !== undefined) checkLabelIds(flat, len, check.vocabSize, { ignoreIndex: IGNORE_INDEX, argument: check.argument ?? 'labels' });
  return tf.tensor2d(flat, [rows.length, len], 'int32');
}

/** Inclusive token-length ranges of the three segments of a pretraining document. */
export interface SplitLengths {
  /** a → the hypernetwork (plays the instruction). Default [16, 64]. */
  readonly instruction: readonly [number, number];
  /** b → the T5 encoder (plays the task input). Default [16, 64]. */
  readonly input: readonly [number, number];
  /** c → the target the student must produce. Default [8, 32]. */
  readonly target: readonly [number, number];
}

export const DEFAULT_SPLIT_LENGTHS: SplitLengths = { instruction: [16, 64], input: [16, 64], target: [8, 32] };

/** One pretraining example: consecutive spans a|b|c of a document, each ending in eos. */
export interface SplitExample {
  readonly instruction: number[];
  readonly input: number[];
  readonly target: number[];
}

/**
 * Seeded a|b|c split of one tokenised document (ids without eos). Lengths are drawn from the ranges;
 * when the document is shorter than their sum the three lengths are shrunk in proportion (each ≥ 1), and
 * a document with fewer than 3 tokens gives `null`. The start offset is drawn uniformly.
 */
export function splitDocument(ids: readonly number[], rng: Rng, lengths: SplitLengths, eosTokenId: number): SplitExample | null {
  if (ids.length < 3) return null;
  const draw = ([lo, hi]: readonly [number, number]): number => lo + Math.floor(rng.next() * (hi - lo + 1));
  let la = draw(lengths.instruction);
  let lb = draw(lengths.input);
  let lc = draw(lengths.target);
  const total = la + lb + lc;
  if (total > ids.length) {
    const f = ids.length / total;
    la = Math.max(1, Math.floor(la * f));
    lb = Math.max(1, Math.floor(lb * f));
    lc = Math.max(1, ids.length - la - lb);
    if (la + lb + lc > ids.length) return null;
  }
  const start = Math.floor(rng.next() * (ids.length - (la + lb + lc) + 1));
  const a = ids.slice(start, start + la);
  const b = ids.slice(start + la, start + la + lb);
  const c = ids.slice(start + la + lb, start + la + lb + lc);
  return { instruction: [...a, eosTokenId], input: [...b, eosTokenId], target: [...c, eosTokenId] };
}

export function checkSplitLengths(l: SplitLengths): void {
  for (const k of ['instruction', 'input', 'target'] as const) {
    const r = l[k];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => Number.isInteger(x) && x >= 1) || (r[0] as number) > (r[1] as number)) {
      throw new HypernetInputError(`split.${k}`, '[min, max] integers with 1 <= min <= max', JSON.stringify(r));
    }
  }
}
