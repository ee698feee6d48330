// Stage (a): the base T5. With --model it is loaded and frozen. Without one, a small random T5 on the
// suite's pruned vocabulary is pretrained briefly and frozen; its objective ('mixed', the default):
// half of each batch is T5 span corruption over the suite's texts (definitions, examples, inputs,
// outputs) — language modelling that teaches the words and formats — and half is multitask training on
// training-task instances WITHOUT their instructions (input → output). The base thus knows the
// vocabulary and the output formats but has never been told which rule an instruction asks for, like an
// LM-adapted T5 that has never been instruction-tuned; following instructions is what stages (b)–(e) add.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@tagi/tensor-core';
import { type T5ForConditionalGeneration, PrunedTokenizer, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { loadT5, saveT5 } from '@tagi/t5-model/node';
import { type RunContext, train } from '../run.js';
import type { IdPair } from './batches.js';
import { spanCorruption } from './batches.js';
import { lossTrainable } from './common.js';
import { SENTINELS, type TaskData, type Tok } from './data.js';
import { makeOptimizer } from './optim.js';

export const BASE_DIR = 'base-model';

function sentinelIds(tok: Tok): number[] {
  const out: number[] = [];
  for (let k = 0; k < SENTINELS; k++) {
    const original = 32099 - k;
    out.push(tok instanceof PrunedTokenizer ? (tok.map.toCompact([original])[0] as number) : original);
  }
  return out;
}

export async function baseStage(ctx: RunContext, data: TaskData, tok: Tok, done: boolean): Promise<{ model: T5ForConditionalGeneration; dir: string; summary: Record<string, number> }> {
  const c = ctx.config;
  if (c.model !== undefined) {
    const model = await loadT5(c.model);
    model.freezeBase();
    return { model, dir: c.model, summary: {} };
  }
  const dir = path.join(ctx.runDir, BASE_DIR);
  if (done) {
    const model = await loadT5(dir);
    model.freezeBase();
    return { model, dir, summary: {} };
  }
  const b = c.base;
  const config = makeT5Config({
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
  });
  const model = createRandomT5(config, c.seed);
  const params = new Map(model.namedParameters());
  const optim = makeOptimizer(params, b.train, c.optim);
  const maxSrc = c.prompt.maxSourceLength;
  const maxTgt = c.prompt.maxTargetLength;
  // corpora, tokenised once
  const texts = data.texts.map((t) => tok.encode(t, { addSpecialTokens: false })).filter((ids) => ids.length >= 2);
  const tasks = data.trainExamples.map((e) => ({ src: tok.encode(e.studentInput, { maxLength: maxSrc }), tgt: tok.encode(e.outputs[0] ?? '', { maxLength: maxTgt }) }));
  const sentinels = sentinelIds(tok);
  const root = new Rng(c.seed).fork('base');
  const pick = (rng: Rng): IdPair => {
    const useTask = b.objective === 'multitask' || (b.objective === 'mixed' && rng.next() < 0.5);
    if (useTask) return tasks[Math.floor(rng.next() * tasks.length)] as IdPair;
    const ids = texts[Math.floor(rng.next() * texts.length)] as number[];
    const p = spanCorruption(ids.slice(0, maxSrc - 1), rng, sentinels, tok.eosTokenId);
    return { src: p.src, tgt: p.tgt.slice(0, maxTgt) };
  };
  model.train();
  const trainable = lossTrainable({
    stage: 'base',
    totalSteps: b.train.steps,
    params,
    optim,
    padId: tok.padTokenId,
    batch: (step) => {
      const rng = root.fork(`step-${step}`);
      return Array.from({ length: b.train.batchSize }, () => pick(rng));
    },
    loss: (batch, step) => {
      const out = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels: batch.labels, rng: root.fork(`dropout-${step}`) });
      tf.dispose([out.logits, out.encoderLastHiddenState]);
      return out.loss as tf.Scalar;
    },
  });
  const last = await train(ctx, trainable);
  model.eval();
  await saveT5(model, dir, tok instanceof PrunedTokenizer ? { vocabMap: tok.map } : {});
  model.freezeBase();
  return { model, dir, summary: { finalLoss: Number((last?.losses['loss'] ?? Number.NaN).toPrecision(4)), params: [...params.values()].reduce((s, p) => s + p.size, 0) } };
}
