// Stage (a): a small base T5 pretrained from scratch (without --model), then frozen. Objective 'analysis'
// (the default): half of each batch is T5 span corruption over the data's pretraining text (the embedded
// suite's word facts, training definitions and training inputs) — language modelling that teaches the
// words — and half is the data's instruction-free pretraining pairs (training input → a fixed function of
// it: the input itself, or its word-by-word analysis: position, word, category, opposite). Span corruption
// alone never asks a model to reproduce a word it can see, so a base pretrained on text alone has no copy
// or position skill for LoRA to route (measured in the README: frozen base + single-task LoRA, "the second
// word" 10% → 90% and "the word after the first person" 8% → 56% on new instances). The pairs' target
// is the same function for every input, so the base still follows no instruction: like an LM-adapted T5,
// it knows the words and how to read and copy them, not which one an instruction asks for — that is what
// the later stages add and what the no-adapter row measures. 'mixed' (the previous default) replaces the
// pairs by input → output of training instances without their instructions.
import type * as tf from '@tensorflow/tfjs-core';
import { type Objective, Rng } from '@tagi/tensor-core';
import { type Seq2SeqBatch, type TokenizedExample, collate, disposeBatch, processedTokens, splitExamples } from '@tagi/lora';
import { type T5ForConditionalGeneration, PrunedTokenizer, checkIdRows, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { InstructionInputs, type Task } from '@tagi/datasets';
import type { TagiConfig } from '../config/config.js';
import { SENTINELS, type TaskData, type Tok } from '../data/tasks.js';
import { CliError } from '../common/errors.js';
import { loadBaseModel } from '../data/models.js';
import type { Run } from '../run/run.js';
import { trainStage } from '../run/train.js';
import { type IdPair, spanCorruption } from './batches.js';

export const BASE_DIR = 'base-model';
/** Longest target of a pretraining pair or span-corruption example (an analysis of a 6-word input is 25 tokens with eos); independent of the tasks' short answers. */
const BASE_PAIR_TARGET_TOKENS = 48;

function sentinelIds(tok: Tok): number[] {
  const out: number[] = [];
  for (let k = 0; k < SENTINELS; k++) {
    const original = 32099 - k;
    out.push(tok instanceof PrunedTokenizer ? (tok.map.toCompact([original])[0] as number) : original);
  }
  return out;
}

/** The base pretraining objective over every parameter of `model`: a batch is a pure function of (seed, step). */
export function baseObjective(model: T5ForConditionalGeneration, c: TagiConfig, data: TaskData, tok: Tok): Objective<Seq2SeqBatch> {
  const b = c.base;
  const maxSrc = c.prompt.maxSourceLength;
  const maxTgt = c.prompt.maxTargetLength;
  // corpora, tokenised once
  const texts = data.pretrainingText.map((t) => tok.encode(t, { addSpecialTokens: false })).filter((ids) => ids.length >= 2);
  const inputs = new InstructionInputs(tok, c.prompt);
  const tasks =
    b.objective === 'mixed' || b.objective === 'multitask'
      ? data.trainExamples.map((e) => ({
          src: inputs.studentInputIds(data.byId.get(e.taskId) as Task, e.studentInput),
          tgt: tok.encode(e.outputs[0] ?? '', { maxLength: maxTgt }),
        }))
      : b.objective === 'analysis'
        ? data.pretrainingPairs.map((p) => ({
            src: tok.encode(p.input, { maxLength: maxSrc }),
            tgt: tok.encode(p.target, { maxLength: BASE_PAIR_TARGET_TOKENS }),
          }))
        : [];
  if (b.objective === 'analysis' && tasks.length === 0) {
    throw new CliError(
      `base.objective=analysis needs the data's instruction-free pretraining pairs, and --data=${c.data} has none; use --base.objective=denoise (or mixed), or give a pretrained --model`,
    );
  }
  const sentinels = sentinelIds(tok);
  // ids are checked once, here where the batches' rows are made (the model's forward reads nothing back)
  checkIdRows([...texts, ...tasks.map((t) => t.src), ...tasks.map((t) => t.tgt), sentinels], model.config.vocabSize, 'base pretraining ids');
  const root = new Rng(c.seed).fork('base');
  const pick = (rng: Rng): IdPair => {
    const usePair = b.objective === 'multitask' || ((b.objective === 'mixed' || b.objective === 'analysis') && rng.next() < 0.5);
    if (usePair) return tasks[Math.floor(rng.next() * tasks.length)] as IdPair;
    const ids = texts[Math.floor(rng.next() * texts.length)] as number[];
    const p = spanCorruption(ids.slice(0, maxSrc - 1), rng, sentinels, tok.eosTokenId);
    return { src: p.src, tgt: p.tgt.slice(0, BASE_PAIR_TARGET_TOKENS) };
  };
  const examplesOf = new WeakMap<Seq2SeqBatch, TokenizedExample[]>(); // for split (train.microBatchSize)
  return {
    params: new Map(model.namedParameters()),
    batch: ({ step }) => {
      const rng = root.fork(`step-${step}`);
      const examples = Array.from({ length: b.train.batchSize }, () => pick(rng)).map((p) => ({ input: p.src, target: p.tgt }));
      const batch = collate(examples, tok.padTokenId);
      examplesOf.set(batch, examples);
      return batch;
    },
    loss: (batch, { step, part }) => {
      // a part of a split batch draws its own dropout masks; an unsplit one what it always drew
      const dropout = part === undefined ? root.fork(`dropout-${step}`) : root.fork(`dropout-${step}`).fork(`part-${part}`);
      const out = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels: batch.labels, rng: dropout });
      return { loss: out.loss as tf.Scalar };
    },
    tokens: processedTokens,
    release: disposeBatch,
    split: (batch, size) => splitExamples(examplesOf.get(batch) as TokenizedExample[], tok.padTokenId, size),
  };
}

