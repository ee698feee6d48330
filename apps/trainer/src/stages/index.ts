// The demo's stages in order, and the state they pass along.
import type { Invocation } from '../main.js';
import type { PipelineStage, StageOutcome } from '../pipeline.js';
import { METHOD_ROWS, type MethodId, type MethodResult } from '../results.js';
import { type TaskData, type Tok, loadTaskData, modelTokenizer, prunedTokenizer } from './data.js';
import { StageUnavailableError } from '../errors.js';
import type { T5ForConditionalGeneration } from '@tagi/t5-model';
import { baseStage } from './base.js';

export interface DemoState {
  readonly backend: string;
  readonly inv: Invocation;
  data?: TaskData;
  tokenizer?: Tok;
  model?: T5ForConditionalGeneration;
  modelDir?: string;
  /** Filled by later stages (model, adapters, hypernets) — typed where they are wired. */
  artefacts: Map<string, unknown>;
  results: Map<MethodId, MethodResult>;
  heldOutTaskCount: number;
  heldOutInstanceCount: number;
  unavailableReason(method: MethodId, outcomes: readonly StageOutcome[]): string;
}

/** Which stage each results row comes from. */
const METHOD_STAGE: Record<MethodId, string[]> = {
  'no-adapter': ['base', 'eval'],
  multitask: ['multitask', 'eval'],
  hint: ['hint', 'eval'],
  tagi: ['tagi', 'eval'],
};

export function newDemoState(backend: string, inv: Invocation): DemoState {
  return {
    backend,
    inv,
    artefacts: new Map(),
    results: new Map(),
    heldOutTaskCount: 0,
    heldOutInstanceCount: 0,
    unavailableReason(method, outcomes) {
      for (const id of METHOD_STAGE[method]) {
        const o = outcomes.find((x) => x.id === id);
        if (o === undefined) return `stage ${id} not run by this command`;
        if (o.status === 'unavailable') return `stage ${id} unavailable: ${o.reason ?? ''}`;
      }
      return 'not evaluated';
    },
  };
}

const notWired = (id: string) => async (): Promise<never> => {
  throw new StageUnavailableError(id, ['its library API (not wired into the trainer in this build)']);
};

export const STAGES: PipelineStage<DemoState>[] = [
  {
    id: 'data',
    title: 'data: embedded task suite, tokenizer',
    requires: { '@tagi/datasets': ['embeddedSuite', 'tagiExamples', 'suiteTexts'], '@tagi/t5-model': ['buildVocabMap', 'PrunedTokenizer'] },
    after: [],
    async run(ctx, s) {
      const data = loadTaskData(ctx);
      s.data = data;
      const fromScratch = ctx.config.model === undefined;
      s.tokenizer = fromScratch && ctx.config.base.pruneVocab ? prunedTokenizer(data) : modelTokenizer(ctx.config.model);
      s.heldOutTaskCount = data.heldOut.length;
      s.heldOutInstanceCount = data.heldOutExamples.length;
      ctx.progress.info(
        `  ${data.train.length} training tasks (${data.trainExamples.length} instances), ${data.heldOut.length} held-out tasks (${data.heldOutExamples.length} instances); vocabulary ${s.tokenizer.vocabSize} ids`,
      );
      return { summary: { trainTasks: data.train.length, heldOutTasks: data.heldOut.length, vocab: s.tokenizer.vocabSize } };
    },
  },
  {
    id: 'base',
    title: '(a) base model',
    requires: { '@tagi/t5-model': ['T5ForConditionalGeneration', 'createRandomT5', 'makeT5Config'] },
    after: ['data'],
    async run(ctx, s, done) {
      const r = await baseStage(ctx, s.data as TaskData, s.tokenizer as Tok, done);
      s.model = r.model;
      s.modelDir = r.dir;
      const c = r.model.config;
      ctx.progress.info(`  base T5: d_model ${c.dModel}, ${c.numLayers}+${c.numDecoderLayers} layers, vocab ${c.vocabSize} (${r.dir}); frozen`);
      return { outputs: { model: r.dir }, summary: r.summary };
    },
  },
  { id: 'teachers', title: '(b) LoRA teachers per category', requires: { '@tagi/lora': ['trainLoraTeacher'] }, after: ['base'], run: notWired('teachers') },
  { id: 'multitask', title: '(c) instruction-concatenated multitask baseline', requires: { '@tagi/lora': ['AdapterSet'] }, after: ['base'], run: notWired('multitask') },
  { id: 'hypernet-pretrain', title: '(d) hypernetwork pretraining (stage 2)', requires: { '@tagi/hypernet': ['pretrainHypernet'] }, after: ['base'], run: notWired('hypernet-pretrain') },
  { id: 'tagi', title: '(e) hypernetwork finetuning: TAGI (CE + KD + alignment)', requires: { '@tagi/hypernet': ['finetuneHypernet'] }, after: ['hypernet-pretrain', 'teachers', 'multitask'], run: notWired('tagi') },
  { id: 'hint', title: '(e) hypernetwork finetuning: CE only (HINT-like)', requires: { '@tagi/hypernet': ['finetuneHypernet'] }, after: ['hypernet-pretrain'], run: notWired('hint') },
  { id: 'eval', title: '(f) evaluation on held-out tasks', requires: { '@tagi/eval': ['computeMetrics'] }, after: ['base'], run: notWired('eval') },
  { id: 'generate', title: 'generate: instruction → peft adapter', requires: { '@tagi/hypernet': ['generateAdapter'] }, after: ['base'], run: notWired('generate') },
];

export { METHOD_ROWS };
