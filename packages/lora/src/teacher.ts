// Stage 1 of TAGI as an objective for tensor-core's `fit`: a LoRA trained by instance training on
// seq2seq examples with the base model frozen. The same objective trains a per-task (or per-category)
// teacher and the instruction-concatenated multitask baseline: only the examples differ. Only the LoRA
// factors are parameters, so the backward pass computes no weight gradients for the base.
// Browser-safe; `trainLoraTeacher` in '@tagi/lora/node' runs this objective with checkpoints.
import * as tf from '@tensorflow/tfjs-core';
import { type BatchPart, type DeltaMap, type Module, type Objective, Rng, type StepContext } from '@tagi/tensor-core';
import { AdapterSet } from './adapter-set.js';
import { type LoraConfig, loraConfig as makeLoraConfig } from './config.js';

/** The part of a seq2seq model (T5ForConditionalGeneration) teacher training uses. */
export interface Seq2SeqModel extends Module {
  forward(args: { inputIds: tf.Tensor2D; attentionMask?: tf.Tensor2D; labels?: tf.Tensor2D; adapters?: DeltaMap; rng?: Rng }): {
    logits: tf.Tensor3D;
    loss?: tf.Scalar;
    encoderLastHiddenState: tf.Tensor3D;
  };
}

/** What tokenises records (T5Tokenizer fits): `encode` appends eos, as HF's T5 tokenizer does. */
export interface RecordTokenizer {
  readonly padTokenId: number;
  encode(text: string, opts?: { maxLength?: number }): number[];
}

/** One tokenised example: source ids and target ids (both ending in eos). */
export interface TokenizedExample {
  input: readonly number[];
  target: readonly number[];
}

export class TeacherTrainingError extends Error {
  override readonly name = 'TeacherTrainingError';
}

/** Tokenises `{ input, output }` records; a record of another shape is an error naming its index. */
export function tokenizeRecords(
  records: readonly { input: string; output: string }[],
  tok: RecordTokenizer,
  opts: { maxSourceLength?: number; maxTargetLength?: number; what?: string } = {},
): TokenizedExample[] {
  return records.map((r, i) => {
    if (typeof r.input !== 'string' || typeof r.output !== 'string')
      throw new TeacherTrainingError(`${opts.what ?? 'records'}.${i}: expected { input: string, output: string }`);
    return { input: tok.encode(r.input, { maxLength: opts.maxSourceLength }), target: tok.encode(r.output, { maxLength: opts.maxTargetLength }) };
  });
}

/** A collated batch: right-padded int32 tensors and its token counts (padding excluded). */
export interface Seq2SeqBatch {
  readonly inputIds: tf.Tensor2D; // [batch, srcLen]
  readonly attentionMask: tf.Tensor2D; // [batch, srcLen]
  readonly labels: tf.Tensor2D; // [batch, tgtLen], -100 = not scored
  /** Target tokens (labels ≠ -100): the weight of this batch's mean loss. */
  readonly tokens: number;
  /** Source tokens (attention mask 1). */
  readonly inputTokens: number;
}

/**
 * The tokens a batch makes the model process, source + target: what a throughput figure counts, for every
 * objective (the hypernetwork's too), so "tok/s" means the same in every stage.
 */
export function processedTokens(b: Pick<Seq2SeqBatch, 'tokens' | 'inputTokens'>): number {
  return b.inputTokens + b.tokens;
}

/** Right-padded int32 batch: pad id for inputs, -100 for labels. */
export function collate(examples: readonly TokenizedExample[], padId: number): Seq2SeqBatch {
  const sLen = Math.max(...examples.map((e) => e.input.length));
  const tLen = Math.max(...examples.map((e) => e.target.length));
  const ids = new Int32Array(examples.length * sLen).fill(padId);
  const mask = new Int32Array(examples.length * sLen);
  const labels = new Int32Array(examples.length * tLen).fill(-100);
  let tokens = 0;
  let inputTokens = 0;
  examples.forEach((e, b) => {
    e.input.forEach((t, j) => {
      ids[b * sLen + j] = t;
      mask[b * sLen + j] = 1;
    });
    e.target.forEach((t, j) => {
      labels[b * tLen + j] = t;
    });
    tokens += e.target.length;
    inputTokens += e.input.length;
  });
  return {
    inputIds: tf.tensor2d(ids, [examples.length, sLen], 'int32'),
    attentionMask: tf.tensor2d(mask, [examples.length, sLen], 'int32'),
    labels: tf.tensor2d(labels, [examples.length, tLen], 'int32'),
    tokens,
    inputTokens,
  };
}

export function disposeBatch(b: Seq2SeqBatch): void {
  tf.dispose([b.inputIds, b.attentionMask, b.labels]);
}

/**
 * The examples of a batch in consecutive parts of at most `size`, each collated on its own (shorter padding)
 * and weighted by its share of the batch's scored target tokens, so Σ weight·loss(part) = loss(batch) for a
 * token-mean loss: tensor-core `fit`'s `split` for `microBatchSize`. A batch scoring no token shares by rows.
 * `start`/`rows` locate each part (for per-row extras such as a bank's groups).
 */
export function splitExamples(
  examples: readonly TokenizedExample[],
  padId: number,
  size: number,
): (BatchPart<Seq2SeqBatch> & { readonly start: number; readonly rows: number })[] {
  if (!Number.isInteger(size) || size < 1) throw new TeacherTrainingError(`microBatchSize must be an integer >= 1, got ${size}`);
  const scored = (e: TokenizedExample) => e.target.length;
  const total = examples.reduce((n, e) => n + scored(e), 0);
  const parts: (BatchPart<Seq2SeqBatch> & { start: number; rows: number })[] = [];
  for (let start = 0; start < examples.length; start += size) {
    const rows = examples.slice(start, start + size);
    const tokens = rows.reduce((n, e) => n + scored(e), 0);
    parts.push({ batch: collate(rows, padId), weight: total > 0 ? tokens / total : rows.length / examples.length, start, rows: rows.length });
  }
  return parts;
}