/** Pretrains the small base of the config (or, on resume, reloads it) and returns it frozen. */
export async function pretrainBase(run: Run, data: TaskData, tok: Tok): Promise<{ model: T5ForConditionalGeneration; dir: string }> {
  const c = run.config;
  const dir = run.path(BASE_DIR);
  if (run.isDone('base')) return { model: await loadBaseModel(dir), dir };
  const b = c.base;
  const model = createRandomT5(
    makeT5Config({
      vocabSize: tok.vocabSize,
      dModel: b.dModel,
      dKv: b.dKv,
      numHeads: b.numHeads,
      dFf: b.dFf,
      numLayers: b.numLayers,
      numDecoderLayers: b.numDecoderLayers,
      feedForwardProj: b.feedForwardProj,
      relativeAttentionNumBuckets: b.relativeAttentionNumBuckets,
      relativeAttentionMaxDistance: b.relativeAttentionMaxDistance,
      dropoutRate: b.dropoutRate,
      tieWordEmbeddings: false,
      padTokenId: tok.padTokenId,
      eosTokenId: tok.eosTokenId,
      decoderStartTokenId: tok.padTokenId,
    }),
    c.seed,
  );
  const objective = baseObjective(model, c, data, tok);
  model.train();
  const t = await trainStage(run, 'base', objective, b.train, { model });
  model.eval();
  await saveT5(model, dir, tok instanceof PrunedTokenizer ? { vocabMap: tok.map } : {});
  model.freezeBase();
  const last = t.result.last;
  await run.finishStage('base', {
    outputs: [{ role: 'base-model', kind: 't5', path: BASE_DIR }],
    summary: { ...(last ? { finalLoss: Number(last.loss.toPrecision(4)) } : {}), params: [...objective.params.values()].reduce((s, p) => s + p.size, 0) },
    seconds: t.seconds,
  });
  return { model, dir };
}
