// Seq2seq batches: (input, target) pairs → padded id batches with -100 labels at padding, and HF's
// `_shift_right` for decoder inputs.

import { T5InputError } from './types.js';

export const IGNORE_INDEX = -100;

/** Thrown where batches are made when an id is not a valid token for the model; names the field, row and column. */
export class BatchIdError extends T5InputError {
  constructor(
    readonly field: string,
    readonly row: number,
    readonly column: number,
    readonly id: number,
    readonly vocabSize: number,
  ) {
    super(`${field}[${row}][${column}]: id ${id} is outside [0, ${vocabSize}) (vocab_size ${vocabSize})`);
    this.name = 'BatchIdError';
  }
}

/**
 * The id check of the batch boundary: every id an integer in [0, vocabSize) (or -100 with allowIgnore).
 * Batches are checked here, on host arrays, so the model's forward pass never reads ids back.
 */
export function checkIdRows(rows: readonly (readonly number[])[], vocabSize: number, field: string, allowIgnore = false): void {
  rows.forEach((row, r) =>
    row.forEach((id, c) => {
      if (!Number.isInteger(id) || ((id < 0 || id >= vocabSize) && !(allowIgnore && id === IGNORE_INDEX))) throw new BatchIdError(field, r, c, id, vocabSize);
    }),
  );
}

/** What the collator needs from a tokenizer (T5Tokenizer, or one wrapped by a VocabMap). */
export interface IdEncoder {
  readonly padTokenId: number;
  encode(text: string, opts?: { addSpecialTokens?: boolean; maxLength?: number }): number[];
}

export interface Seq2SeqBatch {
  inputIds: number[][];
  attentionMask: number[][];
  /** Target ids, -100 at padding. */
  labels: number[][];
  /** shiftRight(labels): decoder start id first, -100 replaced by the pad id. */
  decoderInputIds: number[][];
}

/** HF `_shift_right`: prepend the decoder start id, drop the last id, replace -100 with pad. */
export function shiftRight(labels: readonly (readonly number[])[], decoderStartTokenId: number, padTokenId: number): number[][] {
  return labels.map((row) => [decoderStartTokenId, ...row.slice(0, -1)].map((id) => (id === IGNORE_INDEX ? padTokenId : id)));
}

export interface CollateOptions {
  maxSourceLength?: number;
  maxTargetLength?: number;
  /** Default: the pad id (as in every T5 checkpoint). */
  decoderStartTokenId?: number;
  /** The model's vocab_size: every id is checked against it (BatchIdError), e.g. a pruned model behind a full tokenizer. */
  vocabSize?: number;
}

/** Encode, truncate (eos kept), right-pad; labels padded with -100. */
export function collateSeq2Seq(pairs: readonly { input: string; target: string }[], tokenizer: IdEncoder, opts: CollateOptions = {}): Seq2SeqBatch {
  if (pairs.length === 0) throw new RangeError('collateSeq2Seq(pairs): expected at least one pair');
  const src = pairs.map((p) => tokenizer.encode(p.input, { maxLength: opts.maxSourceLength }));
  const tgt = pairs.map((p) => tokenizer.encode(p.target, { maxLength: opts.maxTargetLength }));
  return collateIds(src, tgt, tokenizer.padTokenId, opts.decoderStartTokenId ?? tokenizer.padTokenId, { vocabSize: opts.vocabSize });
}

/** The same from id rows. */
export function collateIds(
  sources: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
  padTokenId: number,
  decoderStartTokenId = padTokenId,
  opts: { vocabSize?: number } = {},
): Seq2SeqBatch {
  if (sources.length !== targets.length) throw new RangeError(`collateIds: ${sources.length} sources but ${targets.length} targets`);
  if (opts.vocabSize !== undefined) {
    checkIdRows(sources, opts.vocabSize, 'inputIds');
    checkIdRows(targets, opts.vocabSize, 'labels');
    checkIdRows([[padTokenId, decoderStartTokenId]], opts.vocabSize, 'padTokenId/decoderStartTokenId');
  }
  const sLen = Math.max(1, ...sources.map((r) => r.length));
  const tLen = Math.max(1, ...targets.map((r) => r.length));
  const inputIds = sources.map((r) => [...r, ...new Array<number>(sLen - r.length).fill(padTokenId)]);
  const attentionMask = sources.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(sLen - r.length).fill(0)]);
  const labels = targets.map((r) => [...r, ...new Array<number>(tLen - r.length).fill(IGNORE_INDEX)]);
  return { inputIds, attentionMask, labels, decoderInputIds: shiftRight(labels, decoderStartTokenId, padTokenId) };
}