/** Token-weighted mean loss of `model` + `adapter` over `examples` (eval mode, no dropout). */
export function evalLoss(model: Seq2SeqModel, adapter: AdapterSet | undefined, examples: readonly TokenizedExample[], padId: number, batchSize = 8): number {
  const was = model.training;
  model.eval();
  let sum = 0;
  let count = 0;
  try {
    for (let i = 0; i < examples.length; i += batchSize) {
      const b = collate(examples.slice(i, i + batchSize), padId);
      const l = tf.tidy(
        () =>
          (
            model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: adapter?.deltas }).loss as tf.Scalar
          ).dataSync()[0] as number,
      );
      disposeBatch(b);
      sum += l * b.tokens;
      count += b.tokens;
    }
  } finally {
    model.train(was);
  }
  return count === 0 ? Number.NaN : sum / count;
}

export interface LoraObjectiveOptions {
  /** The frozen base (its weights are never parameters of the objective). Put it in train mode for dropout. */
  readonly model: Seq2SeqModel;
  readonly examples: readonly TokenizedExample[];
  readonly padId: number;
  /** The adapter to create (default: `loraConfig()`, peft's defaults: r 8, alpha 8, dropout 0 on T5's q, v). Ignored when `adapter` is given. */
  readonly config?: LoraConfig;
  /** Train this trainable adapter (e.g. `loadAdapter(dir, { trainable: true })`) instead of a fresh one. */
  readonly adapter?: AdapterSet;
  /** Examples per micro-batch (default 8). */
  readonly batchSize?: number;
  /** Micro-batches per optimiser update, as given to `fit` (default 1): the data order counts micro-batches. */
  readonly gradAccum?: number;
  /** Seed of the adapter's initialisation, the example order and the dropout masks (default 0). */
  readonly seed?: number;
}

/** The objective plus the adapter it trains (the caller owns the adapter: save it, then dispose it). */
export interface LoraObjective extends Objective<Seq2SeqBatch> {
  readonly adapter: AdapterSet;
  /** Optimiser updates per pass over the examples. */
  readonly stepsPerEpoch: number;
}

/**
 * A LoRA on a frozen seq2seq model as an objective for `fit` (`fit({ ...objective, name, optimizer,
 * steps, gradAccum })`). Micro-batch m of update s is batch number s·gradAccum + m of an endless
 * sequence of epochs; the example order of epoch e depends only on (seed, e) and the dropout masks of a
 * micro-batch only on (seed, s, m), so a resumed run sees exactly what an uninterrupted one saw.
 */
export function loraObjective(o: LoraObjectiveOptions): LoraObjective {
  const batchSize = o.batchSize ?? 8;
  const gradAccum = o.gradAccum ?? 1;
  for (const [k, v] of [
    ['batchSize', batchSize],
    ['gradAccum', gradAccum],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new TeacherTrainingError(`loraObjective: ${k} must be a positive integer, got ${v}`);
  }
  if (o.examples.length === 0) throw new TeacherTrainingError('loraObjective: no training examples');
  const seed = o.seed ?? 0;
  const adapter = o.adapter ?? AdapterSet.create(o.model, o.config ?? makeLoraConfig(), { rng: new Rng(seed).fork('lora-init') });
  const microPerEpoch = Math.ceil(o.examples.length / batchSize);
  const orders = new Map<number, number[]>(); // epoch → example order (a few epochs are live at a time)
  const orderOf = (epoch: number): number[] => {
    let order = orders.get(epoch);
    if (order === undefined) {
      order = new Rng(seed).fork(`epoch-${epoch}`).shuffle(Array.from({ length: o.examples.length }, (_, i) => i));
      if (orders.size > 4) orders.delete(orders.keys().next().value as number);
      orders.set(epoch, order);
    }
    return order;
  };
  // a part of a split micro-batch draws its own masks (ctx.part); an unsplit one draws what it always did
  const dropoutRng = (ctx: StepContext) => {
    const micro = new Rng(seed).fork(`step-${ctx.step}`).fork(`micro-${ctx.micro}`);
    return ctx.part === undefined ? micro : micro.fork(`part-${ctx.part}`);
  };
  const examplesOf = new WeakMap<Seq2SeqBatch, readonly TokenizedExample[]>(); // for split
  return {
    adapter,
    stepsPerEpoch: Math.max(1, Math.floor(microPerEpoch / gradAccum)),
    params: adapter.namedVariables(),
    batch(ctx) {
      const global = ctx.step * gradAccum + ctx.micro;
      const start = (global % microPerEpoch) * batchSize;
      const rows = orderOf(Math.floor(global / microPerEpoch))
        .slice(start, start + batchSize)
        .map((i) => o.examples[i] as TokenizedExample);
      const b = collate(rows, o.padId);
      examplesOf.set(b, rows);
      return b;
    },
    loss(b, ctx) {
      const rng = dropoutRng(ctx);
      const deltas = adapter.deltasForForward(o.model.training, b.inputIds.shape[0], rng.fork('lora'));
      const out = o.model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: deltas, rng: rng.fork('model') });
      return { loss: out.loss as tf.Scalar };
    },
    tokens: processedTokens,
    release: disposeBatch,
    split: (b, size) => splitExamples(examplesOf.get(b) as readonly TokenizedExample[], o.padId, size),
  };
}
