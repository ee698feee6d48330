// The embedded-suite pipeline shared by the end-to-end test and experiments/embedded.ts: tokenised TAGI
// examples over a pruned T5 vocabulary, a tiny random T5, and stage-1 LoRA teachers (@tagi/lora's
// trainLoraTeacher). Metrics are @tagi/eval's (experiments/embedded.ts imports them).
import * as tf from '@tensorflow/tfjs-core';
import { type EmbeddedSuite, type EmbeddedTask, PROMPT_SETTINGS, embeddedSuite, suiteTexts, tagiExamples } from '@tagi/datasets';
import { type AdapterSet, loraConfig } from '@tagi/lora';
import { trainLoraTeacher } from '@tagi/lora/node';
import { PrunedTokenizer, type T5ForConditionalGeneration, buildVocabMap, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { loadDefaultT5Tokenizer } from '@tagi/t5-model/node';
import { AdamW, type StepContext, Rng, fit } from '@tagi/tensor-core';
import type { FinetuneExample, FinetuneTask } from '../training.js';
import { padIds, padLabels } from '../batching.js';

export interface PreparedTask extends FinetuneTask {
  readonly task: EmbeddedTask;
  readonly examples: readonly (FinetuneExample & { readonly outputs: readonly string[] })[];
}

export interface PreparedSuite {
  readonly suite: EmbeddedSuite;
  readonly tokenizer: PrunedTokenizer;
  readonly train: PreparedTask[];
  readonly heldOut: PreparedTask[];
  /** Pretraining documents (ids without eos): definitions, demonstrations and instances of the train tasks. */
  readonly documents: number[][];
}

export interface PrepareOptions {
  readonly seed?: number;
  /** Use only the first n train tasks (default all). */
  readonly trainTasks?: number;
  readonly heldOutTasks?: number;
  readonly trainInstances?: number;
  readonly heldOutInstances?: number;
  /** Demonstrations in the instruction (Def+2Pos default, as TAGI). */
  readonly numPositive?: number;
}

/** Every task is tokenised with the real T5 tokenizer, mapped to a vocabulary pruned to the suite. */
export function prepareEmbedded(o: PrepareOptions = {}): PreparedSuite {
  const suite = embeddedSuite({ seed: o.seed ?? 0, trainInstances: o.trainInstances ?? 24, heldOutInstances: o.heldOutInstances ?? 12 });
  const full = loadDefaultT5Tokenizer();
  const pick = (tasks: readonly EmbeddedTask[], n: number | undefined) => {
    if (n === undefined || n >= tasks.length) return [...tasks];
    // spread over categories: every k-th task
    const step = tasks.length / n;
    return Array.from({ length: n }, (_, i) => tasks[Math.floor(i * step)] as EmbeddedTask);
  };
  const train = pick(suite.train, o.trainTasks);
  const heldOut = pick(suite.heldOut, o.heldOutTasks);
  const setting = { ...PROMPT_SETTINGS['Def+2Pos'], numPositive: o.numPositive ?? 2 };
  const raw = [...train, ...heldOut].map((task) => ({ task, ex: tagiExamples(task, setting) }));
  const texts: string[] = [...suiteTexts({ tasks: [...train, ...heldOut] })];
  for (const { ex } of raw) for (const e of ex) texts.push(e.instruction, e.concatenated, e.studentInput);
  const vocab = buildVocabMap(
    texts.map((t) => full.encode(t)),
    { originalVocabSize: 32128 },
  );
  const tokenizer = new PrunedTokenizer(full, vocab);
  const prepared = raw.map(({ task, ex }) => {
    const first = ex[0];
    const instructionIds = tokenizer.encode(first ? first.instruction : (task.definition[0] ?? ''), { maxLength: 256 });
    return {
      task,
      taskId: task.taskId,
      instructionIds,
      examples: ex.map((e) => ({
        id: e.instanceId,
        inputIds: tokenizer.encode(e.studentInput, { maxLength: 64 }),
        labelIds: tokenizer.encode(e.outputs[0] ?? '', { maxLength: 16 }),
        teacherInputIds: tokenizer.encode(e.concatenated, { maxLength: 320 }),
        outputs: e.outputs,
      })),
    } satisfies PreparedTask;
  });
  const documents = train.map((task) => tokenizer.encode([...suiteTexts({ tasks: [task] })].join(' '), { addSpecialTokens: false }));
  return { suite, tokenizer, train: prepared.slice(0, train.length), heldOut: prepared.slice(train.length), documents };
}

/** A tiny random T5 (v1.1 layout: gated-gelu, untied) over the pruned vocabulary; frozen. */
export function tinyBase(vocabSize: number, seed = 0, size: 'test' | 'small' = 'test'): T5ForConditionalGeneration {
  const dims =
    size === 'test'
      ? { dModel: 32, dKv: 8, numHeads: 4, dFf: 64, numLayers: 2, numDecoderLayers: 2 }
      : { dModel: 64, dKv: 16, numHeads: 4, dFf: 128, numLayers: 2, numDecoderLayers: 2 };
  const model = createRandomT5(
    makeT5Config({
      vocabSize,
      ...dims,
      relativeAttentionNumBuckets: 16,
      relativeAttentionMaxDistance: 64,
      feedForwardProj: 'gated-gelu',
      tieWordEmbeddings: false,
      dropoutRate: 0,
    }),
    seed,
  );
  model.eval();
  model.setTrainable(false);
  return model;
}

export interface LoraTrainOptions {
  readonly rank: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed?: number;
  /** Which input the model reads: the bare instance input (task teacher) or the concatenated prompt (multitask teacher). */
  readonly input: 'student' | 'concat';
}

/** Stage 1 through @tagi/lora's `trainLoraTeacher` (AdamW on the LoRA factors only, base frozen): q, v of every attention. */
export async function trainLora(
  base: T5ForConditionalGeneration,
  tasks: readonly FinetuneTask[],
  o: LoraTrainOptions,
): Promise<{ adapter: AdapterSet; losses: number[] }> {
  const examples = tasks
    .flatMap((t) => t.examples)
    .map((e) => ({ input: o.input === 'concat' ? (e.teacherInputIds as readonly number[]) : e.inputIds, target: e.labelIds }));
  const res = await trainLoraTeacher({
    model: base,
    examples,
    loraConfig: loraConfig({ r: o.rank, loraAlpha: o.rank, targetModules: ['q', 'v'] }),
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    weightDecay: 0,
    seed: o.seed ?? 0,
  });
  return { adapter: res.adapter, losses: res.log.map((l: { loss: number }) => l.loss) };
}

/**
 * Stage 0 of the experiment (not part of TAGI): a short full-parameter prefix-LM training of the random
 * base on the suite's documents (span b → the following span c), so that the frozen base "knows the
 * language" of the suite, as T5-LM-adapt does for English, without ever seeing a task's instruction
 * or input/output pairs. The base is frozen again afterwards.
 */
export async function pretrainBaseLm(
  base: T5ForConditionalGeneration,
  documents: readonly (readonly number[])[],
  o: { steps: number; batchSize: number; lr: number; seed?: number },
): Promise<number[]> {
  base.setTrainable(true);
  const params = new Map(base.namedParameters());
  const optimizer = new AdamW(params, { lr: o.lr, weightDecay: 0 });
  const eos = base.config.eosTokenId;
  const losses: number[] = [];
  // span b → the following span c of a random document, drawn from (seed, step)
  const batch = ({ step }: StepContext) => {
    const rng = new Rng(o.seed ?? 0).fork(`base-lm-${step}`);
    const src: number[][] = [];
    const tgt: number[][] = [];
    while (src.length < o.batchSize) {
      const d = documents[Math.floor(rng.next() * documents.length)] as readonly number[];
      if (d.length < 8) continue;
      const lb = 8 + Math.floor(rng.next() * 24);
      const lc = 4 + Math.floor(rng.next() * 8);
      const len = Math.min(d.length, lb + lc);
      const start = Math.floor(rng.next() * (d.length - len + 1));
      const cut = start + Math.max(1, Math.floor((len * lb) / (lb + lc)));
      src.push([...d.slice(start, cut), eos]);
      tgt.push([...d.slice(cut, start + len), eos]);
    }
    return { x: padIds(src, base.config.padTokenId), labels: padLabels(tgt) };
  };
  try {
    await fit({
      name: 'base-lm',
      params,
      optimizer,
      steps: o.steps,
      batch,
      loss: (b) => ({ loss: base.forward({ inputIds: b.x.ids, attentionMask: b.x.mask, labels: b.labels }).loss as tf.Scalar }),
      release: (b) => tf.dispose([b.x.ids, b.x.mask, b.labels]),
      onStep: (r) => void losses.push(r.loss),
    });
  } finally {
    optimizer.dispose();
    base.setTrainable(false);
  }
  return losses;
}
